"""How a command's call runs through scaffold's modules: ``python tests/callflow.py ARGS...``.

Runs ``scaffold ARGS`` in this process with a profile hook on every call made by scaffold's own
code, and prints, for each module of ``plugin_scaffold``, how many times one chain of calls
entered it: a chain ``commands.revision -> databases.urls`` enters each module once; a chain
``commands.workspace -> commands.revision -> commands.workspace`` enters the workspace twice, the
second time by a call climbing back up. Calls inside one module are one stop. Issue 17's
measure of "one way through each command": each module entered at most twice in any chain.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

PACKAGE = "plugin_scaffold"


@dataclass
class Flow:
    """The module chains seen: for each module, the most times one chain entered it."""

    entered: Counter[str] = field(default_factory=Counter)
    #: One chain where that count was reached, for the report.
    example: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Calls from one module into another (a stop), and those into a module already in the chain.
    stops: int = 0
    climbs: int = 0
    #: Name the function by which each module was entered (``--detail``).
    detail: bool = False

    def module_of(self, frame: FrameType) -> str | None:
        name = frame.f_globals.get("__name__", "")
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            return name.removeprefix(PACKAGE + ".")
        return None

    def chain(self, frame: FrameType | None) -> tuple[str, ...]:
        modules: list[str] = []
        while frame is not None:
            module = self.module_of(frame)
            if module is not None and (not modules or modules[-1].split(":")[0] != module):
                modules.append(f"{module}:{frame.f_code.co_name}" if self.detail else module)
            frame = frame.f_back
        return tuple(reversed(modules))

    def hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = self.module_of(frame)
        if module is None:
            return
        caller = frame.f_back
        while caller is not None and self.module_of(caller) is None:
            caller = caller.f_back
        if caller is None or self.module_of(caller) == module:
            return
        chain = self.chain(frame)
        self.stops += 1
        if module in [m.split(":")[0] for m in chain[:-1]]:
            self.climbs += 1
        times = [m.split(":")[0] for m in chain].count(module)
        if times > self.entered[module]:
            self.entered[module] = times
            self.example[module] = chain

    def report(self) -> str:
        lines = [f"{self.stops} stops between modules, {self.climbs} of them back into one"]
        for module, times in self.entered.most_common():
            shown = " -> ".join(self.example[module]) if times > 2 else ""
            lines.append(f"{times:3}  {module}  {shown}".rstrip())
        return "\n".join(lines)


def trace(argv: list[str], *, detail: bool = False) -> Flow:
    """Run ``scaffold`` with ``argv`` under the hook; the command's exit code is ignored."""
    from plugin_scaffold import cli

    flow = Flow(detail=detail)
    sys.setprofile(flow.hook)
    try:
        cli.main(argv)
    except SystemExit:
        pass
    finally:
        sys.setprofile(None)
    return flow


if __name__ == "__main__":
    detail = "--detail" in sys.argv[1:2]
    print(trace(sys.argv[1 + detail :], detail=detail).report())
