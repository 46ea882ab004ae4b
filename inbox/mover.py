"""The flush: every ready file in the inbox moves to the NAS, and leaves the Pi only then.

One round:
1. clear what an interrupted flush left in the staging folder (see staging.py);
2. pick the ready files: not changed for ``settle_seconds``, not open by any process;
3. rsync exactly those to the NAS with --ignore-existing (a name there is never replaced) and
   --remove-source-files (rsync removes a file here once the NAS has it complete, and only if
   it did not change meanwhile);
4. for files rsync left because their name exists on the NAS, a --checksum dry run tells
   "the same file is already there" (remove it here) from "another file has that name";
5. such a file is hard-linked into the staging folder under a distinct name and sent from
   there; the inbox file goes once rsync removed the staged link and the file is unchanged;
6. remove folders the flush emptied (never the inbox itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime

from balupi.config_inbox import InboxConfig
from balupi.inbox import rsync_command as cmd
from balupi.inbox.report import FAILED, OK, PARTIAL, FileProblem, FlushReport, InboxStatus, Renamed
from balupi.inbox.rsync_output import parse_items
from balupi.inbox.rsync_run import RsyncResult, run_rsync
from balupi.inbox.scan import InboxFile, split_ready, status, walk
from balupi.inbox.staging import (
    Staged,
    Staging,
    StagingError,
    distinct_name,
    remove_emptied_folders,
)

log = logging.getLogger("balupi.inbox")

# A taken name gets a new one and is sent again; a name taken again (someone is filling the NAS
# folder at this very moment) gets another try, up to this many sends in one flush.
_MAX_SENDS = 4


class FlushBusyError(Exception):
    """Another process (e.g. ``balupi inbox flush``) is flushing this inbox right now."""


class InboxMover:
    """Moves the inbox to the NAS. One per process; ``flush()`` runs one flush at a time:
    a call made while a flush runs joins it and gets the same report, and a flush started by
    another process makes ``flush()`` raise FlushBusyError (a file lock in the staging folder).
    """

    def __init__(self, config: InboxConfig) -> None:
        self.config = config
        self.staging = Staging(config.staging_path, config.path)
        self._task: asyncio.Task[FlushReport] | None = None
        # Since the process started, for /metrics.
        self.moved_files_total = 0
        self.moved_bytes_total = 0
        self.renamed_files_total = 0
        self.flushes_total = {OK: 0, PARTIAL: 0, FAILED: 0}
        self.last_report: FlushReport | None = None
        self.last_error: str | None = None  # of the last flush that was not OK
        self.last_error_at: float | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def scan(self) -> InboxStatus:
        """Files and bytes waiting in the inbox now (a walk of the folder: call it off the
        event loop when the inbox may hold many thousand files)."""
        return status(str(self.config.path))

    async def flush(self) -> FlushReport:
        """Move every ready file to the NAS; the report says what moved, what was renamed,
        what waits and why. Raises FlushBusyError only when another process is flushing."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())
            self._task.add_done_callback(self._forget_task)
        # A caller that gives up (a cancelled request) must not cut the flush short.
        return await asyncio.shield(self._task)

    def _forget_task(self, task: asyncio.Task[FlushReport]) -> None:
        if self._task is task:
            self._task = None

    async def _flush(self) -> FlushReport:
        report = FlushReport(started_at=time.time())
        started = time.monotonic()
        try:
            await asyncio.to_thread(self.staging.prepare)
        except StagingError as err:
            return self._record(report, started, str(err))
        with self._exclusive():
            error = await self._move(report)
        if error is None and report.problems:
            error = f"{len(report.problems)} file(s) could not be moved"
        return self._record(report, started, error)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        fd = os.open(self.staging.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise FlushBusyError(f"another process is flushing {self.config.path}") from None
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _pick(self, report: FlushReport) -> list[InboxFile]:
        self.staging.recover(report.problems)
        files = list(walk(str(self.config.path), report.problems))
        ready, waiting = split_ready(files, str(self.config.path), self.config.settle_seconds)
        report.not_ready = [f.rel for f in waiting]
        return ready

    async def _move(self, report: FlushReport) -> str | None:
        """Send the ready files; the error text, or None when all went."""
        ready = await asyncio.to_thread(self._pick, report)
        if not ready:
            return None
        inbox = str(self.config.path)
        try:
            whole_file = max(f.size for f in ready) < cmd.RESUME_FROM_BYTES
            sent = await run_rsync(
                cmd.transfer_argv(self.config, inbox, files_from=True, whole_file=whole_file),
                files=[f.rel for f in ready],
            )
        finally:
            left = await asyncio.to_thread(self._count_moved, ready, report)
        error = None if sent.ok else _error(sent)
        if not left or sent.code not in cmd.PER_FILE_CODES:
            self._left_with(left, error, report)
            return error
        # rsync left some: names taken on the NAS, or files that failed. Ask which.
        compared = await run_rsync(
            cmd.compare_argv(self.config, inbox, files_from=True),
            files=[f.rel for f in left],
            capture_stdout=True,
        )
        if compared.code not in cmd.PER_FILE_CODES:
            self._left_with(left, _error(compared), report)
            return _error(compared)
        items = {i.name: i for i in parse_items(compared.stdout) if i.is_file}
        taken: list[InboxFile] = []
        failed: list[InboxFile] = []
        for f in left:
            item = items.get(f.rel)
            if item is None or item.is_new:
                failed.append(f)  # not a taken name: it failed, and stays for the next round
            elif item.same_content:
                self._drop_delivered(f, report)
            else:
                taken.append(f)
        self._left_with(failed, error, report)
        if taken:
            error = await self._send_renamed(taken, report) or error
        return error

    def _count_moved(self, ready: list[InboxFile], report: FlushReport) -> list[InboxFile]:
        """Count what rsync removed here (it is on the NAS); the files still here."""
        inbox = str(self.config.path)
        left, moved = [], []
        for f in ready:
            try:
                still = os.lstat(os.path.join(inbox, f.rel)).st_ino == f.ino
            except FileNotFoundError:
                still = False
            if still:
                left.append(f)
            else:
                moved.append(f.rel)
                report.moved_files += 1
                report.moved_bytes += f.size
        remove_emptied_folders(self.config.path, moved)
        return left

    def _drop_delivered(self, f: InboxFile, report: FlushReport) -> None:
        """The NAS has this very file under this name (a flush cut off after rsync wrote it, or
        the same file dropped twice): remove it here, unless it changed since it was compared."""
        path = os.path.join(self.config.path, f.rel)
        try:
            st = os.lstat(path)
            if (st.st_ino, st.st_size, st.st_mtime_ns) != (f.ino, f.size, f.mtime_ns):
                report.problems.append(FileProblem(f.rel, "changed during the flush"))
                return
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as err:
            report.problems.append(
                FileProblem(
                    f.rel, f"on the NAS already, but cannot be removed here: {err.strerror}"
                )
            )
            return
        report.already_on_nas.append(f.rel)
        remove_emptied_folders(self.config.path, [f.rel])

    def _left_with(self, left: list[InboxFile], error: str | None, report: FlushReport) -> None:
        why = "not transferred this round" + (f" ({error.split(':')[0]})" if error else "")
        report.problems += [FileProblem(f.rel, why) for f in left]

    async def _send_renamed(self, taken: list[InboxFile], report: FlushReport) -> str | None:
        """Send files whose name is taken on the NAS under distinct names, from the staging
        folder; the error text or None."""
        tag = datetime.fromtimestamp(report.started_at).strftime("%Y-%m-%d %H-%M-%S")
        staged: list[Staged] = []
        try:
            for f in taken:
                try:
                    staged.append(self.staging.stage(f, tag))
                except OSError as err:
                    # e.g. a file the service may not link (protected_hardlinks): the rest go on.
                    report.problems.append(FileProblem(f.rel, f"cannot stage: {err.strerror}"))
            return await self._send_staged(staged, tag, report) if staged else None
        finally:
            # Also when cancelled mid-send: settle every staged file before letting go.
            await asyncio.to_thread(self._settle, staged, report)

    async def _send_staged(self, staged: list[Staged], tag: str, report: FlushReport) -> str | None:
        source = str(self.staging.files)
        for _send in range(_MAX_SENDS):
            result = await run_rsync(cmd.transfer_argv(self.config, source, files_from=False))
            left = [s for s in staged if self.staging.is_present(s)]
            if not left or result.code not in cmd.PER_FILE_CODES:
                return None if not left and result.ok else _error(result)
            compared = await run_rsync(
                cmd.compare_argv(self.config, source, files_from=False), capture_stdout=True
            )
            if compared.code not in cmd.PER_FILE_CODES:
                return _error(compared)
            items = {i.name: i for i in parse_items(compared.stdout) if i.is_file}
            renamed = False
            for s in left:
                item = items.get(s.name)
                if item is not None and not item.is_new:  # this distinct name got taken too
                    renamed |= self._rename(s, tag)
            if not renamed:
                return None if result.ok else _error(result)
        return "names kept being taken on the NAS while renaming"

    def _rename(self, s: Staged, tag: str) -> bool:
        taken = s.name
        while s.renames < 100:
            s.renames += 1
            if self.staging.rename(s, distinct_name(s.source.rel, tag, s.renames)):
                log.info("%r exists on the NAS: sending it as %r", taken, s.name)
                return True
        return False

    def _settle(self, staged: list[Staged], report: FlushReport) -> None:
        moved_rels = []
        for s in staged:
            rel = s.source.rel
            if self.staging.is_present(s):
                self._unstage(s, report)
                report.problems.append(FileProblem(rel, "not transferred this round"))
                continue
            path = os.path.join(self.config.path, rel)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None  # deleted in the inbox meanwhile; the NAS has it
            if st is not None:
                if (st.st_ino, st.st_size, st.st_mtime_ns) != (
                    s.source.ino, s.source.size, s.source.mtime_ns,
                ):  # fmt: skip
                    report.problems.append(FileProblem(rel, "changed while it was sent: the NAS "
                                                            "has the earlier version, this one "
                                                            "goes next round"))  # fmt: skip
                    continue
                try:
                    os.unlink(path)
                except OSError as err:
                    report.problems.append(
                        FileProblem(rel, f"on the NAS, but cannot be removed here: {err.strerror}")
                    )
                    continue
            moved_rels.append(rel)
            report.moved_files += 1
            report.moved_bytes += s.source.size
            report.renamed.append(Renamed(rel, s.name))
        remove_emptied_folders(self.config.path, moved_rels)
        self.staging.remove_empty_folders()

    def _unstage(self, s: Staged, report: FlushReport) -> None:
        path = self.staging.files / s.name
        try:
            if os.lstat(path).st_nlink > 1:
                path.unlink()  # the inbox still has it
            else:
                self.staging.put_back(path, s.source.rel)  # the inbox lost it meanwhile
        except OSError as err:
            report.problems.append(FileProblem(s.source.rel, f"left in staging: {err.strerror}"))

    def _record(self, report: FlushReport, started: float, error: str | None) -> FlushReport:
        report.duration_seconds = time.monotonic() - started
        report.error = error
        if error is None:
            report.result = OK
        elif report.moved_files or report.already_on_nas:
            report.result = PARTIAL
        else:
            report.result = FAILED
        self.flushes_total[report.result] += 1
        self.moved_files_total += report.moved_files
        self.moved_bytes_total += report.moved_bytes
        self.renamed_files_total += len(report.renamed)
        self.last_report = report
        if error is not None:
            self.last_error, self.last_error_at = error, time.time()
            log.warning("inbox flush %s", report.summary())
        else:
            log.info("inbox flush %s", report.summary())
        return report


def _error(result: RsyncResult) -> str:
    text = cmd.describe_exit(result.code)
    return f"{text}: {result.stderr_tail}" if result.stderr_tail else text
