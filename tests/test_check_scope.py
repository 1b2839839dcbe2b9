"""The models check (``scaffold check``, the suite's ``test_models_match_migrations``) reads
and compares the plugin's tables only: on a host of a hundred tables, reading the others was
most of its time, and their differences were dropped anyway. env.py's own ``include_name``
and ``include_object`` still apply on top."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from test_template_cache import cache, checks_for, project

__all__ = ["cache"]  # the fixture, shared with test_template_cache


@pytest.fixture
def reflected() -> Iterator[list[str]]:
    """The tables SQLAlchemy reflects while the test runs."""
    names: list[str] = []

    def seen(inspector: object, table: sa.Table, info: object) -> None:
        names.append(table.name)

    sa.event.listen(sa.Table, "column_reflect", seen)
    yield names
    sa.event.remove(sa.Table, "column_reflect", seen)


def test_the_models_check_reads_the_plugins_tables_only(
    tmp_path: Path, cache: Path, reflected: list[str]
) -> None:
    root, name, _ = project(tmp_path)
    checks = checks_for(root, name, "sqlite")
    checks.models_match()  # passes: the models are what the migrations make
    assert f"{name}__store_extra" in reflected
    assert {t for t in reflected if not t.startswith(f"{name}__")} == set()


def test_env_pys_own_name_filter_still_applies(tmp_path: Path, cache: Path) -> None:
    from plugin_scaffold.testing import CheckFailed

    root, name, _ = project(tmp_path)
    env = tmp_path / "host" / "migrations" / "env.py"
    source = env.read_text()
    hidden = f"include_name=lambda n, type_, parents: n != '{name}__store_extra'"
    assert source.count("target_metadata=target_metadata") == 2
    env.write_text(source.replace(
        "target_metadata=target_metadata", f"target_metadata=target_metadata, {hidden}"
    ))  # fmt: skip
    # env.py hides the plugin's table from autogenerate: it looks missing from the database.
    with pytest.raises(CheckFailed, match=f"{name}__store_extra \\(create_table\\)"):
        checks_for(root, name, "sqlite").models_match()
