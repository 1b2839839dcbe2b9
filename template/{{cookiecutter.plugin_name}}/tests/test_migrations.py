{%- set table = cookiecutter.table_prefix ~ "__" ~ cookiecutter.__starter_table -%}
"""The {{ cookiecutter.plugin_name }} plugin's migrations, checked by plugin-scaffold on a fresh database.

The database is the one the nox session names (SCAFFOLD_TEST_DB: sqlite, postgresql or mysql),
or ``pytest --scaffold-db postgresql``. Each check makes a new, uniquely named database and drops
it afterwards. What each check does: plugin-scaffold's docs/testing.md.
"""

from plugin_scaffold.testing import MigrationSuite


class TestMigrations(MigrationSuite):
    """Every check of the migration suite, on this plugin's branch."""

    #: Rows inserted as soon as the database is at a revision (by id); each must survive every
    #: later revision, and a downgrade and upgrade of each. Required columns left out are filled
    #: in, and a required foreign key gets a row to refer to. When a revision changes these
    #: tables, add rows for it too (and, if it changes rows given earlier, an ``expect`` entry).
    rows = {
        "{{ cookiecutter.__initial_revision }}": {
{%- if cookiecutter.extends %}
            "{{ table }}": [
                {"level": "private", "note": "kept"},
            ],
{%- else %}
            "{{ table }}": [
                {"name": "kept"},
            ],
{%- endif %}
        },
    }
