"""Unit tests of the exporter's pieces: energy counter, shared query, deadlines, error hints."""

from __future__ import annotations

import asyncio

import pytest
from kasa import AuthenticationError, KasaException
from kasa import TimeoutError as KasaTimeoutError

from balupi.config import ExporterConfig
from balupi.exporters.app import scrape_timeout
from balupi.exporters.energy_counter import JOULES_PER_WH, EnergyCounter
from balupi.exporters.shared_query import SharedQuery
from balupi.exporters.tapo_errors import classify


def test_energy_counter_within_a_day():
    c = EnergyCounter()
    assert c.observe(100, 2000) == 0 and c.created is not None
    assert c.observe(105, 2005) == 5 * JOULES_PER_WH
    assert c.observe(105, 2005) == 5 * JOULES_PER_WH


def test_energy_counter_across_midnight_uses_the_month():
    c = EnergyCounter()
    c.observe(480, 3000)  # 23:59
    c.observe(2, 3004)  # 00:01: today restarted, the month grew by 4 Wh
    assert c.joules == 4 * JOULES_PER_WH
    c.observe(3, 3005)
    assert c.joules == 5 * JOULES_PER_WH


def test_energy_counter_across_midnight_when_today_looks_like_growth():
    c = EnergyCounter()
    c.observe(0, 3000)  # 23:00, an idle day so far
    c.observe(500, 4000)  # 01:00: 500 Wh before midnight, 500 Wh after
    assert c.joules == 1000 * JOULES_PER_WH


def test_energy_counter_across_a_month_boundary():
    c = EnergyCounter()
    c.observe(480, 9000)  # 31st, 23:59
    c.observe(2, 2)  # 1st, 00:01: both restarted; today's 2 Wh count
    assert c.joules == 2 * JOULES_PER_WH
    c.observe(10, 10)
    assert c.joules == 10 * JOULES_PER_WH


def test_energy_counter_never_goes_down():
    c = EnergyCounter()
    values = [(0, 0), (5, 5), (1, 6), (0, 0), (7, 7), (7, 7), (8, 8)]
    seen = [c.observe(t, m) for t, m in values]
    assert seen == sorted(seen)


def test_scrape_timeout_follows_prometheus_header():
    config = ExporterConfig(deadline_seconds=9.0, deadline_margin_seconds=0.5)
    assert scrape_timeout(config, None) == 9.0
    assert scrape_timeout(config, "4") == 3.5
    assert scrape_timeout(config, "30") == 9.0
    assert scrape_timeout(config, "garbage") == 9.0
    assert scrape_timeout(config, "0.2") == 0.1


async def test_shared_query_runs_once_for_concurrent_waiters():
    release = asyncio.Event()
    calls = 0

    async def query() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return calls

    shared = SharedQuery(query, limit_seconds=5)
    waiters = [asyncio.ensure_future(shared.get(5)) for _ in range(10)]
    await asyncio.sleep(0)  # let every waiter join
    release.set()
    assert await asyncio.gather(*waiters) == [1] * 10
    assert shared.started == 1
    assert await shared.get(5) == 2  # a later scrape asks the device again


async def test_shared_query_waiter_gives_up_but_the_query_goes_on():
    release = asyncio.Event()

    async def query() -> str:
        await release.wait()
        return "late"

    shared = SharedQuery(query, limit_seconds=5)
    with pytest.raises(TimeoutError):
        await shared.get(0.01)
    release.set()
    assert await shared.get(5) == "late"  # the next scrape joined the same query
    assert shared.started == 1


async def test_shared_query_is_bounded_by_its_limit():
    async def hang() -> None:
        await asyncio.Event().wait()

    shared = SharedQuery(hang, limit_seconds=0.05)
    with pytest.raises(TimeoutError):
        await shared.get(5)
    await shared.close()


@pytest.mark.parametrize(
    ("err", "reason", "words"),
    [
        (AuthenticationError("nope"), "auth", "credentials"),
        (
            KasaException("Device 1.2.3.4 responded with 403 to handshake1"),
            "third_party_compatibility",
            "enable Third-Party Compatibility in the Tapo app",
        ),
        (KasaTimeoutError("slow"), "timeout", "did not answer in time"),
        (TimeoutError(), "timeout", "did not answer in time"),
        (KasaException("Unable to connect to the device"), "connection", "cannot connect"),
        (KasaException("weird"), "protocol", "do not understand"),
    ],
)
def test_classify_names_cause_and_fix(err, reason, words):
    failure = classify(err, "plug 'nas'")
    assert failure.reason == reason
    assert words in failure.hint and "plug 'nas'" in failure.hint
