"""``python -m plugin_scaffold.databases.dropper``: drops the scratch databases named on its
stdin (JSON: ``[[admin URL, kind, name], ...]``), all at once, after the test session that
used them has ended (copies.hand_off_drops). What it cannot drop, the next run's sweep does."""

from __future__ import annotations

import json
import sys

from .copies import _drop_all
from .servers import admin_engine
from .urls import DatabaseURL


def main() -> None:
    given = json.loads(sys.stdin.read() or "[]")
    batch = []
    for url, kind, name in given:
        try:
            batch.append((admin_engine(DatabaseURL.parse(url), from_variable=False), kind, name))
        except Exception:  # a server gone since: the next run's sweep
            continue
    _drop_all(batch)


if __name__ == "__main__":
    main()
