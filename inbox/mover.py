"""The flush: every ready file in the inbox moves to the NAS, and leaves the Pi only then.

One round:
1. put back into the inbox what an interrupted flush left in the staging folder;
2. pick the ready files: not changed for ``settle_seconds``, not open by any process;
3. move them (and folders holding only ready files, whole) into the staging folder, outside
   the share (see staging.py), so that nobody changes them while they are sent;
4. rsync the staging tree to the NAS with --ignore-existing (a name there is never replaced)
   and --remove-source-files (rsync removes a file here once the NAS has it complete);
5. for files rsync left because their name exists on the NAS, a --checksum dry run tells
   "the same file is already there" (remove it here) from "another file has that name"
   (rename it in staging to a distinct name and send it again);
6. put back into the inbox whatever did not go; remove folders the flush emptied (never the
   inbox itself).
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
from balupi.inbox.batch import plan
from balupi.inbox.open_files import open_file_ids
from balupi.inbox.report import FAILED, OK, PARTIAL, FileProblem, FlushReport, InboxStatus, Renamed
from balupi.inbox.rsync_output import Item, parse_items
from balupi.inbox.rsync_run import RsyncResult, RsyncRun, run_rsync
from balupi.inbox.scan import InboxFile, Tree, split_ready, status, walk
from balupi.inbox.split import split_names
from balupi.inbox.staging import Staging, StagingError, distinct_name, remove_emptied_folders

log = logging.getLogger("balupi.inbox")

# A taken name gets a new one and is sent again; a name taken again (someone is filling the NAS
# folder at this very moment) gets another try, up to this many sends in one flush.
_MAX_SENDS = 4
# Two rsyncs share a flush of small files: one rsync's sender, generator and receiver take turns
# and leave the CPUs idle much of the time, and a second fills those gaps (bench.inbox_flush:
# about a fifth faster for 10,000 files of 10 KB on two CPUs). A third only adds contention.
_STREAMS = 2


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
        return status(str(self.config.path), str(self.staging.files))

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

    def _take(self, report: FlushReport) -> _InFlight:
        """Recover, pick the ready files and move them into the staging folder."""
        self.staging.give_back_all(report.problems)
        inbox = str(self.config.path)
        tree = Tree()
        files = list(walk(inbox, report.problems, tree))
        opened = open_file_ids(inbox) if files else (set(), True)
        ready, waiting = split_ready(files, inbox, self.config.settle_seconds, opened)
        report.not_ready = [f.rel for f in waiting]
        if not ready:
            return _InFlight({})
        batch = plan(files, ready, tree, opened[0])
        return _InFlight(self.staging.take(batch, report.problems))

    async def _move(self, report: FlushReport) -> str | None:
        """Send the ready files; the error text, or None when all went."""
        source = str(self.staging.files)
        early: list[RsyncRun] = []
        if await asyncio.to_thread(_holds_anything, self.config.path):
            # Logging in to the NAS takes longer than most scans: rsync does it meanwhile, and
            # waits for the names of what to send.
            argv = cmd.transfer_argv(self.config, source, whole_file=True, names_on_stdin=True)
            for _stream in range(1 if self.config.bandwidth_limit_kib else _STREAMS):
                early.append(await RsyncRun.start(argv, names_on_stdin=True))
        flight = None
        try:
            taking = asyncio.ensure_future(asyncio.to_thread(self._take, report))
            try:
                flight = await asyncio.shield(taking)
            except asyncio.CancelledError:
                flight = await taking  # let the move end, so that all of it goes back below
                raise
            whole_file = bool(flight.files) and (
                max(f.size for f in flight.files.values()) < cmd.RESUME_FROM_BYTES
            )
            parts = split_names(flight.files, len(early)) if whole_file else []
            # Not needed: nothing to send, a big file to resume (delta, one rsync), or fewer
            # parts than rsyncs.
            for run in early[len(parts) :]:
                await run.abandon()
            if not flight.files:
                return None
            return await self._send(
                flight, report, list(zip(early[: len(parts)], parts, strict=True)), whole_file
            )
        finally:
            for run in early:
                await run.stop()  # those that ran have ended already
            if flight is not None and flight.files:
                # Also when cancelled mid-send: every file is on the NAS or back in the inbox.
                await asyncio.to_thread(self._settle, flight, report)

    async def _send(
        self,
        flight: _InFlight,
        report: FlushReport,
        early: list[tuple[RsyncRun, list[str]]],
        whole_file: bool,
    ) -> str | None:
        source = str(self.staging.files)
        tag = datetime.fromtimestamp(report.started_at).strftime("%Y-%m-%d %H-%M-%S")
        error = None
        for _send in range(_MAX_SENDS):
            if early:
                sent = _worst(await asyncio.gather(*(run.result(names) for run, names in early)))
                early = []
            else:
                sent = await run_rsync(
                    cmd.transfer_argv(self.config, source, whole_file=whole_file)
                )
            error = _error(sent) if not sent.ok else error
            flight.why = "not transferred this round" + (
                f" ({error.split(':')[0]})" if error else ""
            )
            left = await asyncio.to_thread(self.staging.files_left)
            if not left or sent.code not in cmd.PER_FILE_CODES:
                return error
            # rsync left some: names taken on the NAS, or files that failed. Ask which.
            compared = await run_rsync(cmd.compare_argv(self.config, source), capture_stdout=True)
            if compared.code not in cmd.PER_FILE_CODES:
                return _error(compared)
            items = {i.name: i for i in parse_items(compared.stdout) if i.is_file}
            taken = await asyncio.to_thread(self._sort_out, flight, left, items, report)
            if not taken:
                return error
            renamed = False
            for rel in taken:
                renamed |= self._rename(flight, rel, tag)
            if not renamed:
                return error
        return "names kept being taken on the NAS while renaming"

    def _sort_out(
        self, flight: _InFlight, left: set[str], items: dict[str, Item], report: FlushReport
    ) -> list[str]:
        """Of the files rsync left in staging: the ones whose name is taken on the NAS by
        another file. The same file already there is removed here; a failed one goes back."""
        taken = []
        for rel, name in flight.names.items():
            if name not in left:
                continue
            item = items.get(name)
            if item is None or item.is_new:  # not a taken name: it failed
                self.staging.give_back(name, report.problems)
                flight.returned.add(rel)
                report.problems.append(FileProblem(rel, flight.why))
            elif item.same_content:  # an earlier flush was cut off after rsync wrote it
                try:
                    os.unlink(self.staging.files / name)
                except OSError as err:
                    report.problems.append(FileProblem(rel, f"cannot remove: {err.strerror}"))
                    continue
                flight.delivered_before.add(rel)
                report.already_on_nas.append(rel)
            else:
                taken.append(rel)
        return taken

    def _rename(self, flight: _InFlight, rel: str, tag: str) -> bool:
        while flight.renames.get(rel, 0) < 100:
            attempt = flight.renames[rel] = flight.renames.get(rel, 0) + 1
            new_name = distinct_name(rel, tag, attempt)
            if self.staging.rename(flight.names[rel], new_name):
                log.info("%r exists on the NAS: sending it as %r", flight.names[rel], new_name)
                flight.names[rel] = new_name
                return True
        return False

    def _settle(self, flight: _InFlight, report: FlushReport) -> None:
        """Count what reached the NAS; put the rest back into the inbox."""
        left = self.staging.files_left()
        moved = []
        for rel, f in flight.files.items():
            if rel in flight.returned or rel in flight.delivered_before:
                continue
            name = flight.names[rel]
            if name in left:
                report.problems.append(FileProblem(rel, flight.why))
                continue
            moved.append(rel)
            report.moved_files += 1
            report.moved_bytes += f.size
            if name != rel:
                report.renamed.append(Renamed(rel, name))
        self.staging.give_back_all(report.problems)
        remove_emptied_folders(self.config.path, moved + sorted(flight.delivered_before))

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


def _worst(results: list[RsyncResult]) -> RsyncResult:
    """One result for rsyncs that shared a send: the first that broke off, else the first
    that left files, else OK."""
    broken = [r for r in results if r.code not in cmd.PER_FILE_CODES]
    return (broken or [r for r in results if not r.ok] or results)[0]


def _holds_anything(folder: os.PathLike[str]) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


class _InFlight:
    """The files of one flush while they are in the staging folder."""

    def __init__(self, files: dict[str, InboxFile]) -> None:
        self.files = files  # by their path in the inbox
        self.names = {rel: rel for rel in files}  # their path in staging (= on the NAS)
        self.renames: dict[str, int] = {}  # distinct names tried, per file
        self.returned: set[str] = set()  # failed, back in the inbox already
        self.delivered_before: set[str] = set()  # the NAS had them already
        self.why = "not transferred this round"  # for the files that stay


def _error(result: RsyncResult) -> str:
    text = cmd.describe_exit(result.code)
    return f"{text}: {result.stderr_tail}" if result.stderr_tail else text
