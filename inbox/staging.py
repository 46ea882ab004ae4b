"""The staging folder: hard links of files whose name is taken on the NAS, under the distinct
names they get there.

rsync moves the staging tree, so the inbox keeps the user's names while a file is renamed for
the NAS, and a file is removed from the inbox only after rsync removed its staged link.
The staging folder sits on the inbox's filesystem (a hard link cannot cross filesystems) and
outside the share, so no SMB user sees it.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

from balupi.inbox.report import FileProblem
from balupi.inbox.scan import InboxFile, walk

_MAX_NAME_BYTES = 255


class StagingError(Exception):
    """The staging folder cannot be used; nothing was moved."""


@dataclass
class Staged:
    source: InboxFile  # the inbox file as it was when linked
    name: str  # its path below the staging folder = its path on the NAS
    renames: int = 0  # distinct names tried so far (their names were taken on the NAS)


class Staging:
    def __init__(self, root: Path, inbox: Path) -> None:
        self.root = root
        self.inbox = inbox
        self.files = root / "files"  # the tree rsync sends
        self.lock_path = root / "flush.lock"
        self._made_dirs: set[str] = set()

    def prepare(self) -> None:
        if not self.inbox.is_dir():
            raise StagingError(f"the inbox {self.inbox} is not a folder")
        try:
            self.files.mkdir(mode=0o700, parents=True, exist_ok=True)
            same_fs = self.files.stat().st_dev == self.inbox.stat().st_dev
        except OSError as err:
            raise StagingError(f"cannot use the staging folder {self.root}: {err}") from None
        if not same_fs:
            raise StagingError(
                f"the staging folder {self.root} must be on the inbox's filesystem ({self.inbox})"
            )

    def recover(self, problems: list[FileProblem]) -> None:
        """Clear what an interrupted flush left: a staged link whose inbox original is still
        there is dropped; one whose original is gone is put back into the inbox."""
        for f in list(walk(str(self.files))):
            staged = self.files / f.rel
            try:
                if os.lstat(staged).st_nlink > 1:
                    staged.unlink()
                else:
                    self.put_back(staged, f.rel)
            except OSError as err:
                problems.append(FileProblem(f.rel, f"left in staging: {err.strerror}"))
        self.remove_empty_folders()

    def put_back(self, staged: Path, rel: str) -> str:
        """Link ``staged`` into the inbox at ``rel`` (or a free name beside it), then drop it."""
        for attempt in range(1, 100):
            name = rel if attempt == 1 else distinct_name(rel, "restored", attempt - 1)
            target = self.inbox / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(staged, target)
            except FileExistsError:
                continue
            staged.unlink()
            return name
        raise OSError(errno.EEXIST, "no free name in the inbox")

    def stage(self, f: InboxFile, tag: str) -> Staged:
        """Link an inbox file into the staging tree under its first free distinct name."""
        staged = Staged(f, f.rel)
        self._make_parent(f.rel)
        while staged.renames < 100:
            staged.renames += 1
            name = distinct_name(f.rel, tag, staged.renames)
            try:
                os.link(self.inbox / f.rel, self.files / name, follow_symlinks=False)
            except FileExistsError:
                continue
            staged.name = name
            return staged
        raise OSError(errno.EEXIST, "no free distinct name")

    def rename(self, staged: Staged, new_name: str) -> bool:
        """Give a staged file another name, never replacing one; False if the name is taken."""
        self._make_parent(new_name)
        try:
            os.link(self.files / staged.name, self.files / new_name, follow_symlinks=False)
        except FileExistsError:
            return False
        (self.files / staged.name).unlink()
        staged.name = new_name
        return True

    def is_present(self, staged: Staged) -> bool:
        try:
            os.lstat(self.files / staged.name)
        except FileNotFoundError:
            return False
        return True

    def remove_empty_folders(self) -> None:
        for dirpath, _dirs, _files in os.walk(self.files, topdown=False):
            if dirpath != str(self.files):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)  # fails when not empty: that is the check
        self._made_dirs.clear()

    def _make_parent(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent and parent not in self._made_dirs:
            (self.files / parent).mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(parent)


def distinct_name(rel: str, tag: str, attempt: int) -> str:
    """``a/photo.jpg`` -> ``a/photo (inbox TAG).jpg``, ``a/photo (inbox TAG 2).jpg``, ..."""
    folder, _, base = rel.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    if not stem:  # no extension, or a dot file such as ".profile"
        stem, dot, ext = base, "", ""
    mark = f" (inbox {tag})" if attempt == 1 else f" (inbox {tag} {attempt})"
    tail = f"{mark}{dot}{ext}"
    while len(os.fsencode(stem + tail)) > _MAX_NAME_BYTES and stem:
        stem = stem[:-1]  # a name at the length limit makes room for the mark
    name = stem + tail
    return f"{folder}/{name}" if folder else name


def remove_emptied_folders(root: Path, rels: list[str]) -> None:
    """Remove the folders that held the moved files, and their parents, once empty; never
    ``root`` itself, never a folder that still holds anything (rmdir refuses)."""
    folders: set[str] = set()
    for rel in rels:
        parent = rel.rpartition("/")[0]
        while parent and parent not in folders:
            folders.add(parent)
            parent = parent.rpartition("/")[0]
    for folder in sorted(folders, key=lambda p: p.count("/"), reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(root / folder)
