"""The Pi-hole client against the simulated Pi-hole: one session, re-login on expiry, logout,
and a clear error for each way Pi-hole refuses."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from balupi.devstack.ports import free_port
from balupi.pihole import errors
from balupi.pihole.client import PiholeClient
from balupi.secret import Secret
from balupi.sim.pihole.model import SimSettings
from tests.pihole_helpers import APP_PASSWORD, PASSWORD, start_sim


@pytest.fixture
async def sim():
    running = await start_sim()
    yield running
    await running.stop()


async def test_one_login_for_many_requests_and_logout_on_close(sim):
    client = sim.client()
    for _ in range(20):
        await client.summary()
    await asyncio.gather(*(client.blocking() for _ in range(10)))
    assert client.logins == 1 and sim.pihole.sessions.logins == 1
    assert len(sim.pihole.sessions.open()) == 1
    await client.close()
    assert sim.pihole.sessions.open() == [] and sim.pihole.sessions.logouts == 1


async def test_concurrent_first_requests_share_one_login(sim):
    client = sim.client()
    await asyncio.gather(*(client.summary() for _ in range(25)))
    assert sim.pihole.sessions.logins == 1
    await client.close()


async def test_expired_session_logs_in_again_once(sim):
    client = sim.client()
    await client.summary()
    sim.pihole.clock.advance(sim.pihole.sessions.timeout + 1)  # 30 min idle: FTL forgets it
    await client.summary()
    assert client.logins == 2 and len(sim.pihole.sessions.open()) == 1
    await client.close()
    assert sim.pihole.sessions.open() == []


async def test_wrong_password_says_what_to_check(sim, caplog):
    client = sim.client("not-the-password")
    with pytest.raises(errors.PiholeWrongPassword, match="password_file"):
        await client.summary()
    assert sim.pihole.sessions.open() == []
    await client.close()
    assert "not-the-password" not in caplog.text and "not-the-password" not in repr(client)


async def test_seats_exceeded_names_max_sessions():
    sim = await start_sim(SimSettings(password=PASSWORD, max_sessions=2))
    others = [sim.client(), sim.client()]
    for other in others:
        await other.summary()
    client = sim.client()
    with pytest.raises(errors.PiholeSeatsExceeded, match=r"webserver\.api\.max_sessions"):
        await client.summary()
    await others[0].close()  # a seat comes free
    await client.summary()
    for c in (client, others[1]):
        await c.close()
    assert sim.pihole.sessions.open() == []
    await sim.stop()


async def test_totp_account_needs_an_app_password():
    sim = await start_sim(SimSettings(password=PASSWORD, app_password=APP_PASSWORD, totp=True))
    web_password = sim.client()
    with pytest.raises(errors.PiholeTotpRequired, match="app password"):
        await web_password.summary()
    await web_password.close()
    app = sim.client(APP_PASSWORD)
    await app.summary()  # app passwords skip 2FA
    await app.close()
    await sim.stop()


async def test_app_password_without_app_sudo_cannot_write(sim):
    app = sim.client(APP_PASSWORD)
    assert await app.host_addresses("baluhost.local") == ["192.168.1.5"]  # reading is fine
    with pytest.raises(errors.PiholeForbidden, match=r"webserver\.api\.app_sudo"):
        await app.set_host_record("baluhost.local", "192.168.1.6")
    assert sim.pihole.hosts == ["192.168.1.5 baluhost.local"]
    sim.pihole.settings.app_sudo = True
    await app.set_host_record("baluhost.local", "192.168.1.6")
    assert sim.pihole.hosts == ["192.168.1.6 baluhost.local"]
    await app.close()


async def test_record_switch_keeps_every_other_record(sim):
    sim.pihole.config["dns"]["hosts"] = ["10.0.0.1 router", "192.168.1.5 baluhost.local"]
    client = sim.client()
    new = await client.set_host_record("baluhost.local", "192.168.1.99")
    assert new == sim.pihole.hosts == ["10.0.0.1 router", "192.168.1.99 baluhost.local"]
    with pytest.raises(ValueError, match="not an IP address"):
        await client.set_host_record("baluhost.local", "nas")
    changes = sim.pihole.config_changes
    assert await client.set_host_record("baluhost.local", "192.168.1.99") == new  # already so
    assert sim.pihole.config_changes == changes  # no PATCH, no reload
    await client.close()


async def test_local_ttl_is_read_and_set_with_a_warning(sim, caplog):
    client = sim.client()
    assert await client.local_ttl() is None
    with caplog.at_level(logging.WARNING):
        await client.set_local_ttl(5)
    assert await client.local_ttl() == 5
    assert sim.pihole.config["misc"]["dnsmasq_lines"] == ["local-ttl=5"]
    assert "restarts Pi-hole's DNS" in caplog.text
    caplog.clear()
    await client.set_local_ttl(5)  # already so: no second restart
    assert "restarts Pi-hole's DNS" not in caplog.text
    await client.close()


async def test_pihole_down_and_slow():
    down = PiholeClient(f"http://127.0.0.1:{free_port()}", Secret("x", "test"))
    with pytest.raises(errors.PiholeUnreachable, match="cannot reach"):
        await down.summary()
    await down.close()
    sim = await start_sim()
    sim.pihole.delay_seconds = 1.0
    slow = sim.client(timeout=0.2)
    with pytest.raises(errors.PiholeTimeout, match="request_timeout_seconds"):
        await slow.summary()
    await slow.close()
    await sim.stop()


async def test_not_a_pihole_v6_is_named():
    runner = web.AppRunner(web.Application())  # answers 404 everywhere, like Pi-hole v5's /api
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    client = PiholeClient(f"http://127.0.0.1:{port}", Secret("x", "test"))
    with pytest.raises(errors.PiholeProtocolError, match="needs Pi-hole v6"):
        await client.summary()
    await client.close()
    await runner.cleanup()
