"""The benchmark runs end to end: ``bench/run.py --quick`` measures the five cases, exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = ("--help", "heads", "upgrade heads", "revision --autogenerate", "upgrade heads, 5 other")
# A table row: the measurement, two medians, the ratio, the target and the verdict.
ROW = re.compile(
    r"^(?P<name>.+?)\s+\d+\.\d{3}s\s+\d+\.\d{3}s\s+\d+\.\d{2}x\s+<= \d\.\d{2}x\s+(ok|over)$"
)


def test_quick_bench_prints_the_five_measurements_and_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    names = [m["name"] for line in result.stdout.splitlines() if (m := ROW.match(line))]
    assert len(names) == len(ROWS), result.stdout
    for name, expected in zip(names, ROWS, strict=True):
        assert name.startswith(expected), result.stdout


def test_bench_exits_2_on_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "--repeat must be at least 1" in result.stderr
