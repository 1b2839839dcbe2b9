"""`bench/suite.py --quick`: the suite's upgrade phase timed against raw Alembic on the same
generated graph, each run leaving the same database; the failing revision named."""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = re.compile(
    r"^  run (?P<n>\d+)/(?P<of>\d+): alembic (?P<raw>\d+\.\d{3})s, suite (?P<suite>\d+\.\d{3})s$"
)
ROW = re.compile(
    r"^(?P<name>.+?)\s+(?P<median>\d+\.\d{3})s\s+(?P<ratio>\d+\.\d{2})x"
    r"(?:\s+<= (?P<target>\d+\.\d{2})x\s+(?P<result>ok|over))?$"
)
REPEAT = 2
PLUGINS = 5  # --quick: 5 plugins x 4 revisions on a core chain of 5


def ratio_bounds(numerator: float, denominator: float) -> tuple[float, float]:
    """The ratio of two times printed to the millisecond, printed to the hundredth."""
    half_ms = 0.0005
    low = (numerator - half_ms) / (denominator + half_ms)
    high = (numerator + half_ms) / (denominator - half_ms)
    return low - 0.005, high + 0.005


def test_quick_bench_times_suite_and_alembic_separately_on_the_same_work() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "suite.py"),
            "--quick",
            "-v",
            "--repeat",
            str(REPEAT),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, f"--- stdout\n{out}\n--- stderr\n{result.stderr}"

    # The failing revision added before timing is named, with its error.
    assert "revision benchfail001 (" in out and "no such table: no_such_table" in out, out

    # Two separate measurements per timed run: raw Alembic and the suite, each on its own
    # fresh database.
    runs = [m for line in out.splitlines() if (m := RUN.match(line))]
    assert [(int(m["n"]), int(m["of"])) for m in runs] == [(1, 2), (2, 2)], out
    raw_times = [float(m["raw"]) for m in runs]
    suite_times = [float(m["suite"]) for m in runs]
    assert all(0 < t < 60 for t in raw_times + suite_times), out

    rows = {m["name"]: m for line in out.splitlines() if (m := ROW.match(line))}
    assert list(rows) == [
        "alembic upgrade heads",
        "suite's upgrade phase",
        "one revision at a time (reference)",
    ], out
    raw, suite, stepwise = rows.values()

    # The table's medians are the medians of the printed runs.
    raw_median, suite_median = float(raw["median"]), float(suite["median"])
    assert math.isclose(raw_median, statistics.median(raw_times), abs_tol=0.0011), out
    assert math.isclose(suite_median, statistics.median(suite_times), abs_tol=0.0011), out

    # The suite's ratio is its median over raw Alembic's, a real positive number; the baseline
    # is the one row that is 1.00x by definition.
    ratio = float(suite["ratio"])
    assert math.isfinite(ratio) and ratio > 0, out
    low, high = ratio_bounds(suite_median, raw_median)
    assert low <= ratio <= high, (ratio, suite_median, raw_median)
    assert float(raw["ratio"]) == 1.0 and raw["target"] is None
    assert suite["target"] == "1.30"
    if abs(ratio - 1.30) > 0.005:  # printed rounded: at the target, either verdict fits
        assert suite["result"] == ("ok" if ratio <= 1.30 else "over"), out

    stepwise_ratio = float(stepwise["ratio"])
    low, high = ratio_bounds(float(stepwise["median"]), raw_median)
    assert stepwise_ratio > 0 and low <= stepwise_ratio <= high, out

    # Both did the same work: every run (two warm-ups, 2 x 2 timed, the stepwise reference)
    # left alembic_version at the graph's heads, one row per plugin (the core head is a
    # dependency of the plugin roots: no row of its own), and the same tables.
    assert (
        "all 7 runs (raw, stepwise, suite) left the same database: alembic_version holds the "
        f"graph's heads ({PLUGINS} rows), "
    ) in out, out


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


WHOLE_ROW = re.compile(
    r"^(?P<name>(alembic upgrade heads|whole suite|autogenerate).*?)\s+(?P<median>\d+\.\d{3})s"
    r"\s+(?P<ratio>\d+\.\d{2})x(?:\s+<= (?P<target>\d+\.\d{2})x\s+(?P<result>ok|over))?$"
)


def test_quick_whole_suite_bench_prints_each_ratio_with_its_goal() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--whole", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, f"--- stdout\n{out}\n--- stderr\n{result.stderr}"
    rows = {m["name"]: m for line in out.splitlines() if (m := WHOLE_ROW.match(line))}
    assert list(rows) == [
        "alembic upgrade heads (host + plugin, from empty)",
        "whole suite, template cache off",
        "whole suite, template cache on (warm)",
        "autogenerate, database at heads",
        "autogenerate, database behind (cache on)",
        "autogenerate, database behind (cache off)",
    ], out
    goals = {
        "whole suite, template cache on (warm)": ("alembic upgrade heads", 1.5),
        "autogenerate, database behind (cache on)": ("autogenerate, database at heads", 1.2),
    }
    for name, row in rows.items():
        if name not in goals:
            assert row["target"] is None, row.string
            continue
        base_name, goal = goals[name]
        base = next(r for n, r in rows.items() if n.startswith(base_name))
        low, high = ratio_bounds(float(row["median"]), float(base["median"]))
        ratio = float(row["ratio"])
        assert low <= ratio <= high and float(row["target"]) == goal, row.string
        if abs(ratio - goal) > 0.005:
            assert row["result"] == ("ok" if ratio <= goal else "over"), row.string
    assert "left the same database: alembic_version holds the graph's heads (1 rows)" in out
