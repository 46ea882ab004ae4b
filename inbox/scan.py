"""Walking the inbox: the regular files in it, and which are ready to leave."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from balupi.inbox.open_files import FileId, held_open_elsewhere, open_file_ids
from balupi.inbox.report import FileProblem, InboxStatus


@dataclass(frozen=True)
class InboxFile:
    rel: str  # the path below the inbox, "/"-separated
    size: int
    mtime_ns: int
    ctime_ns: int
    dev: int
    ino: int

    @property
    def id(self) -> FileId:
        return (self.dev, self.ino)

    @property
    def changed_ns(self) -> int:
        # Samba sets mtime to the client's (a photo keeps 2019), but ctime is when it changed here.
        return max(self.mtime_ns, self.ctime_ns)


def walk(root: str, problems: list[FileProblem] | None = None) -> Iterator[InboxFile]:
    """Every regular file below ``root``; symlinks and devices are left alone, never followed."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel_dir)) as entries:
                for entry in entries:
                    rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(rel)
                        elif entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            yield InboxFile(
                                rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev,
                                st.st_ino,
                            )  # fmt: skip
                    except OSError:
                        continue  # removed while we looked
        except OSError as err:
            if problems is not None and rel_dir:
                problems.append(FileProblem(rel_dir + "/", f"cannot read folder: {err.strerror}"))


def status(root: str) -> InboxStatus:
    """Raises FileNotFoundError when the inbox is not there (the disk is not mounted)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"the inbox {root} is not a folder")
    files = size = 0
    oldest: int | None = None
    for f in walk(root):
        files += 1
        size += f.size
        oldest = f.changed_ns if oldest is None else min(oldest, f.changed_ns)
    age = None if oldest is None else max(0.0, time.time() - oldest / 1e9)
    return InboxStatus(files=files, bytes=size, oldest_age_seconds=age)


def split_ready(
    files: list[InboxFile], root: str, settle_seconds: float
) -> tuple[list[InboxFile], list[InboxFile]]:
    """(ready, not ready): a file changed in the last ``settle_seconds`` or open by a process
    is not ready. Open is seen in /proc; where /proc hides other users' processes (smbd), the
    kernel is asked per file with a write lease."""
    limit_ns = time.time_ns() - int(settle_seconds * 1e9)
    open_ids, seen_all = open_file_ids(root) if files else (set(), True)
    ready, waiting = [], []
    for f in files:
        busy = (
            f.changed_ns > limit_ns
            or f.id in open_ids
            or (not seen_all and held_open_elsewhere(os.path.join(root, f.rel)) is True)
        )
        (waiting if busy else ready).append(f)
    return ready, waiting
