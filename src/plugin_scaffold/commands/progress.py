"""The progress line of a long ``scaffold upgrade`` or ``downgrade``, on a terminal.

One line on stderr, rewritten in place as each revision is recorded::

    upgrading: 137/5005 p12r033 (p12: add column) 0:12

revisions done of the run's plan, the last one done (its owner and the first line of its
message), and the time since the plan was made. It is shown only when stderr is a terminal,
and only for runs long enough to matter: a plan of more than :data:`LONG_PLAN` revisions, or a
run still going after :data:`SLOW_RUN` seconds. It ends with a newline once the run has
committed, and is wiped when the run fails, so the error line stands alone.

While it is shown, whatever else is written to the terminal (Alembic's ``Running upgrade``
INFO lines, the host's logging, a revision's ``print``, a warning) first wipes it, and it is
drawn again below each finished line: the progress line stays the bottom line, the others
scroll above it unchanged.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..graph.revisions import Graph

#: Plans of more revisions than this show the line from their first revision on.
LONG_PLAN = 20
#: Shorter plans show it once they have run this many seconds.
SLOW_RUN = 2.0
#: The line is redrawn at most this often (seconds), and always for the last revision.
REDRAW = 0.1


def clock(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on)."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def revision_text(graph: Graph, revision_id: str) -> str:
    """``p12r033 (p12: add column)``: a revision, its owner (or ``host``) and its message."""
    revision = graph.script.get_revision(revision_id)
    if revision is None:
        return revision_id
    message = (revision.doc or "").strip().splitlines()
    owner = graph.owner(revision) or "host"
    return f"{revision.revision} ({owner}: {message[0]})" if message else f"{revision.revision}"


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ProgressLine:
    """Counts the revisions of a run (:meth:`planned`, :meth:`applied`) and draws the line.

    Used as a context manager around the run: leaving it ends the line (success) or wipes it
    (an exception), and gives the streams it shared back.
    """

    def __init__(
        self,
        verb: str,
        describe: Callable[[str], str],
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.verb = verb
        self.describe = describe
        self.stream: TextIO = stream if stream is not None else sys.stderr
        #: Whether the line may be shown at all (a terminal; not --sql, not --no-progress).
        self.enabled = enabled and is_terminal(self.stream)
        self.total = 0
        self.done = 0
        self.current: str | None = None
        self.started: float | None = None
        self.shown = False
        self._width = 0  # characters of the line now on the terminal (0: none)
        self._drawn_at = 0.0
        self._drawn_done = -1  # the count the line on the terminal shows
        self._described: tuple[str | None, str] = (None, "")
        self._columns = 79
        self._restore: list[Callable[[], None]] = []

    # --- counting -----------------------------------------------------------------------------

    def planned(self, count: int) -> None:
        """``count`` more revisions are to run (once per database env.py migrates)."""
        if self.started is None:
            self.started = time.monotonic()  # after the migration lock: waiting is not counted
        self.total += count

    def applied(self, *, step: Any, **_: Any) -> None:
        """Alembic's ``on_version_apply``: one revision has run and its row is written."""
        self.done += 1
        self.current = step.up_revision_id
        now = time.monotonic()
        if not self.shown:
            if self.done >= self.total or self.started is None:
                return
            if self.total <= LONG_PLAN and now - self.started < SLOW_RUN:
                return
            self._share_terminal()
            self.shown = True
        elif self.done < self.total and now - self._drawn_at < REDRAW:
            return
        self._draw(now)

    # --- drawing ------------------------------------------------------------------------------

    def _text(self, now: float) -> str:
        if self.current is not None and self._described[0] != self.current:
            self._described = (self.current, f" {self.describe(self.current)}")
        current = self._described[1] if self.current is not None else ""
        elapsed = clock(now - (self.started or now))
        text = f"{self.verb}: {self.done}/{self.total}{current} {elapsed}"
        if len(text) > self._columns:
            head = f"{self.verb}: {self.done}/{self.total} "
            room = self._columns - len(head) - len(elapsed) - 1
            text = f"{head}{current.strip()[: max(room, 0)]} {elapsed}"[: self._columns]
        return text

    def drawing(self, now: float) -> str:
        """What draws the line over the one on the terminal (the caller writes it)."""
        text = self._text(now)
        padding = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self._drawn_at = now
        self._drawn_done = self.done
        return "\r" + text + padding

    def wiping(self) -> str:
        """What wipes the line ('' when it is not on the terminal; the caller writes it)."""
        if not self._width:
            return ""
        blank = "\r" + " " * self._width + "\r"
        self._width = 0
        return blank

    def _draw(self, now: float) -> None:
        self.stream.write(self.drawing(now))
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the line (nothing when it is not on the terminal)."""
        wipe = self.wiping()
        if wipe:
            self.stream.write(wipe)
            self.stream.flush()

    def redraw(self) -> None:
        if self.shown:
            self._draw(time.monotonic())

    # --- the terminal's other writers ---------------------------------------------------------

    def _share_terminal(self) -> None:
        """Route sys.stdout, sys.stderr and the logging handlers writing to a terminal through
        :class:`_Sharing`, so that each of their lines first wipes the progress line."""
        # The last column would wrap on some terminals.
        self._columns = _columns(self.stream) - 1
        shared: dict[int, _Sharing] = {}

        def sharing(stream: Any) -> _Sharing:
            return shared.setdefault(id(stream), _Sharing(stream, self))

        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if is_terminal(stream):
                setattr(sys, name, sharing(stream))
                self._restore.append(functools.partial(setattr, sys, name, stream))
        loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
        for logger in loggers:
            for handler in getattr(logger, "handlers", ()):
                stream = getattr(handler, "stream", None)
                if isinstance(handler, logging.StreamHandler) and is_terminal(stream):
                    handler.setStream(sharing(stream))
                    self._restore.append(functools.partial(handler.setStream, stream))

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for restore in reversed(self._restore):
            restore()
        self._restore.clear()
        if not self.shown:
            return
        if exc_type is None:
            if not self._width or self._drawn_done != self.done:
                self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
        else:
            self.clear()


class _Sharing:
    """A stream that wipes the progress line before writing, and draws it again after a line."""

    def __init__(self, stream: Any, line: ProgressLine) -> None:
        self._stream = stream
        self._line = line

    def write(self, text: str) -> int:
        if not text:
            return 0
        line = self._line
        ends = text.endswith("\n") and line.shown
        if self._stream is line.stream:  # one write: wipe, the text, the line again
            wipe = line.wiping()
            after = line.drawing(time.monotonic()) if ends else ""
            self._stream.write(wipe + text + after)
            if ends:
                self._stream.flush()
            return len(text)
        line.clear()
        self._stream.write(text)
        if ends:
            self._stream.flush()
            line.redraw()
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _columns(stream: Any) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80
