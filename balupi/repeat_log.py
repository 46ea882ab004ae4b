"""A log that says a repeated message once, then how often it came: a flood of bad requests or a
failing disk must not write a line (or a traceback) per event.

The first of a kind is logged at once; repeats within ``interval`` seconds are only counted; the
first one after that is logged with the count of those left out. A kind is the message with its
numbers taken out, so "42 s old" and "43 s old" are the same kind.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable

_NUMBERS = re.compile(r"\d+(\.\d+)?")
MAX_KINDS = 200  # kinds remembered; the least recent is forgotten first


def kind_of(message: str) -> str:
    return _NUMBERS.sub("N", message)


class RepeatFilter(logging.Filter):
    """The same for records of a library's logger (asyncio logs a failed accept() with its
    traceback each time): the first of a kind passes, repeats within ``interval`` are dropped
    and counted in the next one that passes."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._kinds: OrderedDict[str, list[float]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        key = f"{record.name}:{record.levelno}:{kind_of(str(record.msg))}"
        now = self.clock()
        seen = self._kinds.get(key)
        if seen is not None and now - seen[0] < self.interval:
            seen[1] += 1
            return False
        if seen is not None and (left_out := int(seen[1])):
            record.msg = f"{record.msg} (and {left_out} more like it in the last "
            record.msg += f"{now - seen[0]:.0f} s)"
        self._kinds[key] = [now, 0]
        self._kinds.move_to_end(key)
        while len(self._kinds) > MAX_KINDS:
            self._kinds.popitem(last=False)
        return True


class RepeatLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        # kind -> [when it was last logged, repeats left out since]
        self._kinds: OrderedDict[str, list[float]] = OrderedDict()

    def log(self, level: int, message: str, *, kind: str | None = None) -> bool:
        """Log ``message`` unless one of its kind was logged less than ``interval`` ago;
        whether it was logged."""
        key = kind if kind is not None else kind_of(message)
        now = self.clock()
        seen = self._kinds.get(key)
        if seen is not None and now - seen[0] < self.interval:
            seen[1] += 1
            self._kinds.move_to_end(key)
            return False
        if seen is not None and (left_out := int(seen[1])):
            message += f" (and {left_out} more like it in the last {now - seen[0]:.0f} s)"
        self.logger.log(level, "%s", message)
        self._kinds[key] = [now, 0]
        self._kinds.move_to_end(key)
        while len(self._kinds) > MAX_KINDS:
            self._kinds.popitem(last=False)
        return True

    def warning(self, message: str, *, kind: str | None = None) -> bool:
        return self.log(logging.WARNING, message, kind=kind)

    def error(self, message: str, *, kind: str | None = None) -> bool:
        return self.log(logging.ERROR, message, kind=kind)
