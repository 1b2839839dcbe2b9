"""Reading and writing files so that nothing is half-written, no user file is overwritten by
accident, and an edited file keeps its bytes, line endings, permissions and symlinks."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .errors import UsageError


def read_text(path: Path) -> str:
    """A text file exactly as stored: ``\\r\\n`` stays ``\\r\\n`` (``Path.read_text`` would turn
    it into ``\\n``, and the file would come back with other line endings)."""
    return path.read_bytes().decode("utf-8")


def newline_of(text: str) -> str:
    """The line ending a file uses (its first one), for the lines an edit adds."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def ensure_writable(path: Path) -> None:
    """Refuse, before anything is written, a file its owner has made read-only.

    An atomic write replaces the file through its folder, which would succeed where ``echo >>``
    is refused; root could write it too. A file without any write permission bit was made
    read-only on purpose and is left as it is.
    """
    target = path.resolve()
    try:
        mode = target.stat().st_mode
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise UsageError(f"{path}: read-only; not edited (nothing was changed)")
    if not os.access(target.parent, os.W_OK):
        raise UsageError(f"{path}: its folder is read-only; not edited (nothing was changed)")


def check_output_file(path: Path, option: str = "-o") -> None:
    """Refuse, before any work, a file to write that cannot be one: a folder, or a file in a
    folder that does not exist or cannot be written to."""
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: cannot be written (permission denied)")


def write_atomically(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` to ``path`` in one step: a reader sees the old file or the whole new one.

    Without ``overwrite`` an existing file is never replaced (the link is made exclusively).
    With it, a symlink is written through: the file it points to gets the new text and the link
    stays a link.
    """
    if overwrite:
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise UsageError(f"{path}: already exists; not overwritten") from None
            os.unlink(tmp)
        tmp = ""
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def installed_file(path: Path) -> bool:
    """True for a file that an installed distribution owns (under a site-packages folder).

    Such a file is replaced on the next install or upgrade of its package, and may be shared by
    other environments: scaffold never edits it.
    """
    import site
    import sysconfig

    resolved = path.resolve()
    if {"site-packages", "dist-packages"} & set(resolved.parts[:-1]):
        return True
    roots = {sysconfig.get_paths()[name] for name in ("purelib", "platlib")}
    roots.update(getattr(site, "getsitepackages", list)())
    return any(resolved.is_relative_to(Path(root).resolve()) for root in roots)


_T = TypeVar("_T")


def write_kept_json(path: Path, data: Any) -> None:
    """``data`` as the JSON file ``path`` of a cache folder, whole or not at all (see
    :func:`write_kept`)."""
    with contextlib.suppress(TypeError, ValueError):
        write_kept(path, json.dumps(data, separators=(",", ":")).encode())


def write_kept(path: Path, data: bytes, mode: int = 0o666) -> None:
    """``data`` as the file ``path`` of a cache folder (``<cache>/<kind>/<file>``), whole or
    not at all: staged beside it under a hidden name (made with ``mode``, less the umask), then
    renamed. A folder that cannot be written is left as it was (the next run does without).

    The cache folder and its ``<kind>`` folder are made, never what holds them: a cache folder
    removed while a run went on (a temporary one) is not made again when the run ends."""
    with contextlib.suppress(OSError):
        for folder in (path.parent.parent, path.parent):
            folder.mkdir(exist_ok=True)
        staged = path.with_name(f".{path.stem}-{uuid.uuid4().hex}{path.suffix}")
        try:
            with os.fdopen(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as f:
                f.write(data)
            os.replace(staged, path)
        finally:
            staged.unlink(missing_ok=True)


def kept_json(folder: Path, summary: Callable[[dict[str, Any]], _T]) -> list[_T]:
    """``summary`` of each JSON file ``folder`` keeps; a file a run killed before its rename
    staged, or one that cannot be read or summed up, is left out."""
    found: list[_T] = []
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):
            continue
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, KeyError):
            found.append(summary(json.loads(path.read_text())))
    return found


def clear_kept_json(folder: Path, *also: str) -> None:
    """Remove every JSON file of ``folder``, staged ones included (and those ``also``
    matches)."""
    for pattern in ("*.json", *also):
        for path in folder.glob(pattern):
            path.unlink(missing_ok=True)
