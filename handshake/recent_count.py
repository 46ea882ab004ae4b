"""One recent count of the inbox, shared by every caller (/api/status, /api/handshake/status,
/metrics, the flush loop): walking 100,000 files per request would take longer than a scrape may.

A count that took less than ``cheap`` seconds is made afresh for each caller (callers that come
while one runs share it); a dearer one is served while it is younger than ten times what it took,
and never older than ``max_age``: a huge inbox is counted once in a few seconds. A stale count
starts a walk (one at a time, in a thread) and waits for it at most ``wait`` seconds; a walk that
takes longer leaves the caller with the last count and its age. Only the very first count is
waited for in full: there is no other to give.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Counted(Generic[T]):
    value: T
    age_seconds: float  # since the walk that produced it finished


class RecentCount(Generic[T]):
    def __init__(
        self,
        walk: Callable[[], T],
        *,
        max_age: float = 5.0,
        cheap: float = 0.05,
        wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._walk = walk
        self.max_age = max_age
        self.cheap = cheap
        self.wait = wait
        self._clock = clock
        self._cond = threading.Condition()
        self._finished_at = -math.inf
        self._took = 0.0  # seconds the last walk took
        self._result: T | None = None
        self._error: BaseException | None = None
        self._have_result = False
        self._running = False
        self._stale = False  # invalidated since the last walk started
        self._generation = 0  # of invalidations, to tell a walk that began before one
        self._walk_generation = 0
        self.walks = 0  # started, for /metrics and tests

    def get(self) -> Counted[T]:
        """The count (a walk's exception is raised again, e.g. FileNotFoundError: no inbox)."""
        with self._cond:
            fresh_for = 0.0 if self._took < self.cheap else min(self.max_age, 10 * self._took)
            if self._stale or self._clock() - self._finished_at >= fresh_for:
                self._start_walk()
                deadline = time.monotonic() + self.wait  # a real wait, whatever clock is given
                while self._running and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
                while not self._have_result:  # the first count: nothing else to give
                    self._cond.wait()
            age = max(0.0, self._clock() - self._finished_at)
            if self._error is not None:
                raise self._error
            return Counted(self._result, age)  # type: ignore[arg-type]

    async def get_async(self) -> Counted[T]:
        return await asyncio.to_thread(self.get)

    def start(self) -> None:
        """Count now in the background (at start-up, so the first request need not wait)."""
        with self._cond:
            self._start_walk()

    def invalidate(self) -> None:
        """The next caller counts afresh (a flush moved files); the last count stays the
        fallback meanwhile."""
        with self._cond:
            self._stale = True
            self._generation += 1

    def _start_walk(self) -> None:
        if not self._running:
            self._running = True
            self._walk_generation = self._generation
            self.walks += 1
            threading.Thread(target=self._run, name="inbox-count", daemon=True).start()

    def _run(self) -> None:
        started = self._clock()
        result: T | None = None
        error: BaseException | None = None
        try:
            result = self._walk()
        except Exception as err:  # handed to the callers, who know what it means
            error = err
        with self._cond:
            self._result, self._error, self._have_result = result, error, True
            self._finished_at = self._clock()
            self._took = self._finished_at - started
            self._running = False
            if self._walk_generation == self._generation:
                self._stale = False
            self._cond.notify_all()
