"""``scaffold upgrade --from-models``: an empty database made from the models, stamped at heads.

What MediaGoblin's first ``dbupdate`` did: ``metadata.create_all`` of every table env.py
compares (the host's ``target_metadata``, on which every plugin's models are declared), the
host's ``host-init`` (the rows it lays down outside its migrations), then every head stamped,
in one run of the host's env.py, one transaction and under the migration lock. Only an empty
database is filled: no table, no version table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import alembic_private
from ..errors import ConfigError, UsageError
from ..host.environment import target_metadatas
from .revision import require_host_metadata

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

    from ..plugin.plugin import PluginModels
    from .workspace import Workspace


@dataclass(frozen=True)
class FromModels:
    """What ``upgrade --from-models`` did: the tables it created, the heads it stamped and the
    ``host-init`` it ran (None: the host has none)."""

    tables: tuple[str, ...]
    heads: tuple[str, ...]
    host_init: str | None = None


def upgrade_from_models(ws: Workspace) -> FromModels:
    """Create every table of the models on an empty database and stamp every head."""
    from sqlalchemy import inspect

    script = ws.script
    init = ws.host.init
    loaded: dict[str, PluginModels] = {}

    def load_models() -> None:
        # Inside env.py's configure(), as autogenerate loads them (see revision.py): by then the
        # host has set up its models, and the plugins' tables land on its MetaData.
        if not loaded:
            loaded.update(ws.load_models())

    def refuse_unless_empty(context: MigrationContext, *, version_table: bool) -> None:
        connection = context.connection
        assert connection is not None  # online only
        inspector = inspect(connection)
        found = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
        if not version_table:
            # Alembic has created its (empty) version table by the time a migration runs.
            found = [name for name in found if name != context.version_table]
        if found:
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            raise UsageError(
                f"the database is not empty ({shown}): --from-models only fills an empty "
                "database; `scaffold upgrade` migrates this one"
            )

    def look(rows: Any, context: MigrationContext) -> list[Any]:
        refuse_unless_empty(context, version_table=True)
        if init is not None:
            init.function  # noqa: B018  (an import error stops it before anything is written)
        return []

    made: list[str] = []

    def create(rows: Any, context: MigrationContext) -> list[Any]:
        if rows:  # another run filled it while this one waited for the lock
            raise UsageError(
                f"the database is not empty (alembic_version holds {', '.join(rows)}): "
                "--from-models only fills an empty database"
            )
        # Alembic has made the version table by now: on a database whose DDL commits by itself
        # (MariaDB, MySQL), a failure once the database is known empty must take it away
        # again, with the tables made so far, or the database would be neither empty nor at
        # any revision. (Not when another owner's table turned up: the version table may be
        # that owner's too, and the database is not empty anyway.)
        refuse_unless_empty(context, version_table=False)
        metadatas: list[Any] = []
        try:
            metadatas = target_metadatas(context)
            if not metadatas:
                raise ConfigError(
                    "the host's env.py configures no target_metadata: --from-models has no "
                    "models to create the tables from"
                )
            for models in loaded.values():
                require_host_metadata(context, models)
            for metadata in metadatas:
                metadata.create_all(context.connection)
                made.extend(metadata.tables)
            if init is not None:
                assert context.connection is not None  # online only
                init.run(context.connection, context.config)
        except BaseException:
            if not context.impl.transactional_ddl:
                _undo(context, metadatas)
            raise
        return alembic_private.stamp_plan(script, "heads", rows)

    # A quick look first (nothing written, no version table made), then the real run.
    ws.run(look, None, dont_mutate=True, before_configure=load_models)
    ws.run(create, None, destination_rev="heads", before_configure=load_models)
    return FromModels(
        tuple(sorted(made)), tuple(script.get_heads()), init.spec if init is not None else None
    )


def _undo(context: MigrationContext, metadatas: list[Any]) -> None:
    """Drop what a failed run made on a database without transactional DDL: the version table
    (empty: this run made it) and the tables of the models that exist now (the database was
    empty, under the migration lock, when the run began: they are this run's)."""
    from sqlalchemy import MetaData, Table, inspect

    connection = context.connection
    assert connection is not None  # online only
    existing = set(inspect(connection).get_table_names())
    for metadata in metadatas:
        ours = [t for t in metadata.sorted_tables if t.name in existing]
        metadata.drop_all(connection, tables=ours, checkfirst=True)
    version = Table(context.version_table, MetaData(), schema=context.version_table_schema)
    version.drop(connection, checkfirst=True)
