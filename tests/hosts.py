"""Host applications nobody wrote for plugin-scaffold, built the way their authors would.

Each starts from a real ``alembic init`` and differs where real hosts differ: a labelled root
(Rattail) or not (MediaGoblin), an env.py that builds its own engine from ``sqlalchemy.url``, takes
``config.attributes["connection"]`` or wants a session, plain table names, many revisions.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from alembic import command
from alembic.config import Config

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"
    id = sa.Column(sa.Integer, primary_key=True)
    email = sa.Column(sa.String(200), nullable=False)


class Store(Base):
    __tablename__ = "store"
    uuid = sa.Column(sa.String(32), primary_key=True)
    name = sa.Column(sa.String(100), nullable=False)
"""

FIRST = '''
"""accounts and stores"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = None
branch_labels = {labels}
depends_on = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(200), nullable=False),
    )
    op.create_table(
        "store",
        sa.Column("uuid", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
    )


def downgrade():
    op.drop_table("store")
    op.drop_table("accounts")
'''

LATER = '''
"""step {n}"""
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT {n}")


def downgrade():
    op.execute("SELECT -{n}")
'''

CONNECTION_ONLINE = """
def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
"""

SESSION_ONLINE = """
def run_migrations_online() -> None:
    connection = config.attributes["session"].connection()
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
"""


# As Rattail's later revisions do: a table the root created, renamed (here to ``store``).
RENAME = '''
"""rename {old} to {new}"""
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.rename_table("{old}", "{new}")


def downgrade():
    op.rename_table("{new}", "{old}")
'''


def revision_id(n: int) -> str:
    return f"{n:04d}aaaa{n:04d}"


def make_host(
    root: Path,
    *,
    package: str = "acme",
    labelled: bool = True,
    env_style: str = "url",
    revisions: int = 2,
    url: str | None = None,
    store_renamed_at: int | None = None,
) -> Path:
    """Create a host in ``root`` and return its alembic.ini path.

    With ``store_renamed_at``, the root creates ``stores`` and that later revision renames it
    ``store`` (the name the models know), as Rattail's history does.
    """
    root.mkdir(parents=True, exist_ok=True)
    ini = root / "alembic.ini"
    command.init(Config(str(ini)), str(root / "migrations"))
    (root / package).mkdir()
    (root / package / "__init__.py").write_text("")
    (root / package / "models.py").write_text(MODELS)
    text = ini.read_text()
    text = text.replace(
        "sqlalchemy.url = driver://user:pass@localhost/dbname",
        f"sqlalchemy.url = {url or 'sqlite:///%(here)s/host.db'}",
    )
    ini.write_text(text)
    env = root / "migrations" / "env.py"
    source = env.read_text()
    source = source.replace(
        "target_metadata = None",
        f"from {package}.models import Base\ntarget_metadata = Base.metadata",
    )
    if env_style in ("connection", "session"):
        start = source.index("def run_migrations_online")
        end = source.index("if context.is_offline_mode()")
        replacement = CONNECTION_ONLINE if env_style == "connection" else SESSION_ONLINE
        source = source[:start] + textwrap.dedent(replacement).lstrip() + "\n\n" + source[end:]
    env.write_text(source)
    versions = root / "migrations" / "versions"
    labels = '("acme",)' if labelled else "None"
    first = FIRST.format(rev=revision_id(1), labels=labels)
    if store_renamed_at is not None:
        first = first.replace('"store"', '"stores"')
    (versions / f"{revision_id(1)}_first.py").write_text(first)
    for n in range(2, revisions + 1):
        (versions / f"{revision_id(n)}_step.py").write_text(
            RENAME.format(rev=revision_id(n), down=revision_id(n - 1), old="stores", new="store")
            if n == store_renamed_at
            else LATER.format(n=n, rev=revision_id(n), down=revision_id(n - 1))
        )
    return ini


PLUGIN_MODELS = """
import sqlalchemy as sa
from {package}.models import Base

TABLE_PREFIX = "{prefix}"


class StoreExtra(Base):
    __tablename__ = "{prefix}__store_extra"
    store_uuid = sa.Column(sa.String(32), sa.ForeignKey("store.uuid"), primary_key=True)
    rating = sa.Column(sa.Integer, nullable=False, server_default="0")


MODELS = [StoreExtra]
"""


def make_plugin(
    root: Path, name: str, *, host_ini: Path, host_package: str = "acme", prefix: str | None = None
) -> Path:
    """A plugin project written by hand (no initial revision yet) for a host made above."""
    prefix = prefix or name
    (root / "src" / name / "migrations").mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text("")
    (root / "src" / name / "migrations" / "__init__.py").write_text("")
    (root / "src" / name / "models.py").write_text(
        PLUGIN_MODELS.format(package=host_package, prefix=prefix)
    )
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f'''
            [project]
            name = "{name}"
            version = "0.1"

            [project.entry-points."plugin_scaffold.plugins"]
            {name} = "{name}"

            [tool.plugin-scaffold]
            plugin = "{name}"
            host-alembic = "{host_ini}"
            host-base = "{host_package}.models:Base"
            url = "sqlite:///dev.db"
            '''
        )
    )
    return root


PLUGIN_ROOT = '''
"""{name} tables"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = None
branch_labels = ("{name}",)
depends_on = {depends_on!r}


def upgrade():
    op.create_table(
        "{name}__store_extra",
        sa.Column("store_uuid", sa.String(32), primary_key=True),
        sa.Column("rating", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["store_uuid"], ["store.uuid"], name="fk_{name}__store_extra_store_uuid_store"
        ),
    )


def downgrade():
    op.drop_table("{name}__store_extra")
'''


def write_plugin_root(migrations: Path, name: str, *, depends_on: str) -> str:
    """A plugin's initial revision written by hand, its root depending on ``depends_on``.

    It creates the side table of :data:`PLUGIN_MODELS` (a foreign key to ``store.uuid``);
    returns its revision id.
    """
    rev = f"{name}0001"
    (migrations / f"{rev}_{name}_tables.py").write_text(
        PLUGIN_ROOT.format(name=name, rev=rev, depends_on=depends_on)
    )
    return rev


def install_entry_point(site: Path, name: str, package: str) -> None:
    """Announce ``package`` as plugin ``name`` from ``site``, as an installed distribution would.

    ``site`` is a folder to put on PYTHONPATH: importlib.metadata finds the ``*.dist-info``
    there, with its ``plugin_scaffold.plugins`` entry point.
    """
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[plugin_scaffold.plugins]\n{name} = {package}\n")


MG_MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class User(Base):
    __tablename__ = "core__users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.Unicode(64), nullable=False)


class MediaEntry(Base):
    __tablename__ = "core__media_entries"
    id = sa.Column(sa.Integer, primary_key=True)
    uploader = sa.Column(sa.Integer, sa.ForeignKey("core__users.id"), nullable=False)
    title = sa.Column(sa.Unicode(255), nullable=False)


class SubtitleFile(Base):
    __tablename__ = "core__subtitle_files"
    id = sa.Column(sa.Integer, primary_key=True)
    media_entry = sa.Column(sa.Integer, sa.ForeignKey("core__media_entries.id"), nullable=False)


class Privilege(Base):
    __tablename__ = "core__privileges"
    id = sa.Column(sa.Integer, primary_key=True)
    privilege_name = sa.Column(sa.Unicode(64), nullable=False, unique=True)


# As MediaGoblin's mediagoblin/db/models.py: rows laid on a fresh database by `gmg dbupdate`
# after its migrations, not by a revision.
privilege_foundations = [{"privilege_name": name} for name in
                         ("admin", "moderator", "uploader", "reporter", "commenter", "active")]
FOUNDATIONS = {Privilege: privilege_foundations}
"""

# As MediaGoblin 0.15's mediagoblin/gmg_commands/dbupdate.py: run_foundations binds a session to
# db.engine and adds the FOUNDATIONS of the core and of each plugin enabled in the site's config.
MG_DBUPDATE = """
import importlib

from sqlalchemy.orm import sessionmaker


def run_foundations(db, global_config):
    from {package}.db.models import FOUNDATIONS as MAIN_FOUNDATIONS
    all_foundations = [("__main__", MAIN_FOUNDATIONS)]
    Session = sessionmaker(bind=db.engine)
    session = Session()
    for plugin in global_config.get("plugins", {{}}):
        try:
            module = importlib.import_module(plugin + ".models")
            all_foundations.append((plugin, module.FOUNDATIONS))
        except (ImportError, AttributeError):
            continue
    for name, foundations in all_foundations:
        print("Laying foundations for %s:" % name)
        for model, rows in foundations.items():
            for parameters in rows:
                session.add(model(**parameters))
        session.commit()
"""

# As MediaGoblin's mediagoblin/db/migrations/env.py: no engine of its own, a session handed in.
MG_ENV = """
from alembic import context

from {package}.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes["session"].connection()
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

MG_REVISIONS = {
    # an unlabelled root, as MediaGoblin's 52bf0ccbedc1
    "52bf0ccbedc1_initial_revision.py": (
        "52bf0ccbedc1",
        None,
        None,
        """    op.create_table("core__users", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.Unicode(64), nullable=False))
    op.create_table("core__media_entries", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uploader", sa.Integer(), sa.ForeignKey("core__users.id"), nullable=False),
        sa.Column("title", sa.Unicode(255), nullable=False))
    op.create_table("core__privileges", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("privilege_name", sa.Unicode(64), nullable=False),
        sa.UniqueConstraint("privilege_name"))""",
        """    op.drop_table("core__privileges")
    op.drop_table("core__media_entries")
    op.drop_table("core__users")""",
    ),
    "228916769bd2_core_step.py": ("228916769bd2", "52bf0ccbedc1", None, "    pass", "    pass"),
    # two heads: a core one, and a plugin's revision kept in the core folder
    "cc3651803714_core_head.py": ("cc3651803714", "228916769bd2", None, "    pass", "    pass"),
    "afd3d1da5e29_subtitle_plugin.py": (
        "afd3d1da5e29",
        "228916769bd2",
        ("subtitles_plugin",),
        """    op.create_table("core__subtitle_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_entry", sa.Integer(), sa.ForeignKey("core__media_entries.id"),
                  nullable=False))""",
        """    op.drop_table("core__subtitle_files")""",
    ),
}


def make_mediagoblin_host(root: Path, package: str = "mgoblin") -> Path:
    """A host built to MediaGoblin's conventions; returns the folder to put on sys.path.

    Its Alembic environment is the package resource ``<package>.db:migrations`` with an
    alembic.ini beside env.py (``script_location = %(here)s``), env.py wants a session in
    ``config.attributes``, the root is unlabelled and there are two heads.
    """
    migrations = root / package / "db" / "migrations"
    (migrations / "versions").mkdir(parents=True)
    commands = root / package / "gmg_commands"
    commands.mkdir()
    for folder in (root / package, root / package / "db", migrations, commands):
        (folder / "__init__.py").write_text("")
    (root / package / "db" / "models.py").write_text(MG_MODELS)
    (commands / "dbupdate.py").write_text(MG_DBUPDATE.format(package=package))
    (migrations / "env.py").write_text(MG_ENV.format(package=package))
    (migrations / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    mako = Path(command.__file__).parent / "templates" / "generic" / "script.py.mako"
    (migrations / "script.py.mako").write_text(mako.read_text())
    for name, (rev, down, labels, up, down_body) in MG_REVISIONS.items():
        (migrations / "versions" / name).write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n"
            f"depends_on = None\n\n\ndef upgrade():\n{up}\n\n\ndef downgrade():\n{down_body}\n"
        )
    return root


# An enabled media type's branch, kept in its own package as MediaGoblin's media types do.
MG_IMAGE_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "a98c1a320e88"
down_revision = None
branch_labels = ("image_media_type",)
depends_on = "52bf0ccbedc1"


def upgrade():
    op.create_table(
        "image__mediafiles",
        sa.Column("media_entry", sa.Integer(), sa.ForeignKey("core__media_entries.id"),
                  primary_key=True),
        sa.Column("width", sa.Integer()),
    )


def downgrade():
    op.drop_table("image__mediafiles")
"""

# As MediaGoblin's build_alembic_config: the core folder plus each enabled media type's and
# plugin's migrations folder, read from the site's own config file.
MG_CONFIG = """
import configparser
import importlib
import os

from alembic.config import Config


def build_alembic_config(config_file):
    site = configparser.ConfigParser()
    site.read(config_file)
    cfg = Config()
    cfg.set_main_option("script_location", "{package}.db:migrations")
    here = os.path.dirname(__file__)
    locations = [os.path.join(here, "migrations", "versions")]
    for name in site.get("mediagoblin", "media_types", fallback="").split():
        module = importlib.import_module(name)
        locations.append(os.path.join(os.path.dirname(module.__file__), "migrations"))
    for name in site.get("mediagoblin", "plugins", fallback="").split():
        module = importlib.import_module(name)
        folder = os.path.join(os.path.dirname(module.__file__), "migrations")
        if os.path.isdir(folder):
            locations.append(folder)
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("sqlalchemy.url", site.get("mediagoblin", "sql_engine"))
    return cfg
"""


def make_mediagoblin_site(root: Path, package: str = "mgoblin", plugins: str = "") -> Path:
    """A MediaGoblin-style host whose Alembic config is built in code from the site's config
    file, with the image media type enabled (a branch outside the core folder); returns the
    site's config file."""
    make_mediagoblin_host(root, package)
    image = root / package / "media_types" / "image"
    (image / "migrations").mkdir(parents=True)
    for folder in (root / package / "media_types", image, image / "migrations"):
        (folder / "__init__.py").write_text("")
    (image / "migrations" / "a98c1a320e88_image_tables.py").write_text(MG_IMAGE_REVISION)
    (root / package / "db" / "config.py").write_text(MG_CONFIG.replace("{package}", package))
    site = root / "site.ini"
    site.write_text(
        "[mediagoblin]\n"
        f"sql_engine = sqlite:///{root / 'site.db'}\n"
        f"media_types = {package}.media_types.image\n"
        f"plugins = {plugins}\n"
    )
    return site


# MediaGoblin 0.15's own API, as plugin_scaffold.hosts.mediagoblin calls it: the site's config
# file read into a dict of sections ([plugins] holds a [[name]] subsection per enabled plugin),
# and build_alembic_config making its Config from the alembic.ini beside env.py.
MG015_SITE_CONFIG = """
import re


def read_mediagoblin_config(config_path):
    config, section, current = {}, None, None
    with open(config_path) as stream:
        for line in stream:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            sub = re.fullmatch(r"\\[\\[(.+)\\]\\]", line)
            top = re.fullmatch(r"\\[(.+)\\]", line)
            if sub:
                current = config[section].setdefault(sub.group(1), {})
            elif top:
                section = top.group(1)
                current = config.setdefault(section, {})
            else:
                key, _, value = line.partition("=")
                current[key.strip()] = value.strip()
    return config, True


def generate_validation_report(config, validation_result):
    if "sql_engine" not in config.get("mediagoblin", {}):
        return "problems in this config file:\\n---\\n  [mediagoblin] sql_engine = missing"
    return None
"""

MG015_MIGRATION_TOOLS = """
import importlib
import os

from alembic.config import Config


def build_alembic_config(global_config, cmd_options, session):
    alembic_dir = os.path.join(os.path.dirname(__file__), "migrations")
    cfg = Config(os.path.join(alembic_dir, "alembic.ini"), cmd_opts=cmd_options)
    cfg.attributes["session"] = session
    version_locations = [os.path.join(alembic_dir, "versions")]
    cfg.set_main_option("sqlalchemy.url", str(session.get_bind().url))
    for plugin in global_config.get("plugins", []):
        module = importlib.import_module(plugin)
        folder = os.path.join(os.path.dirname(module.__file__), "migrations")
        if os.path.isdir(folder):
            version_locations.append(folder)
    cfg.set_main_option("version_locations", " ".join(version_locations))
    return cfg
"""


def make_mediagoblin_015(root: Path) -> Path:
    """A stand-in for MediaGoblin 0.15 as ``plugin_scaffold.hosts.mediagoblin`` uses it: the
    MediaGoblin-style host above, as the package ``mediagoblin``, with ``read_mediagoblin_config``,
    ``build_alembic_config`` and ``run_foundations`` (its default privileges) where MediaGoblin
    has them, and the image media type enabled in the site's mediagoblin.ini; returns that file."""
    make_mediagoblin_host(root, "mediagoblin")
    package = root / "mediagoblin"
    (package / "init").mkdir()
    (package / "init" / "__init__.py").write_text("")
    (package / "init" / "config.py").write_text(MG015_SITE_CONFIG)
    (package / "db" / "migration_tools.py").write_text(MG015_MIGRATION_TOOLS)
    # MediaGoblin declares its Base in mediagoblin.db.base
    (package / "db" / "base.py").write_text("from .models import Base  # noqa: F401\n")
    image = package / "media_types" / "image"
    (image / "migrations").mkdir(parents=True)
    for folder in (package / "media_types", image):
        (folder / "__init__.py").write_text("")
    (image / "migrations" / "a98c1a320e88_image_tables.py").write_text(MG_IMAGE_REVISION)
    site = root / "mediagoblin.ini"
    site.write_text(
        "[mediagoblin]\n"
        f"sql_engine = sqlite:///{root / 'mediagoblin.db'}\n"
        "\n[plugins]\n[[mediagoblin.media_types.image]]\n"
    )
    return site
