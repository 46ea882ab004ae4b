"""The Pi-hole collector in balupi-exporter, against the simulated Pi-hole on real sockets:
eko/pihole-exporter's names, pihole_up 0 (in time) when Pi-hole cannot be read, and sessions
that never pile up, over 1,000 scrapes and 20 exporter restarts."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from balupi.config import ExporterConfig
from balupi.config_pihole import PiholeConfig
from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess
from balupi.exporters.app import make_app
from balupi.exporters.pihole_collector import PiholeCollector
from balupi.secret import Secret
from balupi.sim.pihole.model import SimSettings
from tests.pihole_helpers import PASSWORD, start_sim

EKO_NAMES = [
    "pihole_domains_being_blocked", "pihole_dns_queries_today", "pihole_ads_blocked_today",
    "pihole_ads_percentage_today", "pihole_unique_domains", "pihole_queries_forwarded",
    "pihole_queries_cached", "pihole_clients_ever_seen", "pihole_unique_clients",
    "pihole_querytypes", "pihole_reply", "pihole_status",
    # not in the list, but a panel of dashboard 10176 shows it
    "pihole_dns_queries_all_types", "pihole_forward_destinations",
]  # fmt: skip
EXPORTER = ExporterConfig(deadline_seconds=9.0, deadline_margin_seconds=0.5)


def collector(url: str, password: str = PASSWORD, *, top_items: int = 0) -> PiholeCollector:
    config = PiholeConfig(url=url, password=Secret(password, "test"), top_items=top_items)
    return PiholeCollector(config, query_limit=EXPORTER.deadline_seconds)


def samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, []).append(s)
    return found


def value(found: dict[str, list], name: str, **labels: str) -> float:
    (match,) = [s for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    return match.value


@pytest.fixture
async def sim():
    running = await start_sim()
    yield running
    await running.stop()


async def scrape(client: TestClient, **headers: str) -> dict[str, list]:
    answer = await client.get("/metrics", params={"collect[]": "pihole"}, headers=headers)
    assert answer.status == 200
    return samples(await answer.text())


async def test_eko_names_and_session_seats(sim, aiohttp_client):
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url)]))
    found = await scrape(client)
    assert value(found, "pihole_up", hostname="127.0.0.1") == 1
    for name in EKO_NAMES:
        assert name in found, name
        assert all(s.labels["hostname"] == "127.0.0.1" for s in found[name])
    assert value(found, "pihole_querytypes", type="A") > 0
    assert value(found, "pihole_reply", type="IP") > 0
    assert value(found, "pihole_status") == 1
    assert value(found, "pihole_forward_destinations", destination="9.9.9.9") > 0
    assert value(found, "pihole_forward_destinations", destination="cache") > 0
    assert value(found, "pihole_domains_being_blocked") == 123456
    assert value(found, "pihole_api_sessions") == 1
    assert value(found, "pihole_api_sessions_max") == 16
    assert "pihole_top_queries" not in found  # top lists only when switched on
    first = value(found, "pihole_dns_queries_today")
    assert value(await scrape(client), "pihole_dns_queries_today") > first  # live numbers


async def test_top_lists_are_bounded(sim, aiohttp_client):
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url, top_items=2)]))
    found = await scrape(client)
    assert len(found["pihole_top_queries"]) == 2
    assert len(found["pihole_top_ads"]) == 2
    sources = found["pihole_top_sources"]
    assert len(sources) == 2 and all(s.labels["source_name"] for s in sources)


async def test_expired_session_is_replaced_within_one_scrape(sim, aiohttp_client):
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url)]))
    await scrape(client)
    sim.pihole.clock.advance(3600)
    found = await scrape(client)
    assert value(found, "pihole_up") == 1 and value(found, "pihole_api_logins_total") == 2
    assert len(sim.pihole.sessions.open()) == 1


async def test_wrong_password_gives_up_0_and_the_reason(sim, aiohttp_client, caplog):
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url, "nope-pw")]))
    for _ in range(3):
        found = await scrape(client)
    assert value(found, "pihole_up") == 0
    assert value(found, "pihole_read_errors_total", reason="auth") == 3
    assert "pihole_dns_queries_today" not in found  # absent, never 0
    assert caplog.text.count("refused the password") == 1  # said once, not per scrape
    assert "nope-pw" not in caplog.text


async def test_seats_exhausted_gives_up_0(aiohttp_client):
    sim = await start_sim(SimSettings(password=PASSWORD, max_sessions=1))
    browser = sim.client()
    await browser.summary()  # someone else holds the only seat
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url)]))
    found = await scrape(client)
    assert value(found, "pihole_up") == 0
    assert value(found, "pihole_read_errors_total", reason="seats_exceeded") == 1
    await browser.close()
    assert value(await scrape(client), "pihole_up") == 1
    await client.close()
    await sim.stop()


async def test_pihole_down_gives_up_0_at_once(aiohttp_client):
    url = f"http://127.0.0.1:{free_port()}"
    client = await aiohttp_client(make_app(EXPORTER, [collector(url)]))
    started = time.monotonic()
    found = await scrape(client)
    assert time.monotonic() - started < 2
    assert value(found, "pihole_up") == 0
    assert value(found, "pihole_read_errors_total", reason="connection") == 1


async def test_slow_pihole_answers_within_the_deadline(sim, aiohttp_client):
    sim.pihole.delay_seconds = 1.5
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url)]))
    started = time.monotonic()
    found = await scrape(client, **{"X-Prometheus-Scrape-Timeout-Seconds": "1"})
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, elapsed  # 1 s timeout minus the 0.5 s margin, plus a little
    assert value(found, "pihole_up") == 0
    assert value(found, "pihole_read_errors_total", reason="timeout") == 1
    sim.pihole.delay_seconds = 0.0


async def test_1000_scrapes_and_20_restarts_leave_at_most_one_session(sim):
    sessions = sim.pihole.sessions
    async with aiohttp.ClientSession() as http:
        for _restart in range(20):
            runner = web.AppRunner(make_app(EXPORTER, [collector(sim.url)]), access_log=None)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            url = f"http://127.0.0.1:{port}/metrics?collect[]=pihole"
            for _ in range(10):  # 50 scrapes, five at a time as several Prometheus might
                texts = await asyncio.gather(*(_get(http, url) for _ in range(5)))
                assert all('pihole_up{hostname="127.0.0.1"} 1.0' in t for t in texts)
                assert len(sessions.open()) <= 1
            await runner.cleanup()  # the exporter stops: it logs out
            assert sessions.open() == []
    assert sessions.logins == 20 and sessions.logouts == 20


async def _get(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as answer:
        assert answer.status == 200
        return await answer.text()


@pytest.mark.integration
async def test_exporter_process_logs_out_on_sigterm(sim, tmp_path):
    port = free_port()
    config = tmp_path / "balupi.toml"
    config.write_text(
        f'[exporter]\nlisten_host = "127.0.0.1"\nlisten_port = {port}\n'
        f'[pihole]\nurl = "{sim.url}"\npassword_env = "BALUPI_TEST_PIHOLE_PW"\n'
    )
    exporter_bin = Path(sys.executable).parent / "balupi-exporter"
    for _ in range(2):
        proc = ManagedProcess(
            "balupi-exporter",
            [str(exporter_bin), "--config", str(config)],
            log_path=tmp_path / "exporter.log",
            env={"BALUPI_TEST_PIHOLE_PW": PASSWORD},
        ).start()
        try:
            url = f"http://127.0.0.1:{port}/metrics?collect[]=pihole"
            # The simulator runs in this event loop: wait for the child in a thread.
            await asyncio.to_thread(proc.wait_http, url, timeout=30)
            assert len(sim.pihole.sessions.open()) == 1
        finally:
            await asyncio.to_thread(proc.stop)
        assert proc.proc is not None and proc.proc.returncode == 0, proc.log_tail()
        assert sim.pihole.sessions.open() == []
    assert "logged out" in (tmp_path / "exporter.log").read_text()
    assert PASSWORD not in (tmp_path / "exporter.log").read_text()


ODD_ANSWERS = {
    "top list not a list": ("/api/stats/top_domains", {"domains": 5}),
    "count not a number": ("/api/stats/top_clients", {"clients": [{"ip": "a", "count": "x"}]}),
    "upstream count a list": ("/api/stats/upstreams", {"upstreams": [{"ip": "a", "count": [1]}]}),
    "summary a list": ("/api/stats/summary", [1, 2]),
    "queries a string": ("/api/stats/summary", {"queries": "many", "clients": 3}),
    "types hold text": ("/api/stats/summary", {"queries": {"types": {"A": "lots"}}}),
}


@pytest.mark.parametrize("odd", ODD_ANSWERS.values(), ids=ODD_ANSWERS.keys())
async def test_an_unexpected_value_gives_up_0_not_a_missing_up(sim, aiohttp_client, odd):
    path, body = odd
    sim.pihole.odd_answers[path] = body
    client = await aiohttp_client(make_app(EXPORTER, [collector(sim.url)]))
    answer = await client.get("/metrics", params={"collect[]": "pihole"})
    assert answer.status == 200
    found = samples(await answer.text())
    assert "pihole_up" in found, sorted(found)
    up = value(found, "pihole_up")
    if up == 1:  # read what it could: every sample it gave is a number
        assert all(isinstance(s.value, float) for f in found.values() for s in f)
    else:
        assert value(found, "pihole_read_errors_total", reason="protocol") == 1
    assert value(found, "balupi_exporter_collector_success", collector="pihole") == 1
    sim.pihole.odd_answers.clear()
    assert value(await scrape(client), "pihole_up") == 1
