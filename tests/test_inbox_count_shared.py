"""One recent count of the inbox shared by /api/status, /api/handshake/status and /metrics: many
requests over a big inbox cost one walk, and a walk that takes too long leaves the caller with
the last count and its age instead of a wait."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from balupi.handshake.app import USAGE
from balupi.handshake.recent_count import RecentCount
from balupi.handshake.states import NasState
from tests.waiting import wait_for_async

FILES = 10_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_callers_share_one_walk():
    release, started = threading.Event(), threading.Event()
    walks = []
    clock = Clock()

    def walk() -> int:
        walks.append(1)
        started.set()
        release.wait(10)
        # The walk took a second (a big inbox): a caller that comes after it finished, as a
        # thread started late on a busy machine may, is served its count, not a walk of its own.
        clock.now += 1
        return len(walks)

    count = RecentCount(walk, wait=5.0, clock=clock)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(count.get().value)) for _ in range(8)]
    for t in threads:
        t.start()
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join(10)
    assert results == [1] * 8 and count.walks == 1
    assert count.get().value == 1 and count.walks == 1  # a caller after the walk ended


def test_a_slow_walk_gives_the_last_count_with_its_age():
    clock = Clock()
    gate = threading.Event()
    answers = iter([7, 8])

    def walk() -> int:
        value = next(answers)
        if value == 8:
            gate.wait(10)  # the second walk hangs (a slow disk)
        return value

    count = RecentCount(walk, wait=0.05, max_age=5.0, cheap=0.0, clock=clock)
    assert count.get().value == 7
    clock.now += 100  # long past max_age: a new walk starts, and does not finish in time
    late = count.get()
    assert late.value == 7 and late.age_seconds == pytest.approx(100)
    gate.set()


def test_a_walk_error_reaches_the_caller():
    def walk() -> int:
        raise FileNotFoundError("the inbox is not a folder")

    with pytest.raises(FileNotFoundError):
        RecentCount(walk).get()


def fill(inbox: Path) -> None:
    for n in range(100):
        (inbox / f"d{n}").mkdir(parents=True)
    for n in range(FILES):
        os.close(os.open(inbox / f"d{n % 100}" / f"f{n}", os.O_CREAT | os.O_WRONLY, 0o644))


async def test_many_requests_over_a_big_inbox_cost_one_walk(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await asyncio.to_thread(fill, stack.tmp_path / "inbox")
    c = stack.client
    usage = stack.service.app[USAGE]
    before = usage.walks

    async def files_seen(path: str) -> int:
        answer = await c.get(path)
        assert answer.status == 200
        if path == "/metrics":
            text = await answer.text()
            line = next(x for x in text.splitlines() if x.startswith("balupi_inbox_files "))
            return int(float(line.split()[1]))
        body = await answer.json()
        return body["inbox"]["files"] if path == "/api/status" else body["inbox_files"]

    paths = ["/metrics", "/api/status", "/api/handshake/status"] * 10
    seen = await asyncio.gather(*(files_seen(p) for p in paths))
    assert seen == [FILES] * len(paths)
    assert usage.walks - before <= 2, usage.walks - before  # not one per request
