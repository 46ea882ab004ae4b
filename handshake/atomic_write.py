"""Replace a file so that a reader (or a power cut) sees the old or the new content, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(
    path: Path, data: bytes, *, mode: int = 0o644, keep_previous: Path | None = None
) -> None:
    """Write ``data`` to ``path`` through a synced temp file and a rename.

    With ``keep_previous`` the old file is first hard-linked there, so the last good version
    survives the replacement.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        if keep_previous is not None and path.exists():
            _replace_link(path, keep_previous)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_dir(path.parent)


def _replace_link(source: Path, target: Path) -> None:
    # Link to a temp name first, then rename: the previous copy is also replaced atomically.
    tmp = target.with_name(f".{target.name}.link")
    tmp.unlink(missing_ok=True)
    os.link(source, tmp)
    os.replace(tmp, target)


def _sync_dir(directory: Path) -> None:
    # The rename lives in the directory: sync it so it survives a power cut too.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
