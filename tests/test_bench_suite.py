"""`bench/suite.py --quick`: the suite's upgrade phase against raw Alembic; the failure named."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^(?P<name>.+?)\s+\d+\.\d{3}s\s+(?P<ratio>\d+\.\d{2})x")


def test_quick_bench_names_the_failing_revision_and_prints_the_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert "revision benchfail001 (" in result.stdout and "no_such_table" in result.stdout
    rows = {
        m["name"]: float(m["ratio"])
        for line in result.stdout.splitlines()
        if (m := ROW.match(line))
    }
    assert set(rows) == {
        "alembic upgrade heads",
        "suite's upgrade phase",
        "one revision at a time (reference)",
    }, result.stdout
    assert rows["alembic upgrade heads"] == 1.0


def test_bench_suite_refuses_an_unknown_database() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--quick", "--db", "oracle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown database 'oracle'" in result.stderr
