"""Waiting on a condition from a synchronous test: polled, with a bound, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)  # polling a condition with a bound
    raise AssertionError(f"not within {timeout} s: {what}")
