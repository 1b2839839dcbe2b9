{%- set module, attribute = cookiecutter.host_base.split(":") -%}
{%- set table = cookiecutter.table_prefix ~ "__" ~ cookiecutter.__starter_table -%}
{%- set class_name = "Item" if cookiecutter.__starter_table == "items" else cookiecutter.__starter_table.split("_") | map("capitalize") | join -%}
{%- set key_type = cookiecutter.extends_type.split("(")[0].split(".")[-1] -%}
{%- if key_type in ["Integer", "BigInteger", "SmallInteger", "INT", "INTEGER", "BIGINT", "SMALLINT"] -%}
{%- set key_annotation = "int" -%}
{%- elif key_type in ["Uuid", "UUID"] -%}
{%- set key_annotation = "uuid.UUID" -%}
{%- elif key_type in ["String", "Unicode", "Text", "UnicodeText", "CHAR", "VARCHAR", "NCHAR", "NVARCHAR", "TEXT", "CLOB"] -%}
{%- set key_annotation = "str" -%}
{%- else -%}
{%- set key_annotation = "Any" -%}
{%- endif -%}
{%- if cookiecutter.host_orm == "sqlmodel" -%}
"""Tables of the {{ cookiecutter.plugin_name }} plugin: SQLModel table models, on the host's SQLModel metadata.

Each table is named ``{{ cookiecutter.table_prefix }}__<name>`` and only changed by this plugin's revisions.
A host table is never altered: it is extended with a one-to-one side table instead.
After changing a model, run ``scaffold revision -m "what changed" --autogenerate``.
"""
{%- if not cookiecutter.extends %}

import datetime
{%- elif key_annotation == "uuid.UUID" %}

import uuid
{%- elif key_annotation == "Any" %}

from typing import Any
{%- endif %}

{% if "sqlalchemy." in cookiecutter.extends_type and cookiecutter.extends -%}
import sqlalchemy
{% endif -%}
import sqlalchemy as sa
from sqlalchemy.sql.naming import conv
from sqlmodel import Field
{% if "." in attribute %}
from {{ module }} import {{ attribute.split(".")[0] }}

SQLModel = {{ attribute }}
{%- elif attribute == "SQLModel" %}
from {{ module }} import SQLModel
{%- else %}
from {{ module }} import {{ attribute }} as SQLModel
{%- endif %}

#: Every table of this plugin is named TABLE_PREFIX + "__" + a name.
TABLE_PREFIX = "{{ cookiecutter.table_prefix }}"

{% if cookiecutter.extends %}
{%- set extended_table, extended_column = cookiecutter.extends.split(".") %}
class {{ class_name }}(SQLModel, table=True):
    """What this plugin keeps about a {{ extended_table }} row: one row at most for each."""

    __tablename__ = "{{ table }}"
    # Constraints carry the names the initial revision gives them, whether or not the host's
    # MetaData has a naming convention, so that a later revision can drop them by name.
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "{{ cookiecutter.__starter_key }}",
            name=conv("{{ cookiecutter.__starter_pk }}"),
        ),
    )

    # The host's key type and a named foreign key: the whole column, as SQLAlchemy has it.
    {{ cookiecutter.__starter_key }}: {{ key_annotation }} = Field(
        sa_column=sa.Column(
            {{ cookiecutter.extends_type }},
            sa.ForeignKey(
                "{{ cookiecutter.extends }}",
                ondelete="CASCADE",
                name=conv("{{ cookiecutter.__starter_fk }}"),
            ),
            primary_key=True,
            autoincrement=False,
        )
    )
    level: str = Field(
        default="normal", max_length=32, sa_column_kwargs={"server_default": "normal"}
    )
    note: str | None = Field(default=None, max_length=255)
{%- else %}
class {{ class_name }}(SQLModel, table=True):
    """A standalone table of this plugin."""

    __tablename__ = "{{ table }}"
    # The primary key carries the name the initial revision gives it, whether or not the host's
    # MetaData has a naming convention, so that a later revision can drop it by name.
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "id",
            name=conv("{{ cookiecutter.__starter_pk }}"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    created: datetime.datetime = Field(
        sa_column_kwargs={"server_default": sa.func.current_timestamp()}
    )
{%- endif %}
{%- else -%}
"""Tables of the {{ cookiecutter.plugin_name }} plugin, declared on the host's Base.

Each table is named ``{{ cookiecutter.table_prefix }}__<name>`` and only changed by this plugin's revisions.
A host table is never altered: it is extended with a one-to-one side table instead.
After changing a model, run ``scaffold revision -m "what changed" --autogenerate``.
"""

{% if "sqlalchemy." in cookiecutter.extends_type and cookiecutter.extends -%}
import sqlalchemy
{% endif -%}
import sqlalchemy as sa
from sqlalchemy.sql.naming import conv
{% if "." in attribute %}
from {{ module }} import {{ attribute.split(".")[0] }}

Base = {{ attribute }}
{%- elif attribute == "Base" %}
from {{ module }} import Base
{%- else %}
from {{ module }} import {{ attribute }} as Base
{%- endif %}

#: Every table of this plugin is named TABLE_PREFIX + "__" + a name.
TABLE_PREFIX = "{{ cookiecutter.table_prefix }}"

{% if cookiecutter.extends %}
{%- set extended_table, extended_column = cookiecutter.extends.split(".") %}
class {{ class_name }}(Base):
    """What this plugin keeps about a {{ extended_table }} row: one row at most for each."""

    __tablename__ = "{{ table }}"
    # Constraints carry the names the initial revision gives them, whether or not the host's
    # MetaData has a naming convention, so that a later revision can drop them by name.
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "{{ cookiecutter.__starter_key }}",
            name=conv("{{ cookiecutter.__starter_pk }}"),
        ),
    )

    {{ cookiecutter.__starter_key }} = sa.Column(
        {{ cookiecutter.extends_type }},
        sa.ForeignKey(
            "{{ cookiecutter.extends }}",
            ondelete="CASCADE",
            name=conv("{{ cookiecutter.__starter_fk }}"),
        ),
        primary_key=True,
        autoincrement=False,
    )
    level = sa.Column(sa.Unicode(32), nullable=False, server_default="normal")
    note = sa.Column(sa.UnicodeText, nullable=True)
{%- else %}
class {{ class_name }}(Base):
    """A standalone table of this plugin."""

    __tablename__ = "{{ table }}"
    # The primary key carries the name the initial revision gives it, whether or not the host's
    # MetaData has a naming convention, so that a later revision can drop it by name.
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "id",
            name=conv("{{ cookiecutter.__starter_pk }}"),
        ),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Unicode(100), nullable=False)
    created = sa.Column(sa.DateTime, nullable=False, server_default=sa.func.current_timestamp())
{%- endif %}
{%- endif %}


#: The mapped classes of this plugin.
MODELS = [{{ class_name }}]
