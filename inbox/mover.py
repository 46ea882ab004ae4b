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

This module runs those steps in order and one flush at a time. What moves and what becomes of
each file is flight.py's; starting and sharing the rsyncs is rsync_streams.py's; counting the
flushes for /metrics is tally.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from balupi.config_inbox import InboxConfig
from balupi.inbox import rsync_command as cmd
from balupi.inbox.flight import Flight
from balupi.inbox.report import FlushReport, InboxStatus
from balupi.inbox.rsync_output import parse_items
from balupi.inbox.rsync_run import run_rsync
from balupi.inbox.rsync_streams import EarlyRsyncs, error_text
from balupi.inbox.scan import status
from balupi.inbox.split import split_names
from balupi.inbox.staging import Staging, StagingError
from balupi.inbox.tally import FlushTally

log = logging.getLogger("balupi.inbox")

# A taken name gets a new one and is sent again; a name taken again (someone is filling the NAS
# folder at this very moment) gets another try, up to this many sends in one flush.
_MAX_SENDS = 4
# Two rsyncs share a flush of small files: one rsync's sender, generator and receiver take turns
# and leave the CPUs idle much of the time, and a second fills those gaps (bench.inbox_flush:
# about a fifth faster for 10,000 files of 10 KB on two CPUs). A third only adds contention.
_STREAMS = 2

_T = TypeVar("_T")


class FlushBusyError(Exception):
    """Another process (e.g. ``balupi inbox flush``) is flushing this inbox right now."""


class InboxMover:
    """Moves the inbox to the NAS. One per process; ``flush()`` runs one flush at a time:
    a call made while a flush runs joins it and gets the same report, and a flush started by
    another process makes ``flush()`` raise FlushBusyError (a file lock in the staging folder).
    ``tally`` counts what the flushes of this process did.
    """

    def __init__(self, config: InboxConfig) -> None:
        self.config = config
        self.staging = Staging(config.staging_path, config.path)
        self.tally = FlushTally()
        self._task: asyncio.Task[FlushReport] | None = None

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
            return self._finish(report, started, str(err))
        with self._exclusive():
            error = await self._move(report)
        if error is None and report.problems:
            error = f"{len(report.problems)} file(s) could not be moved"
        return self._finish(report, started, error)

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

    async def _move(self, report: FlushReport) -> str | None:
        """Send the ready files; the error text, or None when all went."""
        flight = Flight(self.config, self.staging)
        source = str(self.staging.files)
        argv = cmd.transfer_argv(self.config, source, whole_file=True, names_on_stdin=True)
        streams = await asyncio.to_thread(self._streams_wanted)
        try:
            async with EarlyRsyncs(argv, streams) as early:
                # Moving into staging runs to its end even when cancelled, so that all of it
                # goes back below.
                await _to_the_end(flight.take, report)
                return await self._send(flight, report, early)
        finally:
            # The rsyncs have ended. Also when cancelled mid-send: every file is on the NAS or
            # back in the inbox.
            if flight.files:
                await asyncio.to_thread(flight.settle, report)

    def _streams_wanted(self) -> int:
        """How many rsyncs log in to the NAS while the inbox is scanned: none for an empty
        inbox, one with a bandwidth limit (so that the limit holds)."""
        if not _holds_anything(self.config.path):
            return 0
        return 1 if self.config.bandwidth_limit_kib else _STREAMS

    async def _send(self, flight: Flight, report: FlushReport, early: EarlyRsyncs) -> str | None:
        """Send the staged files, renaming those whose name is taken on the NAS, until all went
        or nothing more can; the error text, or None when all went."""
        # Small files go whole and are shared by the early rsyncs; a big file to resume goes
        # with rsync's delta transfer through one rsync of its own.
        parts = split_names(flight.files, early.count) if flight.small_files_only else []
        if not flight.files:
            await early.share([])  # nothing to send: they end unused
            return None
        source = str(self.staging.files)
        argv = cmd.transfer_argv(self.config, source, whole_file=flight.small_files_only)
        tag = datetime.fromtimestamp(report.started_at).strftime("%Y-%m-%d %H-%M-%S")
        error = None
        for round_ in range(_MAX_SENDS):
            sent = await early.share(parts) if round_ == 0 else None
            if sent is None:
                sent = await run_rsync(argv)
            if not sent.ok:
                error = error_text(sent)
            flight.note_send(error)
            left = await asyncio.to_thread(self.staging.files_left)
            if not left or sent.code not in cmd.PER_FILE_CODES:
                return error
            # rsync left some: names taken on the NAS, or files that failed. Ask which.
            compared = await run_rsync(cmd.compare_argv(self.config, source), capture_stdout=True)
            if compared.code not in cmd.PER_FILE_CODES:
                return error_text(compared)
            items = {i.name: i for i in parse_items(compared.stdout) if i.is_file}
            taken = await asyncio.to_thread(flight.sort_out, left, items, report)
            renamed = [flight.rename(rel, tag) for rel in taken]
            if not any(renamed):
                return error
        return "names kept being taken on the NAS while renaming"

    def _finish(self, report: FlushReport, started: float, error: str | None) -> FlushReport:
        report.conclude(error, time.monotonic() - started)
        self.tally.count(report, time.time())
        if error is not None:
            log.warning("inbox flush %s", report.summary())
        else:
            log.info("inbox flush %s", report.summary())
        return report


async def _to_the_end(work: Callable[[FlushReport], _T], report: FlushReport) -> _T:
    """``work(report)`` in a thread. A cancel waits until it is done, then goes on: what it did
    must be seen whole by whoever undoes it."""
    task = asyncio.ensure_future(asyncio.to_thread(work, report))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _holds_anything(folder: os.PathLike[str]) -> bool:
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:
        return False
