"""One device query shared by every scrape that asks while it is in flight.

Prometheus, a second Prometheus on the NAS and a curious browser may scrape at the same moment:
the plug must see one query, not three. Each waiter gives up at its own deadline, but the query
itself runs on (shielded) so the next waiter can still join it, and it is bounded by its own
limit so a hung device never holds the slot for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedQuery(Generic[T]):
    def __init__(self, query: Callable[[], Awaitable[T]], *, limit_seconds: float) -> None:
        self._query = query
        self._limit = limit_seconds
        self._task: asyncio.Task[T] | None = None
        self.started = 0  # how many real queries ran: concurrent waiters do not add to it

    async def get(self, timeout: float) -> T:
        """The result of the in-flight query (starting one if none), waiting at most ``timeout``.

        Raises TimeoutError when the wait ends first; the query's own errors pass through.
        """
        task = self._task
        if task is None or task.done():
            task = self._task = asyncio.ensure_future(self._bounded())
            # Every waiter may have given up before it ends: its error is then read here, or
            # asyncio would log "Task exception was never retrieved" with a traceback.
            task.add_done_callback(_retrieve)
            self.started += 1
        return await asyncio.wait_for(asyncio.shield(task), max(timeout, 0.0))

    @property
    def in_flight(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _bounded(self) -> T:
        return await asyncio.wait_for(self._query(), self._limit)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # marks it retrieved; the waiters that are left still get it
