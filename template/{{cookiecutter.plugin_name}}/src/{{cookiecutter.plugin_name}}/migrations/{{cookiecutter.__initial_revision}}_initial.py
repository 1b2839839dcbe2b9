{%- set table = cookiecutter.table_prefix ~ "__" ~ cookiecutter.__starter_table -%}
{#- SQLModel's str columns are AutoString: written as its autogenerate writes them. -#}
{%- set sqlmodel = cookiecutter.host_orm == "sqlmodel" -%}
"""initial tables of the {{ cookiecutter.plugin_name }} plugin

Revision ID: {{ cookiecutter.__initial_revision }}
Revises:
"""

import sqlalchemy as sa
{%- if "sqlalchemy." in cookiecutter.extends_type and cookiecutter.extends %}
import sqlalchemy
{%- endif %}
{%- if sqlmodel %}
import sqlmodel.sql.sqltypes
{%- endif %}
from alembic import op

revision = "{{ cookiecutter.__initial_revision }}"
down_revision = None
branch_labels = ("{{ cookiecutter.plugin_name }}",)
# The host's tables exist before this plugin's first revision runs.
depends_on = "{{ cookiecutter.host_branch }}"


def upgrade() -> None:
    op.create_table(
        "{{ table }}",
{%- if cookiecutter.extends %}
{%- set extended_table, extended_column = cookiecutter.extends.split(".") %}
        sa.Column(
            "{{ cookiecutter.__starter_key }}",
            {{ cookiecutter.extends_type }},
            autoincrement=False,
            nullable=False,
        ),
{%- if sqlmodel %}
        sa.Column(
            "level",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            server_default="normal",
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
{%- else %}
        sa.Column("level", sa.Unicode(length=32), server_default="normal", nullable=False),
        sa.Column("note", sa.UnicodeText(), nullable=True),
{%- endif %}
        sa.ForeignKeyConstraint(
            ["{{ cookiecutter.__starter_key }}"],
            ["{{ cookiecutter.extends }}"],
            name=op.f("{{ cookiecutter.__starter_fk }}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("{{ cookiecutter.__starter_key }}", name=op.f("{{ cookiecutter.__starter_pk }}")),
{%- else %}
        sa.Column("id", sa.Integer(), nullable=False),
{%- if sqlmodel %}
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
{%- else %}
        sa.Column("name", sa.Unicode(length=100), nullable=False),
{%- endif %}
        sa.Column(
            "created", sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("{{ cookiecutter.__starter_pk }}")),
{%- endif %}
    )


def downgrade() -> None:
    op.drop_table("{{ table }}")
