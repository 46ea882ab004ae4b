"""balupi-exporter against simulated P110 plugs over real sockets: readings and every fault."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import pytest

from balupi.config import PlugConfig
from balupi.devstack.ports import free_port
from balupi.secret import Secret
from tests.tapo_helpers import (
    FakeClock,
    exporter_app,
    parse,
    plug_config,
    start_plug,
)


@pytest.fixture
async def plugs():
    started = []

    async def make(**kwargs):
        server = await start_plug(**kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        await server.stop()


async def scrape(client, **headers):
    answer = await client.get("/metrics", params={"collect[]": "tapo"}, headers=headers)
    return parse(answer.status, await answer.text())


async def test_reads_power_energy_voltage_and_info(plugs, aiohttp_client):
    server = await plugs(power_watts=38.5, fw_ver="1.3.1 Build 240621 Rel.162048")
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    s = await scrape(client)
    assert s.status == 200
    assert s.value("tapo_up", plug="nas") == 1
    assert s.value("tapo_power_watts", plug="nas") == pytest.approx(38.5, abs=0.01)
    assert s.value("tapo_voltage_volts", plug="nas") == pytest.approx(230, rel=0.05)
    assert s.value("tapo_current_amperes", plug="nas") == pytest.approx(38.5 / 230, rel=0.1)
    assert s.value("tapo_relay_on", plug="nas") == 1
    assert s.value("tapo_energy_joules_total", plug="nas") == 0  # first read: the start
    assert s.value("tapo_device_info", plug="nas", model="P110", hardware_version="1.0") == 1
    info = [k for k in s.samples if k[0] == "tapo_device_info"]
    assert ("firmware_version", "1.3.1 Build 240621 Rel.162048") in info[0][1]
    assert s.value("balupi_exporter_collector_success", collector="tapo") == 1


async def test_power_change_is_seen_on_the_next_scrape(plugs, aiohttp_client):
    server = await plugs(power_watts=5.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    assert (await scrape(client)).value("tapo_power_watts", plug="nas") == pytest.approx(5.0)
    server.plug.power_watts = 41.25
    assert (await scrape(client)).value("tapo_power_watts", plug="nas") == pytest.approx(41.25)


async def test_energy_counter_grows_across_midnight_and_month(plugs, aiohttp_client):
    clock = FakeClock(datetime(2026, 1, 31, 22, 0).astimezone())
    server = await plugs(power_watts=1000.0, now=clock)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    values = []
    # 22:00 -> 23:30 (same day), -> 00:30 next day and next month (Feb 1st), -> 01:30.
    for hours in (0, 1.5, 1.0, 1.0):
        clock.advance(hours=hours)
        values.append((await scrape(client)).value("tapo_energy_joules_total", plug="nas"))
    assert values == sorted(values), values  # monotonic: increase() never sees a reset
    assert values[1] == pytest.approx(1.5 * 3.6e6, rel=0.02)  # 1.5 kWh
    # Across the month boundary only the energy since midnight (0.5 kWh) is known to count.
    assert values[2] - values[1] == pytest.approx(0.5 * 3.6e6, rel=0.05)
    assert values[3] - values[2] == pytest.approx(1.0 * 3.6e6, rel=0.02)


async def test_energy_counter_across_midnight_within_a_month(plugs, aiohttp_client):
    clock = FakeClock(datetime(2026, 3, 10, 23, 0).astimezone())
    server = await plugs(power_watts=500.0, now=clock)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    first = (await scrape(client)).value("tapo_energy_joules_total", plug="nas")
    clock.advance(hours=2)  # 01:00 next day: today restarted, the month counts all 1 kWh
    second = (await scrape(client)).value("tapo_energy_joules_total", plug="nas")
    assert second - first == pytest.approx(1.0 * 3.6e6, rel=0.02)


async def test_voltage_is_absent_where_the_plug_does_not_report_it(plugs, aiohttp_client):
    server = await plugs(power_watts=10.0, reports_voltage=False)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 1
    assert s.value("tapo_power_watts", plug="nas") == pytest.approx(10.0)
    assert "tapo_voltage_volts" not in s.names()
    assert "tapo_current_amperes" not in s.names()


async def test_relay_off(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    server.plug.device_on = False
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    s = await scrape(client)
    assert s.value("tapo_relay_on", plug="nas") == 0
    assert s.value("tapo_power_watts", plug="nas") == 0


async def test_wrong_credentials(plugs, aiohttp_client, caplog):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server, password="wrong")]))
    with caplog.at_level(logging.WARNING, logger="balupi.exporter.tapo"):
        s = await scrape(client)
    assert s.status == 200 and s.value("tapo_up", plug="nas") == 0
    assert "tapo_power_watts" not in s.names()  # absent, never 0
    assert s.value("tapo_read_errors_total", plug="nas", reason="auth") == 1
    assert "check tapo.username and the password" in caplog.text
    assert "wrong" not in caplog.text  # the password never reaches the log


async def test_third_party_compatibility_off(plugs, aiohttp_client, caplog):
    server = await plugs(power_watts=30.0)
    server.third_party_compat = False
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    with caplog.at_level(logging.WARNING, logger="balupi.exporter.tapo"):
        s = await scrape(client)
        await scrape(client)
    assert s.value("tapo_up", plug="nas") == 0
    assert caplog.text.count("enable Third-Party Compatibility in the Tapo app") == 1
    server.third_party_compat = True  # the user switched it on in the app
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 1
    assert s.value("tapo_read_errors_total", plug="nas", reason="third_party_compatibility") == 2


async def test_session_expiry_is_transparent(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    assert (await scrape(client)).value("tapo_up", plug="nas") == 1
    handshakes = server.handshake_count
    server.expire_sessions()
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 1
    assert server.handshake_count > handshakes


async def test_warm_session_is_kept_between_scrapes(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    await scrape(client)
    handshakes = server.handshake_count
    for _ in range(5):
        assert (await scrape(client)).value("tapo_up", plug="nas") == 1
    assert server.handshake_count == handshakes


async def test_silent_plug_costs_the_others_nothing(plugs, aiohttp_client, caplog):
    dead = await plugs(power_watts=30.0)
    alive = await plugs(power_watts=4.0)
    app = exporter_app([plug_config("nas", dead), plug_config("pi", alive)], deadline=1.5)
    client = await aiohttp_client(app)
    await scrape(client)
    dead.silent = True
    with caplog.at_level(logging.WARNING, logger="balupi.exporter.tapo"):
        t0 = time.monotonic()
        s = await scrape(client)
        elapsed = time.monotonic() - t0
    assert s.status == 200
    assert s.value("tapo_up", plug="nas") == 0 and s.value("tapo_up", plug="pi") == 1
    assert s.value("tapo_power_watts", plug="pi") == pytest.approx(4.0)
    assert s.value("tapo_read_errors_total", plug="nas", reason="timeout") == 1
    assert elapsed < 1.5 + 1.0, elapsed  # bounded by the deadline, not by kasa's retries
    assert "did not answer in time" in caplog.text
    dead.silent = False
    # The hung query is bounded by the deadline; within a few scrapes the plug is back.
    for _ in range(5):
        if (await scrape(client)).value("tapo_up", plug="nas") == 1:
            break
    else:
        pytest.fail("the plug did not come back after it answered again")


async def test_prometheus_timeout_header_bounds_the_scrape(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)], deadline=5))
    server.silent = True
    t0 = time.monotonic()
    s = await scrape(client, **{"X-Prometheus-Scrape-Timeout-Seconds": "1.0"})
    assert time.monotonic() - t0 < 1.0 + 0.5
    assert s.value("tapo_up", plug="nas") == 0
    server.silent = False


async def test_slow_plug_within_the_deadline_is_up(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)], deadline=3))
    await scrape(client)
    server.delay_seconds = 0.2
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 1
    server.delay_seconds = 5
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 0
    server.delay_seconds = 0


async def test_concurrent_scrapes_share_one_device_query(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    await scrape(client)  # connect and hand-shake first
    before = server.request_count
    await scrape(client)
    one_scrape = server.request_count - before
    before = server.request_count
    results = await asyncio.gather(*(scrape(client) for _ in range(10)))
    assert all(r.value("tapo_up", plug="nas") == 1 for r in results)
    assert server.request_count - before == one_scrape
    assert max(r.value("tapo_device_queries_total", plug="nas") for r in results) == 3


async def test_aes_transport(plugs, aiohttp_client):
    server = await plugs(power_watts=12.5, transport="aes", fw_ver="1.0.7 Build 210629 Rel.174901")
    client = await aiohttp_client(exporter_app([plug_config("old", server, transport="aes")]))
    s = await scrape(client)
    assert s.value("tapo_up", plug="old") == 1
    assert s.value("tapo_power_watts", plug="old") == pytest.approx(12.5)


async def test_unreachable_plug(aiohttp_client, caplog):

    plug = PlugConfig("gone", "127.0.0.1", free_port(), "u", Secret("p", "test"))
    client = await aiohttp_client(exporter_app([plug]))
    with caplog.at_level(logging.WARNING, logger="balupi.exporter.tapo"):
        s = await scrape(client)
    assert s.status == 200 and s.value("tapo_up", plug="gone") == 0
    assert s.value("tapo_read_errors_total", plug="gone", reason="connection") == 1


async def test_collect_selection(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    bad = await client.get("/metrics", params={"collect[]": "nope"})
    assert bad.status == 400 and "this exporter has: tapo, exporter" in await bad.text()
    own = await client.get("/metrics", params={"collect[]": "exporter"})
    own_text = await own.text()
    assert "process_resident_memory_bytes" in own_text and "tapo_up" not in own_text
    everything = await (await client.get("/metrics")).text()
    assert "tapo_up" in everything and "process_resident_memory_bytes" in everything
    page = await (await client.get("/")).text()
    assert "collect[]=tapo" in page


async def test_energy_price_is_exported_only_when_configured(plugs, aiohttp_client):
    server = await plugs(power_watts=30.0)
    priced = await aiohttp_client(exporter_app([plug_config("nas", server)], price_per_kwh=0.32))
    s = await scrape(priced)
    assert s.value("balupi_energy_price_per_kilowatt_hour", currency="EUR") == 0.32
    plain = await aiohttp_client(exporter_app([plug_config("nas", server)]))
    assert "balupi_energy_price_per_kilowatt_hour" not in (await scrape(plain)).names()


async def test_a_slow_plug_leaves_no_unretrieved_task_errors_in_the_log(
    plugs, aiohttp_client, caplog
):
    import gc

    from balupi.exporters.app import COLLECTORS_KEY
    from tests.waiting import wait_for_async

    server = await plugs(power_watts=30.0)
    app = exporter_app([plug_config("nas", server)], deadline=0.6, request_timeout=5)
    client = await aiohttp_client(app)
    await scrape(client)
    (reader,) = app[COLLECTORS_KEY]["tapo"].readers
    server.delay_seconds = 3  # slower than the query's own limit
    caplog.set_level(logging.ERROR, "asyncio")
    for _ in range(3):
        s = await scrape(client, **{"X-Prometheus-Scrape-Timeout-Seconds": "0.3"})
        assert s.value("tapo_up", plug="nas") == 0
        # The query outlives the scrape; it ends (in error) at its limit, with nobody waiting.
        await wait_for_async(lambda: not reader._query.in_flight, timeout=5, what="the query ended")
        gc.collect()  # where asyncio reports a task's exception nobody read
    server.delay_seconds = 0
    assert "never retrieved" not in caplog.text, caplog.text


async def test_a_plug_that_sends_a_huge_answer_is_refused_unread(plugs, aiohttp_client):
    import resource

    server = await plugs(power_watts=30.0)
    client = await aiohttp_client(exporter_app([plug_config("nas", server)], deadline=5))
    assert (await scrape(client)).value("tapo_up", plug="nas") == 1
    server.huge_answer_bytes = 512 * 1024 * 1024  # 512 MiB, streamed without a length
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    s = await scrape(client)
    assert s.value("tapo_up", plug="nas") == 0
    # python-kasa turns a failed query of a connected plug into its own error code, so the
    # reason may be "protocol"; a refused handshake keeps "answer_too_large".
    reasons = {dict(k[1]).get("reason") for k in s.samples if k[0] == "tapo_read_errors_total"}
    assert reasons & {"answer_too_large", "protocol"}, reasons
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mib < 64, grown_mib  # read up to the bound, not the half gigabyte
    server.huge_answer_bytes = 0
    for _ in range(5):
        if (await scrape(client)).value("tapo_up", plug="nas") == 1:
            break
    else:
        pytest.fail("the plug did not come back after its answers were normal again")
