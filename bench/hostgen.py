"""The benchmark's host: a core chain and many plugin branches, each plugin in its own package.

What a real host with many installed plugins looks like to Alembic: a declarative Base with a few
``core__`` tables and a short labelled core chain; per plugin, a package with ``models.py`` (one
``<plugin>__items`` table) and a ``migrations`` package holding its revisions, the first labelled
with the plugin's name and depending on the core head; an ``alembic.ini`` whose version_locations
lists the host's versions and every plugin folder (``path_separator = os``), and an ``env.py``
importing every plugin's models, as ``scaffold wire`` writes them.

The same generator makes a host with another plugin system (``Layout(wired=False)``): the
branches are in version_locations and env.py imports their models, but nothing marks them as
scaffold plugins, so to scaffold they are host branches; their roots may depend on the core's
label rather than its head (``depends_on``), and the core chain may be as short as the label's
own revision (``core_revisions=1``), so that a head depends on a head.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

CORE_REVISIONS = 5

HOST_MODELS = '''\
"""Core tables of the benchmark host (MediaGoblin style: core__ prefix, naming convention)."""

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
Base = declarative_base(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


class User(Base):
    __tablename__ = "core__users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(50), nullable=False, unique=True)
    email = sa.Column(sa.String(200), nullable=False)
    bio = sa.Column(sa.Text)


class MediaEntry(Base):
    __tablename__ = "core__media_entries"
    id = sa.Column(sa.Integer, primary_key=True)
    uploader = sa.Column(sa.Integer, sa.ForeignKey("core__users.id"), nullable=False, index=True)
    title = sa.Column(sa.String(200), nullable=False)


class Comment(Base):
    __tablename__ = "core__comments"
    id = sa.Column(sa.Integer, primary_key=True)
    media_entry = sa.Column(sa.Integer, sa.ForeignKey("core__media_entries.id"), nullable=False)
    author = sa.Column(sa.Integer, sa.ForeignKey("core__users.id"), nullable=False)
    content = sa.Column(sa.Text, nullable=False)
'''

HOST_REVISIONS = [
    (
        "users",
        """\
    op.create_table(
        "core__users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_core__users"),
        sa.UniqueConstraint("username", name="uq_core__users_username"),
    )""",
        '    op.drop_table("core__users")',
    ),
    (
        "media entries",
        """\
    op.create_table(
        "core__media_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploader", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploader"], ["core__users.id"], name="fk_core__media_entries_uploader_core__users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_core__media_entries"),
    )
    op.create_index(
        "ix_core__media_entries_uploader", "core__media_entries", ["uploader"], unique=False
    )""",
        '    op.drop_index("ix_core__media_entries_uploader", table_name="core__media_entries")\n'
        '    op.drop_table("core__media_entries")',
    ),
    (
        "comments",
        """\
    op.create_table(
        "core__comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_entry", sa.Integer(), nullable=False),
        sa.Column("author", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_entry"], ["core__media_entries.id"],
            name="fk_core__comments_media_entry_core__media_entries",
        ),
        sa.ForeignKeyConstraint(
            ["author"], ["core__users.id"], name="fk_core__comments_author_core__users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_core__comments"),
    )""",
        '    op.drop_table("core__comments")',
    ),
    (
        "user bio",
        '    op.add_column("core__users", sa.Column("bio", sa.Text(), nullable=True))',
        '    with op.batch_alter_table("core__users") as batch_op:\n'
        '        batch_op.drop_column("bio")',
    ),
]

REVISION = '''\
"""{message}"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "{revision}"
down_revision = {down}
branch_labels = {labels}
depends_on = {depends}


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''

ENV_PY = '''\
"""The benchmark host's Alembic environment: alembic init's env.py, taking a handed-in connection.

The plugin imports are what ``scaffold wire`` writes, so that plain ``alembic`` knows every
plugin's tables (and autogenerate proposes no drop_table for them).
"""

from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context
from hostapp.models import Base
{imports}

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={{"paramstyle": "named"}},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    section = config.get_section(config.config_ini_section, {{}})
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        section["sqlalchemy.url"] = url
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        _run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
prepend_sys_path = .
path_separator = os
version_locations = {locations}
sqlalchemy.url = sqlite:///{dev_db}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

PLUGIN_MODELS = '''\
"""Tables of plugin {name}."""

import sqlalchemy as sa
from hostapp.models import Base

TABLE_PREFIX = "{name}"


class Item(Base):
    __tablename__ = "{name}__items"
    id = sa.Column(sa.Integer, primary_key=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("core__users.id"), nullable=False)
    name = sa.Column(sa.String(100), nullable=False)
    note = sa.Column(sa.Text){pending}


MODELS = [Item]
'''

PENDING_COLUMN = "\n    pending = sa.Column(sa.Integer)  # the one change autogenerate has to find"

PLUGIN_PYPROJECT = """\
[project]
name = "{name}"
version = "0.1"

[tool.plugin-scaffold]
plugin = "{name}"
host-alembic = "{ini}"
host-base = "hostapp.models:Base"
url = "sqlite:///{db}"
"""


@dataclass(frozen=True)
class Layout:
    """Where the generated host and its plugins are (``root``), and its databases."""

    root: Path
    databases: Path
    plugins: int
    revisions: int
    #: Revisions in the core chain (its root is labelled ``core``).
    core_revisions: int = CORE_REVISIONS
    #: What the plugin roots depend on, taken in turn: ``core`` (the label) or a core revision;
    #: empty for the core head.
    depends_on: tuple[str, ...] = ()
    #: Whether env.py marks the plugins as wired scaffold plugins (else: another plugin system).
    wired: bool = True
    #: Whether the chosen plugin's model has a change no revision has yet (for autogenerate);
    #: without it, the models are exactly what the migrations make (for ``--from-models``).
    pending: bool = True

    @property
    def host(self) -> Path:
        return self.root / "host"

    @property
    def ini(self) -> Path:
        return self.host / "alembic.ini"

    @property
    def dev_db(self) -> Path:
        """The database at every head that autogenerate compares with (the ini's URL)."""
        return self.databases / "dev.db"

    @property
    def names(self) -> list[str]:
        return [f"p{i:02d}" for i in range(self.plugins)]

    @property
    def chosen(self) -> str:
        """The plugin whose model has the pending change (autogenerate runs for it)."""
        return self.names[self.plugins // 2]

    def project(self, name: str) -> Path:
        """A plugin's project folder: ``pyproject.toml`` and a ``src/`` layout."""
        return self.root / "plugins" / name

    def migrations(self, name: str) -> Path:
        return self.project(name) / "src" / name / "migrations"

    @property
    def total_revisions(self) -> int:
        return self.core_revisions + self.plugins * self.revisions

    def root_depends_on(self, name: str) -> str:
        """What plugin ``name``'s root depends on."""
        if not self.depends_on:
            return core_id(self.core_revisions)
        return self.depends_on[self.names.index(name) % len(self.depends_on)]

    def env(self, bytecode: bool) -> dict[str, str]:
        """The processes' environment: the host and every plugin importable, as installs would.

        With ``bytecode``, Python caches compiled modules as on a user's machine (even where
        PYTHONDONTWRITEBYTECODE is set), in a folder of this run that the first, untimed run of
        each command fills; without, every process compiles every revision file it reads.
        """
        paths = [str(self.host), *(str(self.project(n) / "src") for n in self.names)]
        inherited = os.environ.get("PYTHONPATH")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([*paths, *([inherited] if inherited else [])]),
        }
        # scaffold's cache (revision records, template databases) in a folder of this run,
        # filled by the first, untimed run of each command as bytecode is.
        env["SCAFFOLD_CACHE_DIR"] = str(self.root / "cache")
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.root / "pycache")
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env


def core_id(n: int) -> str:
    return f"c0re{n:04d}"


def plugin_id(name: str, n: int) -> str:
    return f"{name}r{n:03d}"


def _revision_file(
    folder: Path,
    revision: str,
    *,
    message: str,
    down: str | None,
    labels: tuple[str, ...] | None,
    depends: str | None,
    upgrade: str,
    downgrade: str,
) -> None:
    slug = message.replace(" ", "_")
    (folder / f"{revision}_{slug}.py").write_text(
        REVISION.format(
            message=message,
            revision=revision,
            down=repr(down),
            labels=repr(labels),
            depends=repr(depends),
            upgrade=upgrade,
            downgrade=downgrade,
        ),
        encoding="utf-8",
    )


def generate(layout: Layout) -> None:
    """Write the host (core chain) and its plugins (one branch each, in their own folders)."""
    host = layout.host
    (host / "hostapp").mkdir(parents=True)
    (host / "hostapp" / "__init__.py").write_text("", encoding="utf-8")
    (host / "hostapp" / "models.py").write_text(HOST_MODELS, encoding="utf-8")
    versions = host / "migrations" / "versions"
    versions.mkdir(parents=True)
    (host / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO, encoding="utf-8")
    marker = "  # plugin-scaffold: wired {n}" if layout.wired else ""
    imports = "\n".join(
        f"import {n}.models  # noqa: E402,F401" + marker.format(n=n) for n in layout.names
    )
    (host / "migrations" / "env.py").write_text(ENV_PY.format(imports=imports), encoding="utf-8")
    for n in range(1, layout.core_revisions + 1):
        message, upgrade, downgrade = (
            HOST_REVISIONS[n - 1]
            if n <= len(HOST_REVISIONS)
            else (f"core step {n}", f'    op.execute("SELECT {n}")', "    pass")
        )
        _revision_file(
            versions,
            core_id(n),
            message=message,
            down=core_id(n - 1) if n > 1 else None,
            labels=("core",) if n == 1 else None,
            depends=None,
            upgrade=upgrade,
            downgrade=downgrade,
        )
    for name in layout.names:
        _generate_plugin(layout, name)
    locations = [str(versions), *(str(layout.migrations(n)) for n in layout.names)]
    layout.ini.write_text(
        ALEMBIC_INI.format(locations=os.pathsep.join(locations), dev_db=layout.dev_db),
        encoding="utf-8",
    )


def _generate_plugin(layout: Layout, name: str) -> None:
    package = layout.project(name) / "src" / name
    folder = layout.migrations(name)
    folder.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (folder / "__init__.py").write_text("", encoding="utf-8")
    pending = PENDING_COLUMN if layout.pending and name == layout.chosen else ""
    (package / "models.py").write_text(
        PLUGIN_MODELS.format(name=name, pending=pending), encoding="utf-8"
    )
    (layout.project(name) / "pyproject.toml").write_text(
        PLUGIN_PYPROJECT.format(name=name, ini=layout.ini, db=layout.dev_db), encoding="utf-8"
    )
    table = f"{name}__items"
    create = textwrap.indent(
        textwrap.dedent(
            f"""\
            op.create_table(
                "{table}",
                sa.Column("id", sa.Integer(), nullable=False),
                sa.Column("user_id", sa.Integer(), nullable=False),
                sa.Column("name", sa.String(100), nullable=False),
                sa.ForeignKeyConstraint(
                    ["user_id"], ["core__users.id"], name="fk_{table}_user_id_core__users"
                ),
                sa.PrimaryKeyConstraint("id", name="pk_{table}"),
            )"""
        ),
        "    ",
    )
    add_note = f'    op.add_column("{table}", sa.Column("note", sa.Text(), nullable=True))'
    drop_note = (
        f'    with op.batch_alter_table("{table}") as batch_op:\n'
        '        batch_op.drop_column("note")'
    )
    for n in range(1, layout.revisions + 1):
        if n == 1:
            message = f"{name} items"
            upgrade = create + ("\n" + add_note if layout.revisions == 1 else "")
            downgrade = f'    op.drop_table("{table}")'
        elif n == 2:
            message, upgrade, downgrade = f"{name} item note", add_note, drop_note
        else:
            message = f"{name} step {n}"
            upgrade = f'    op.execute("UPDATE {table} SET name = name WHERE id < {-n}")'
            downgrade = "    pass"
        _revision_file(
            folder,
            plugin_id(name, n),
            message=message,
            down=plugin_id(name, n - 1) if n > 1 else None,
            labels=(name,) if n == 1 else None,
            depends=layout.root_depends_on(name) if n == 1 else None,
            upgrade=upgrade,
            downgrade=downgrade,
        )
