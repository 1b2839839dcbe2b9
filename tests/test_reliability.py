"""Nothing lost: a revision id is never a path, and a revision file never replaces a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_scaffold
from hosts import make_host, make_plugin


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (what a command must leave alone)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize(
    "rev_id",
    [
        "../../../../tests/test",
        "../../../../evil",
        "a/b",
        "..",
        ".",
        "a.b",
        "/tmp/abs",
        "a\\b",
        "___",
        "",
        "x" * 65,
        "café",
        "a b",
    ],
)
def test_rev_id_that_is_not_an_identifier_is_refused_and_nothing_is_written(
    tmp_path: Path, rev_id: str
) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    mine = project / "tests" / "test_migrations.py"
    mine.parent.mkdir()
    mine.write_text("def test_mine():\n    pass\n")
    before = tree(tmp_path)

    result = run_scaffold(
        "--url",
        f"sqlite:///{tmp_path / 'dev.db'}",
        "revision",
        "-m",
        "migrations",
        "--rev-id",
        rev_id,
        cwd=project,
        check=2,
    )

    assert result.stderr.count("\n") == 1 and result.stderr.startswith("scaffold: error: --rev-id")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert tree(tmp_path) == before
    assert not (tmp_path / "evil.py").exists() and not list(tmp_path.rglob("evil*"))


def test_rev_id_that_is_an_identifier_names_the_file_in_the_plugin(tmp_path: Path) -> None:
    ini = make_host(tmp_path / "host")
    project = make_plugin(tmp_path / "poser", "poser", host_ini=ini)
    run_scaffold(
        "--url",
        f"sqlite:///{tmp_path / 'dev.db'}",
        "revision",
        "-m",
        "first",
        "--rev-id",
        "Poser_0001",
        cwd=project,
    )
    written = sorted(p.name for p in (project / "src/poser/migrations").glob("*.py"))
    assert written == ["Poser_0001_first.py", "__init__.py"]
