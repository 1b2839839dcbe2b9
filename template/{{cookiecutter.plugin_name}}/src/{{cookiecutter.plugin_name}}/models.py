{%- set module, attribute = cookiecutter.host_base.split(":") -%}
{%- set table = cookiecutter.table_prefix ~ "__" ~ cookiecutter.__starter_table -%}
{%- set class_name = "Item" if cookiecutter.__starter_table == "items" else cookiecutter.__starter_table.split("_") | map("capitalize") | join -%}
{#- host_orm=sqlmodel: SQLModel table models on the host's SQLModel (docs/sqlmodel.md). -#}
{%- set sqlmodel = cookiecutter.host_orm == "sqlmodel" -%}
{%- set base = "SQLModel" if sqlmodel else "Base" -%}
{%- set bases = base ~ (", table=True" if sqlmodel else "") -%}
{#- The Python type of the side table's key, for its SQLModel annotation. -#}
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
{#- The side table's key: the host's key type, a named foreign key. -#}
{%- set key_column -%}
sa.Column(
    {{ cookiecutter.extends_type }},
    sa.ForeignKey(
        "{{ cookiecutter.extends }}",
        ondelete="CASCADE",
        name=conv("{{ cookiecutter.__starter_fk }}"),
    ),
    primary_key=True,
    autoincrement=False,
)
{%- endset -%}
"""Tables of the {{ cookiecutter.plugin_name }} plugin, {{ "SQLModel table models on the host's SQLModel metadata" if sqlmodel else "declared on the host's Base" }}.

Each table is named ``{{ cookiecutter.table_prefix }}__<name>`` and only changed by this plugin's revisions.
A host table is never altered: it is extended with a one-to-one side table instead.
After changing a model, run ``scaffold revision -m "what changed" --autogenerate``.
"""
{%- if sqlmodel and not cookiecutter.extends %}

import datetime
{%- elif sqlmodel and key_annotation == "uuid.UUID" %}

import uuid
{%- elif sqlmodel and key_annotation == "Any" %}

from typing import Any
{%- endif %}

{% if "sqlalchemy." in cookiecutter.extends_type and cookiecutter.extends -%}
import sqlalchemy
{% endif -%}
import sqlalchemy as sa
from sqlalchemy.sql.naming import conv
{%- if sqlmodel %}
from sqlmodel import Field
{%- endif %}
{% if "." in attribute %}
from {{ module }} import {{ attribute.split(".")[0] }}

{{ base }} = {{ attribute }}
{%- elif attribute == base %}
from {{ module }} import {{ base }}
{%- else %}
from {{ module }} import {{ attribute }} as {{ base }}
{%- endif %}

#: Every table of this plugin is named TABLE_PREFIX + "__" + a name.
TABLE_PREFIX = "{{ cookiecutter.table_prefix }}"

{% if cookiecutter.extends %}
{%- set extended_table, extended_column = cookiecutter.extends.split(".") %}
class {{ class_name }}({{ bases }}):
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
{%- if sqlmodel %}

    # The host's key type and a named foreign key: the whole column, as SQLAlchemy has it.
    {{ cookiecutter.__starter_key }}: {{ key_annotation }} = Field(
        sa_column={{ key_column | indent(8) }}
    )
    level: str = Field(
        default="normal", max_length=32, sa_column_kwargs={"server_default": "normal"}
    )
    note: str | None = Field(default=None, max_length=255)
{%- else %}

    {{ cookiecutter.__starter_key }} = {{ key_column | indent(4) }}
    level = sa.Column(sa.Unicode(32), nullable=False, server_default="normal")
    note = sa.Column(sa.UnicodeText, nullable=True)
{%- endif %}
{%- else %}
class {{ class_name }}({{ bases }}):
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
{%- if sqlmodel %}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    created: datetime.datetime = Field(
        sa_column_kwargs={"server_default": sa.func.current_timestamp()}
    )
{%- else %}

    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.Unicode(100), nullable=False)
    created = sa.Column(sa.DateTime, nullable=False, server_default=sa.func.current_timestamp())
{%- endif %}
{%- endif %}


#: The mapped classes of this plugin.
MODELS = [{{ class_name }}]
