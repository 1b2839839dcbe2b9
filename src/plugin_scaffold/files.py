"""Writing files so that nothing is half-written and no user file is overwritten by accident."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UsageError


def write_atomically(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` to ``path`` in one step: a reader sees the old file or the whole new one.

    Without ``overwrite`` an existing file is never replaced (the link is made exclusively).
    """
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
