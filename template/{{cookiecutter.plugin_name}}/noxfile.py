{%- set host_requirement = cookiecutter.host_requirement -%}
{%- set scaffold_requirement = cookiecutter.scaffold_requirement -%}
{%- if (not host_requirement and not cookiecutter.host_path) or not scaffold_requirement -%}
{#- Only cookiecutter leaves these empty: its questions cannot see where the template is, but
    it renders files from inside the template's project folder, two levels below the root. -#}
{%- set root = "." | realpath | dirname | dirname -%}
{%- set location = "file://" ~ (root | urlencode) -%}
{%- if not host_requirement and not cookiecutter.host_path -%}
{%- set host_requirement = "examplehost @ " ~ location ~ "/examples/examplehost" -%}
{%- endif -%}
{%- if not scaffold_requirement -%}
{%- if (root ~ "/pyproject.toml") | fileglob and (root ~ "/src/plugin_scaffold/__init__.py") | fileglob -%}
{%- set scaffold_requirement = "plugin-scaffold @ " ~ location -%}
{%- else -%}
{%- set scaffold_requirement = "plugin-scaffold" -%}
{%- endif -%}
{%- endif -%}
{%- endif -%}
"""Test sessions of the {{ cookiecutter.plugin_name }} plugin: its migrations on each database.

    nox                  SQLite, PostgreSQL and MariaDB/MySQL
    nox -t postgresql    PostgreSQL only (also: scaffold test --db postgresql)
    nox -t mysql         MariaDB/MySQL only
    nox -s lint          ruff and `scaffold check` (what .pre-commit-config.yaml runs)

Servers come from SCAFFOLD_POSTGRES_URL and SCAFFOLD_MYSQL_URL (see the README); a session whose
server does not answer skips its tests, unless CI=true. .github/workflows/migrations.yml runs
the same sessions on GitHub Actions.
"""

import hashlib
import os
import urllib.parse
import urllib.request

import nox

nox.options.default_venv_backend = "uv|virtualenv"
#: `nox` alone runs the tests on the three databases; `nox -s lint` is asked for by name.
nox.options.sessions = ["tests"]

#: What pip installs to get the host application (one requirement per line: the host, and what
#: it needs to import but does not declare); HOST_REQUIREMENT overrides it.
{%- if cookiecutter.host_path %}
#: Empty: the host is the folder host-path names in pyproject.toml, not an installed package;
#: the sessions install what that folder says it needs (see host_folder_requirements).
{%- endif %}
HOST_REQUIREMENT = (
    os.environ.get("HOST_REQUIREMENT")  # else the host_requirement answer:
    or {{ host_requirement | to_json }}
)
#: What pip installs to get plugin-scaffold; PLUGIN_SCAFFOLD_REQUIREMENT overrides it.
SCAFFOLD_REQUIREMENT = (
    os.environ.get("PLUGIN_SCAFFOLD_REQUIREMENT")  # else the scaffold_requirement answer:
    or {{ scaffold_requirement | tojson }}
)
#: The ruff that `nox -s lint` runs: the version .pre-commit-config.yaml pins.
RUFF = "ruff==0.16.4"
#: The database drivers each session installs: the synchronous one scaffold connects with and
#: the async one a host's async env.py is given (psycopg 3 is both; a host pinning
#: SQLAlchemy 1.4, which has no psycopg 3 dialect, is reached through psycopg2).
DRIVERS = {
    "sqlite": ["aiosqlite>=0.19"],
    "postgresql": ["psycopg[binary]>=3.1", "psycopg2-binary>=2.9"],
    "mysql": ["pymysql>=1.1", "aiomysql>=0.2"],
}


@nox.session
@nox.parametrize(
    "database",
    [
        nox.param("sqlite", id="sqlite", tags=["sqlite"]),
        nox.param("postgresql", id="postgresql", tags=["postgresql"]),
        nox.param("mysql", id="mysql", tags=["mysql"]),
    ],
)
def tests(session: nox.Session, database: str) -> None:
    """The plugin's migration checks, each on a fresh database of one kind."""
    install(session, *requirements(session), "pytest>=8", *DRIVERS[database])
    # SCAFFOLD_POSTGRES_URL and SCAFFOLD_MYSQL_URL pass through from the environment.
    session.run("pytest", *session.posargs, env={"SCAFFOLD_TEST_DB": database})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and plugin-scaffold's static check of this plugin's branch (no database)."""
    install(session, *requirements(session), RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("scaffold", "check")


def install(session: nox.Session, *wanted: str) -> None:
    """Install ``wanted``, then this plugin (editable), unless the session's virtualenv holds
    them already: kept by `nox -r` (as `scaffold test` runs it), installed last with the same
    requirements, this pyproject.toml and noxfile, and the same files in the local folders they
    name. Plain `nox` makes each virtualenv afresh; `rm -rf .nox` too."""
    location = getattr(session.virtualenv, "location", None)
    stamp = os.path.join(location, ".plugin-scaffold-installed") if location else None
    state = fingerprint(wanted)
    if stamp is not None and os.path.isfile(stamp):
        with open(stamp, encoding="utf-8") as file:
            if file.read() == state:
                session.log("installs skipped: nothing they depend on changed since the last")
                return
        os.remove(stamp)  # the installs below change the virtualenv: until they succeed
    session.install(*wanted)
    session.install("-e", ".")
    runner = getattr(session, "_runner", None)
    skipped = getattr(getattr(runner, "global_config", None), "no_install", False)
    if stamp is not None and not skipped:  # (nox -R installs nothing)
        with open(stamp, "w", encoding="utf-8") as file:
            file.write(state)


def fingerprint(wanted: tuple[str, ...]) -> str:
    """What the installs depend on: the requirements, this project's pyproject.toml and
    noxfile.py, and each local folder or file a requirement names (every file's size and
    modification time, leaving out hidden folders, caches and build output)."""
    digest = hashlib.sha256()
    for part in wanted:
        digest.update(part.encode() + b"\0")
    for path in ["pyproject.toml", "noxfile.py", *local_paths(wanted)]:
        for found in sorted(tree(path)):
            stat = os.stat(found)
            digest.update(f"{found} {stat.st_size} {stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def local_paths(wanted: tuple[str, ...]) -> list[str]:
    """The folders of ``name @ file://...`` requirements and the files of ``-r FILE``."""
    found = []
    for i, part in enumerate(wanted):
        url = part.partition(" @ ")[2].strip()
        if url.startswith("file:"):
            found.append(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        elif i > 0 and wanted[i - 1] == "-r":
            found.append(part)
    return found


def tree(path: str) -> list[str]:
    """``path`` itself when it is a file, else the files below it that a build reads."""
    if not os.path.isdir(path):
        return [path] if os.path.exists(path) else []
    skipped = {"__pycache__", "build", "dist", "node_modules"}
    files = []
    for root, folders, names in os.walk(path):
        folders[:] = [
            f
            for f in folders
            if not f.startswith(".") and f not in skipped and not f.endswith(".egg-info")
        ]
        files += [os.path.join(root, name) for name in names]
    return files


def requirements(session: nox.Session) -> list[str]:
    """The host and plugin-scaffold, stopping at a local folder that this machine lacks.

    A plugin rendered from a checkout names that checkout's folders, which a CI machine does not
    have: set HOST_REQUIREMENT / PLUGIN_SCAFFOLD_REQUIREMENT to a version or a VCS URL there.
    """
    hosts = [line.strip() for line in HOST_REQUIREMENT.splitlines() if line.strip()]
    found = []
    for variable, requirement in [
        *(("HOST_REQUIREMENT", host) for host in hosts),
        ("PLUGIN_SCAFFOLD_REQUIREMENT", SCAFFOLD_REQUIREMENT),
    ]:
        if not requirement:
            continue
        url = requirement.partition(" @ ")[2].strip()
        if url.startswith("file:"):
            folder = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
            if not os.path.exists(folder):
                session.error(
                    f"{variable}: {requirement!r} names {folder}, which this machine does not "
                    f"have; set {variable} to a version or a VCS URL (see README.md)"
                )
        found.append(requirement)
{%- if cookiecutter.host_path %}
    if not hosts:
        found += host_folder_requirements(session)
{%- endif %}
    return found
{%- if cookiecutter.host_path %}


def host_folder_requirements(session: nox.Session) -> list[str]:
    """What the host's folders (host-path in pyproject.toml) say the host needs to import.

    Each folder's requirements.txt, else the dependencies its pyproject.toml lists; the host's
    code itself is not installed: scaffold and pytest put the folders on sys.path.
    """
    settings = nox.project.load_toml("pyproject.toml")["tool"]["plugin-scaffold"]
    folders = settings.get("host-path") or []
    found: list[str] = []
    for folder in [folders] if isinstance(folders, str) else folders:
        if not os.path.isdir(folder):
            session.error(
                f"host-path: {folder!r} ({os.path.abspath(folder)}) is not a folder of this "
                "machine; set host-path in pyproject.toml, or HOST_REQUIREMENT (see README.md)"
            )
        listed = os.path.join(folder, "requirements.txt")
        project = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(listed):
            found += ["-r", listed]
        elif os.path.isfile(project):
            found += nox.project.load_toml(project).get("project", {}).get("dependencies", [])
    return found
{%- endif %}
