"""The staging folder: the files of the running flush, taken out of the inbox.

A flush moves its ready files (and folders that hold only ready files) into the staging tree
and rsync sends that tree. The staging folder sits on the inbox's filesystem (a move there is
a rename: no data is copied) and outside the share, so no SMB user sees or changes a file
while it is sent. rsync removes what reached the NAS; whatever stays in staging goes back into
the inbox when the flush ends, or, after a power cut, when the next flush begins. Nothing ever
replaces a file in the inbox: a name taken there meanwhile gets a "(inbox restored)" name.

Folders of the inbox are reached one step at a time with O_NOFOLLOW, and must be the folders the
scan saw (their inode numbers): a folder swapped for a symlink between the scan and the move
(to /etc, say) is refused, so a flush never takes a file from outside the inbox, and never puts
one back outside it. A folder moved whole is checked the same way once in staging.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from balupi.inbox.batch import Batch
from balupi.inbox.no_replace import move_no_replace
from balupi.inbox.report import FileProblem
from balupi.inbox.scan import InboxFile

_MAX_NAME_BYTES = 255
_NO_FOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_TRIES = 100


class StagingError(Exception):
    """The staging folder cannot be used; nothing was moved."""


class Staging:
    def __init__(self, root: Path, inbox: Path) -> None:
        self.root = root
        self.inbox = inbox
        self.files = root / "files"  # the tree rsync sends
        self.lock_path = root / "flush.lock"
        self._made_dirs: set[str] = set()
        self._folders: dict[str, int] = {}  # the inbox's folders as the scan saw them: inodes
        # As strings: a flush may move thousands of files, and Path joins cost more than moves.
        self._inbox_dir, self._files_dir = str(inbox), str(self.files)

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

    def take(self, batch: Batch, problems: list[FileProblem]) -> dict[str, InboxFile]:
        """Move the batch into the staging tree; the files that are there now, by path.

        A client may add or replace a file in the moment between the scan and the move: what
        is not the file the scan saw goes straight back, unsent, to be looked at next round.
        (A folder moved whole is compared by the names and inode numbers its listing gives,
        without a stat per file. A file written to in that moment by a client that opened it
        only then is not told apart; rsync still removes a file here only if its size and time
        did not change while it was sent.)"""
        taken: dict[str, InboxFile] = {}
        self._folders = batch.folders
        loose = list(batch.loose)
        moved_whole = []
        for folder in batch.whole:
            if self._take_one(folder, problems, quiet=True):
                moved_whole.append(folder)
            else:  # e.g. it is gone meanwhile: its ready files are tried one by one
                prefix = folder + "/"
                loose += [f for rel, f in batch.files.items() if rel.startswith(prefix)]
        for f in loose:
            if self._take_one(f.rel, problems):
                self._keep_if_unchanged(f.rel, f, taken, problems)
        for folder in moved_whole:
            self._check_whole(folder, batch, taken, problems)
        return taken

    def _take_one(self, rel: str, problems: list[FileProblem], *, quiet: bool = False) -> bool:
        self._make_parent(rel)
        parent, _, name = rel.rpartition("/")
        try:
            folder = self.open_inbox_folder(parent)
            try:
                if move_no_replace(name, f"{self._files_dir}/{rel}", src_dir_fd=folder):
                    return True
            finally:
                os.close(folder)
            reason = "the staging folder holds that name still (see the problems before)"
        except FileNotFoundError:
            return False  # removed in the inbox meanwhile
        except OSError as err:
            reason = f"cannot move it to the staging folder: {err.strerror}"
        if not quiet:
            problems.append(FileProblem(rel, reason))
        return False

    def _check_whole(
        self, folder: str, batch: Batch, taken: dict[str, InboxFile], problems: list[FileProblem]
    ) -> None:
        """Walk a folder moved whole: the files the scan saw are kept, anything else goes back."""
        st = os.lstat(f"{self._files_dir}/{folder}")
        if not stat.S_ISDIR(st.st_mode) or st.st_ino != batch.folders.get(folder):
            # Swapped after the scan (for a symlink, or another folder): back as it is, unread.
            self.give_back(folder, problems)
            return
        stack = [folder]
        while stack:
            rel_dir = stack.pop()
            with os.scandir(f"{self._files_dir}/{rel_dir}") as entries:
                for entry in entries:
                    rel = f"{rel_dir}/{entry.name}"
                    known = batch.files.get(rel)
                    if (
                        known is not None
                        and known.ino == entry.inode()
                        and entry.is_file(follow_symlinks=False)
                    ):
                        taken[rel] = known
                    elif batch.folders.get(rel) == entry.inode() and entry.is_dir(
                        follow_symlinks=False
                    ):
                        stack.append(rel)
                    else:
                        self.give_back(rel, problems)

    def _keep_if_unchanged(
        self, rel: str, known: InboxFile, taken: dict[str, InboxFile], problems: list[FileProblem]
    ) -> None:
        """A file moved on its own: the move itself sets its ctime, so inode, size and mtime
        tell whether it is the file the scan saw."""
        st = os.lstat(f"{self._files_dir}/{rel}")
        if (st.st_ino, st.st_size, st.st_mtime_ns) == (known.ino, known.size, known.mtime_ns):
            taken[rel] = known
        else:
            self.give_back(rel, problems)

    def give_back(self, rel: str, problems: list[FileProblem]) -> None:
        """Move ``rel`` (a file or a whole folder) from staging back into the inbox."""
        source = self.files / rel
        try:
            if not self.inbox.is_dir():  # the disk went away: never make a new inbox elsewhere
                raise FileNotFoundError(errno.ENOENT, "the inbox is not there")
            parent = self.open_inbox_folder(rel.rpartition("/")[0], create=True)
            try:
                self._give_back_into(parent, rel, source, problems)
            finally:
                os.close(parent)
        except OSError as err:
            problems.append(FileProblem(rel, f"left in the staging folder: {err.strerror}"))

    def _give_back_into(
        self, parent: int, rel: str, source: Path, problems: list[FileProblem]
    ) -> None:
        if source.is_dir() and not source.is_symlink():
            if not move_no_replace(str(source), rel.rpartition("/")[2], dst_dir_fd=parent):
                # The inbox has that folder again: merge, entry by entry.
                for name in os.listdir(source):
                    self.give_back(f"{rel}/{name}", problems)
                os.rmdir(source)
            return
        for attempt in range(_MAX_TRIES):
            name = rel if attempt == 0 else distinct_name(rel, "restored", attempt)
            if move_no_replace(str(source), name.rpartition("/")[2], dst_dir_fd=parent):
                return
            if attempt == 0 and _same_file(source, self.inbox / rel):
                source.unlink()  # a hard link into the inbox (left by an older version)
                return
        raise OSError(errno.EEXIST, "no free name in the inbox")

    def open_inbox_folder(self, rel: str, *, create: bool = False) -> int:
        """A descriptor of the inbox's folder ``rel`` ("" the inbox itself), reached without
        following a symlink at any step. To take from it, each step must be the folder the scan
        saw (when it saw it); to give back (``create``: missing folders are made), any real
        folder will do, a client may have made it anew. OSError otherwise (ELOOP: a symlink)."""
        fd = os.open(self._inbox_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            walked = ""
            for part in rel.split("/") if rel else ():
                walked = f"{walked}/{part}" if walked else part
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, dir_fd=fd)
                inner = os.open(part, _NO_FOLLOW_DIR, dir_fd=fd)
                os.close(fd)
                fd = inner
                seen = None if create else self._folders.get(walked)
                if seen is not None and os.fstat(fd).st_ino != seen:
                    raise OSError(errno.ESTALE, "the folder was replaced after the scan")
            return fd
        except BaseException:
            os.close(fd)
            raise

    def give_back_all(self, problems: list[FileProblem]) -> None:
        """Everything in staging back into the inbox: what a flush did not deliver, or what a
        flush cut off by a power cut left. Folders rsync emptied are removed first."""
        self.remove_empty_folders()
        with contextlib.suppress(FileNotFoundError):
            for name in os.listdir(self.files):
                self.give_back(name, problems)
        self._made_dirs.clear()

    def files_left(self) -> set[str]:
        """The paths of the files still in staging: the ones rsync did not deliver."""
        left: set[str] = set()
        for dirpath, _dirs, names in os.walk(self.files):
            rel_dir = os.path.relpath(dirpath, self.files)
            left.update(names if rel_dir == "." else (f"{rel_dir}/{n}" for n in names))
        return left

    def rename(self, rel: str, new_rel: str) -> bool:
        """Give a staged file another name, never replacing one; False if that name is taken."""
        self._make_parent(new_rel)
        return move_no_replace(str(self.files / rel), str(self.files / new_rel))

    def remove_empty_folders(self) -> None:
        for dirpath, _dirs, _files in os.walk(self.files, topdown=False):
            if dirpath != str(self.files):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)  # fails when not empty: that is the check

    def _make_parent(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent and parent not in self._made_dirs:
            os.makedirs(f"{self._files_dir}/{parent}", exist_ok=True)
            self._made_dirs.add(parent)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samestat(os.lstat(a), os.lstat(b))
    except OSError:
        return False


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
