"""`bench/run.py --quick`: eight measurements of scaffold against raw Alembic, each checked to do
the same work as Alembic first, with medians and ratios that follow from the printed runs."""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 2
# name -> (target ratio, what its untimed check says both tools did)
CASES = {
    "--help": (1.0, "both print their usage"),
    "heads (25 revisions, 5 plugins)": (1.0, "both list the same 6 heads"),
    "heads (45 revisions, 5 plugins)": (1.0, "both list the same 6 heads"),
    "upgrade heads (fresh SQLite file)": (
        1.0,
        "both leave the same 5 alembic_version rows (the plugin heads) and the same 9 tables",
    ),
    "upgrade heads (45 revisions)": (
        1.0,
        "both leave the same 5 alembic_version rows (the plugin heads) and the same 9 tables",
    ),
    "revision --autogenerate (plugin p02)": (
        1.25,
        "each writes one revision file, only the column added to p02__items",
    ),
    "upgrade heads, 5 other branches on the core label (21 revisions)": (
        1.1,
        "both leave the same 5 alembic_version rows (the plugin heads) and the same 7 tables",
    ),
    "upgrade --from-models vs replay (45 revisions)": (
        0.1,
        "both leave the same 5 alembic_version rows (the plugin heads) and the same reflected "
        "schema of 9 tables",
    ),
}
# A table row: the measurement, two medians, the ratio, the target and the verdict.
ROW = re.compile(
    r"^(?P<name>.+?)\s+(?P<raw>\d+\.\d{3})s\s+(?P<ours>\d+\.\d{3})s\s+(?P<ratio>\d+\.\d{2})x"
    r"\s+<= (?P<target>\d\.\d{2})x\s+(?P<result>ok|over)$"
)
RUN = re.compile(
    r"^  (?P<name>.+): run (?P<n>\d+)/(?P<of>\d+): alembic (?P<raw>\d+\.\d{3})s, "
    r"scaffold (?P<ours>\d+\.\d{3})s$"
)
CHECKED = re.compile(r"^  (?P<name>.+): checked: (?P<said>.+)$")


def ratio_bounds(numerator: float, denominator: float) -> tuple[float, float]:
    """Where a ratio of two times printed to the millisecond lands, printed to the hundredth."""
    half_ms = 0.0005
    low = (numerator - half_ms) / (denominator + half_ms)
    high = (numerator + half_ms) / (denominator - half_ms)
    return low - 0.005, high + 0.005


def test_quick_bench_measures_the_six_cases_with_consistent_numbers() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "-v", "--repeat", str(REPEAT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, f"--- stdout\n{out}\n--- stderr\n{result.stderr}"
    lines = out.splitlines()
    assert lines[0].startswith("host: 25 revisions (5 core, 5 plugins x 4) in "), out
    assert "21 revisions (1 core, 5 other branches on its label)" in lines[0], out
    assert "45 revisions (5 core, 5 plugins x 8)" in lines[0], out

    # Each case was checked first: both tools did the same work.
    checked = {m["name"]: m["said"] for line in lines if (m := CHECKED.match(line))}
    assert checked == {name: said for name, (_, said) in CASES.items()}, out

    # Every timed run of both tools, named by its case.
    runs: dict[str, list[tuple[float, float]]] = {}
    for m in (m for line in lines if (m := RUN.match(line))):
        assert int(m["of"]) == REPEAT and int(m["n"]) == len(runs.get(m["name"], [])) + 1, out
        runs.setdefault(m["name"], []).append((float(m["raw"]), float(m["ours"])))
    assert list(runs) == list(CASES), out
    assert all(len(times) == REPEAT for times in runs.values()), out
    assert all(0 < t < 60 for times in runs.values() for pair in times for t in pair), out

    rows = [m for line in lines if (m := ROW.match(line))]
    assert [m["name"] for m in rows] == list(CASES), out
    for row in rows:
        name = row["name"]
        raw, ours, ratio = float(row["raw"]), float(row["ours"]), float(row["ratio"])
        # the medians are those of the printed runs
        assert math.isclose(raw, statistics.median(r for r, _ in runs[name]), abs_tol=0.0011)
        assert math.isclose(ours, statistics.median(o for _, o in runs[name]), abs_tol=0.0011)
        # the ratio is scaffold's median over Alembic's: a real positive number
        assert math.isfinite(ratio) and ratio > 0, row.string
        low, high = ratio_bounds(ours, raw)
        assert low <= ratio <= high, row.string
        target = CASES[name][0]
        assert float(row["target"]) == target, row.string
        if abs(ratio - target) > 0.005:  # printed rounded: at the target, either verdict fits
            assert row["result"] == ("ok" if ratio <= target else "over"), row.string

    # What --from-models cannot go below, from the same run's medians.
    (floor,) = [line for line in lines if line.startswith("--from-models floor: ")]
    medians = {m["name"]: (float(m["raw"]), float(m["ours"])) for m in rows}
    help_raw = medians["--help"][0]
    replay = medians["upgrade --from-models vs replay (45 revisions)"][0]
    found = re.fullmatch(
        r"--from-models floor: alembic --help alone takes (\d+\.\d{3})s, (\d+\.\d{2})x of "
        r"the replay \(target 0\.10x\)",
        floor,
    )
    assert found is not None, floor
    assert math.isclose(float(found[1]), help_raw, abs_tol=0.0011), floor
    low, high = ratio_bounds(help_raw, replay)
    assert low <= float(found[2]) <= high, floor

    # bench/suite.py's table on the same graph follows, its runs checked the same way.
    assert "left the same database: alembic_version holds the graph's heads (5 rows)" in out, out


def test_bench_exits_2_on_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--repeat must be at least 1" in result.stderr
