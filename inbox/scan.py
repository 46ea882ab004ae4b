"""Walking the inbox: the regular files in it, and which are ready to leave."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from balupi.inbox.open_files import FileId, held_open_elsewhere, open_file_ids
from balupi.inbox.report import FileProblem, InboxStatus


@dataclass(frozen=True, slots=True)
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


@dataclass
class Tree:
    """What a walk found besides the files: the folders, to move whole where possible."""

    # Every folder below the root ("a", "a/b"), each after its parent, and its inode number.
    folders: dict[str, int] = field(default_factory=dict)
    # Folders ("" is the root) holding something that is neither a regular file nor a folder
    # (a symlink, a device), or that could not be read whole.
    mixed: set[str] = field(default_factory=set)


def walk(
    root: str, problems: list[FileProblem] | None = None, tree: Tree | None = None
) -> Iterator[InboxFile]:
    """Every regular file below ``root``; symlinks and devices are left alone, never followed.
    With ``tree``, the folders and what else is in them are noted there."""
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
                            if tree is not None:
                                tree.folders[rel] = entry.inode()
                        elif entry.is_file(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                            yield InboxFile(
                                rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev,
                                st.st_ino,
                            )  # fmt: skip
                        elif tree is not None:
                            tree.mixed.add(rel_dir)
                    except OSError:
                        if tree is not None:
                            tree.mixed.add(rel_dir)  # removed while we looked
        except OSError as err:
            if tree is not None:
                tree.mixed.add(rel_dir)
            if problems is not None and rel_dir:
                problems.append(FileProblem(rel_dir + "/", f"cannot read folder: {err.strerror}"))


def status(root: str, in_flight: str | None = None) -> InboxStatus:
    """What waits below ``root`` and ``in_flight`` (the files a running flush took out of the
    inbox and has not delivered yet). Raises FileNotFoundError when the inbox is not there
    (the disk is not mounted)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"the inbox {root} is not a folder")
    files = size = 0
    oldest: int | None = None
    for folder in (root, in_flight):
        for f in walk(folder) if folder else ():
            files += 1
            size += f.size
            oldest = f.changed_ns if oldest is None else min(oldest, f.changed_ns)
    age = None if oldest is None else max(0.0, time.time() - oldest / 1e9)
    return InboxStatus(files=files, bytes=size, oldest_age_seconds=age)


def split_ready(
    files: list[InboxFile],
    root: str,
    settle_seconds: float,
    opened: tuple[set[FileId], bool] | None = None,
) -> tuple[list[InboxFile], list[InboxFile]]:
    """(ready, not ready): a file changed in the last ``settle_seconds`` or open by a process
    is not ready. Open is seen in /proc (``opened``: what open_file_ids found, if asked
    already); where /proc hides other users' processes (smbd), the kernel is asked per file
    with a write lease."""
    limit_ns = time.time_ns() - int(settle_seconds * 1e9)
    if opened is None:
        opened = open_file_ids(root) if files else (set(), True)
    open_ids, seen_all = opened
    ready: list[InboxFile] = []
    waiting: list[InboxFile] = []
    for f in files:
        busy = (
            f.changed_ns > limit_ns
            or f.id in open_ids
            or (not seen_all and held_open_elsewhere(os.path.join(root, f.rel)) is True)
        )
        (waiting if busy else ready).append(f)
    return ready, waiting
