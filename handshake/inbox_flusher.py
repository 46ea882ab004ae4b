"""When the inbox moves to the NAS: right after the NAS announces itself (never delaying the
answer BaluHost waits for), every ``interval_seconds`` while it is online and files wait, and on
demand from the API. The moving itself is balupi.inbox's InboxMover."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from balupi.handshake.controller import NasController
from balupi.handshake.recent_count import RecentCount
from balupi.handshake.states import NasState
from balupi.inbox import FlushBusyError, FlushReport, InboxMover, InboxStatus

log = logging.getLogger("balupi.handshake.inbox")


class NasNotOnline(Exception):
    """A flush was asked for while the NAS sleeps or is away: there is nowhere to send to."""


class InboxFlusher:
    def __init__(self, mover: InboxMover, controller: NasController, interval: float) -> None:
        self.mover = mover
        self.controller = controller
        self.interval = interval
        # One recent count for every caller; a flush makes it stale.
        self.counted: RecentCount[InboxStatus] = RecentCount(mover.scan)
        self._loop: asyncio.Task[None] | None = None
        self._after_online: asyncio.Task[None] | None = None

    async def scan(self) -> InboxStatus:
        # Walking the inbox is disk work: done off the event loop, shared between callers.
        return (await self.counted.get_async()).value

    def after_coming_online(self) -> None:
        """Start a flush in the background; the announcement is answered meanwhile."""
        if self._after_online is None or self._after_online.done():
            self._after_online = asyncio.create_task(self._flush_logged("the NAS came online"))

    async def flush_now(self) -> FlushReport:
        """A flush for the API: refused while the NAS is not online, joined if one runs."""
        if self.controller.state is not NasState.ONLINE:
            raise NasNotOnline(f"the NAS is {self.controller.state}: wake it first")
        try:
            return await self.mover.flush()
        finally:
            self.counted.invalidate()

    def start(self) -> None:
        self.counted.start()
        self._loop = asyncio.create_task(self._every_interval())

    async def stop(self) -> None:
        for task in (self._loop, self._after_online):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.controller.state is NasState.ONLINE and (await self.scan()).files:
                await self._flush_logged("files wait and the NAS is online")

    async def _flush_logged(self, why: str) -> None:
        try:
            report = await self.mover.flush()
        except FlushBusyError as err:
            self.counted.invalidate()
            log.info("inbox flush (%s) skipped: %s", why, err)
            return
        except Exception:  # a bug must not end the loop that keeps the inbox moving
            self.counted.invalidate()
            log.exception("inbox flush (%s) failed", why)
            return
        self.counted.invalidate()
        level = logging.INFO if report.result == "ok" else logging.WARNING
        log.log(level, "inbox flush (%s): %s", why, report.summary())
