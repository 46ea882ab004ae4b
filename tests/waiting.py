"""The tests' one way to wait for something: poll a condition with a bound, never a bare sleep.

``wait_for(condition, what=..., timeout=..., interval=...)`` polls ``condition()`` until it gives
something true and returns that; after ``timeout`` seconds it fails with ``what`` (what was
awaited) and the last value seen. ``wait_for_async`` is the same wait from a coroutine: it lets
the event loop run between polls (a sync wait there would stop the very service it waits for),
and ``condition`` may also be a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0
DEFAULT_INTERVAL = 0.02


def wait_for(
    condition: Callable[[], T | None],
    *,
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> T:
    """Poll ``condition`` every ``interval`` seconds until it is true; return its value."""
    poll = _Poll(what, timeout)
    while True:
        value = condition()
        if value:
            return value
        poll.missed(value)
        time.sleep(interval)  # polling a condition with a bound, not a sync by sleeping


async def wait_for_async(
    condition: Callable[[], object],
    *,
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
) -> None:
    """``wait_for`` from a coroutine; ``condition`` may return an awaitable (a coroutine)."""
    poll = _Poll(what, timeout)
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        poll.missed(value)
        await asyncio.sleep(interval)  # polling a condition with a bound


class _Poll:
    """The bound of one wait, and the message when it is over."""

    def __init__(self, what: str, timeout: float) -> None:
        self._what = what
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout

    def missed(self, value: object) -> None:
        if time.monotonic() < self._deadline:
            return
        seen = "" if isinstance(value, bool) or value is None else f" (last seen: {value!r})"
        raise AssertionError(f"not within {self._timeout} s: {self._what}{seen}")
