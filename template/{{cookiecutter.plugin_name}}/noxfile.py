{%- set host_requirement = cookiecutter.host_requirement -%}
{%- set scaffold_requirement = cookiecutter.scaffold_requirement -%}
{%- if not host_requirement or not scaffold_requirement -%}
{#- Only cookiecutter leaves these empty: its questions cannot see where the template is, but
    it renders files from inside the template's project folder, two levels below the root. -#}
{%- set root = "." | realpath | dirname | dirname -%}
{%- set location = "file://" ~ (root | urlencode) -%}
{%- if not host_requirement -%}
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

Servers come from SCAFFOLD_POSTGRES_URL and SCAFFOLD_MYSQL_URL (see the README); a session whose
server does not answer skips its tests, unless CI=true.
"""

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"

#: What pip installs to get the host application; HOST_REQUIREMENT overrides it.
HOST_REQUIREMENT = (
    os.environ.get("HOST_REQUIREMENT")
    or {{ host_requirement | tojson }}
)
#: What pip installs to get plugin-scaffold; PLUGIN_SCAFFOLD_REQUIREMENT overrides it.
SCAFFOLD_REQUIREMENT = (
    os.environ.get("PLUGIN_SCAFFOLD_REQUIREMENT")
    or {{ scaffold_requirement | tojson }}
)
#: The database driver each session installs.
DRIVERS = {
    "sqlite": [],
    "postgresql": ["psycopg[binary]>=3.1"],
    "mysql": ["pymysql>=1.1"],
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
    session.install(HOST_REQUIREMENT, SCAFFOLD_REQUIREMENT, "pytest>=8", *DRIVERS[database])
    session.install("-e", ".")
    # SCAFFOLD_POSTGRES_URL and SCAFFOLD_MYSQL_URL pass through from the environment.
    session.run("pytest", *session.posargs, env={"SCAFFOLD_TEST_DB": database})
