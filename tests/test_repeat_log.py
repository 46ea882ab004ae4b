"""The repeat log: the first of a kind at once, repeats counted, the count said on the next."""

from __future__ import annotations

import logging

from balupi.repeat_log import MAX_KINDS, RepeatLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_repeats_are_counted_and_said_once_the_interval_passed(caplog):
    clock = Clock()
    log = RepeatLog(logging.getLogger("t.repeat"), interval=60, clock=clock)
    caplog.set_level(logging.WARNING, "t.repeat")
    assert log.warning("refused: timestamp is 61 s old")
    for n in range(1000):
        clock.now += 0.01
        assert not log.warning(f"refused: timestamp is {62 + n} s old")
    assert log.warning("another kind of thing")  # a different kind is not held back
    clock.now += 60
    assert log.warning("refused: timestamp is 5 s old")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "refused: timestamp is 61 s old",
        "another kind of thing",
        "refused: timestamp is 5 s old (and 1000 more like it in the last 70 s)",
    ]


def test_kinds_are_bounded(caplog):
    log = RepeatLog(logging.getLogger("t.repeat2"), interval=60, clock=Clock())
    for n in range(MAX_KINDS * 3):
        log.warning("x", kind=f"kind {n}")
    assert len(log._kinds) == MAX_KINDS
