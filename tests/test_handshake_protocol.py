"""The handshake both ways against real dnsmasq and the simulated NAS: BaluHost's exact bytes,
the DNS answer `dig` gets, snapshots, and what is refused."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT
from tests.handshake_helpers import (
    NAS_IP,
    PI_IP,
    SECRET,
    baluhost_request,
    dns_is,
)
from tests.waiting import wait_for_async

OFFLINE = "/api/handshake/nas-going-offline"
ONLINE = "/api/handshake/nas-coming-online"


async def post(client, path, body, **kw):
    headers, data = baluhost_request(path, body, **kw)
    return await client.post(path, data=data, headers=headers)


async def test_planned_shutdown_and_return(make_stack, caplog):
    caplog.set_level(logging.DEBUG)
    stack = await make_stack()
    c = stack.client
    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online from probe"
    )
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )

    answer = await post(c, OFFLINE, EXAMPLE_SNAPSHOT)
    assert answer.status == 200, await answer.text()
    body = await answer.json()
    assert body["acknowledged"] is True and body["dns_switched"] is True
    assert body["snapshot_stored"] is True and body["nas_state"] == "shutting_down"
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, PI_IP), what="baluhost.local at the Pi", timeout=1
    )
    stored = (stack.tmp_path / "snapshot" / "snapshot.json").read_bytes()
    assert json.loads(stored) == EXAMPLE_SNAPSHOT

    await stack.nas.kill()  # it powers off as announced: no takeover, just offline
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    assert stack.controller.stats.takeovers == 0

    answer = await post(c, ONLINE, None)
    body = await answer.json()
    assert answer.status == 200 and body["acknowledged"] is True and body["dns_switched"] is True
    assert body["nas_state"] == "online" and "files_transferred" in body
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS", timeout=1
    )
    assert SECRET not in caplog.text


async def test_plan_aliases_and_idempotent_repeats(make_stack):
    stack = await make_stack()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    # A repeat is a new request with its own timestamp (an identical one would be a replay);
    # the NAS's timestamps never go back (another call in the same second is fine).
    now = time.time() - 2
    for ts in (now, now + 1):
        answer = await post(c, "/api/nas-going-offline", EXAMPLE_SNAPSHOT, ts=ts)
        assert answer.status == 200 and (await answer.json())["acknowledged"] is True
    assert stack.controller.state is NasState.SHUTTING_DOWN
    for ts in (now + 1, now + 2):
        answer = await post(c, "/api/nas-coming-online", None, ts=ts)
        assert answer.status == 200 and (await answer.json())["nas_state"] == "online"
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS", timeout=1
    )


async def test_refused_signatures_change_nothing(make_stack):
    stack = await make_stack()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    cases = {
        "wrong secret": baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT, secret="x" * 32),
        "stale": baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT, ts=time.time() - 61),
        "future": baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT, ts=time.time() + 61),
        "wrong path": baluhost_request(ONLINE, EXAMPLE_SNAPSHOT),
    }
    for name, (headers, data) in cases.items():
        answer = await c.post(OFFLINE, data=data, headers=headers)
        assert answer.status == 401, name
        assert "error" in await answer.json(), name
    answer = await c.post(OFFLINE, data=b"{}")
    assert answer.status == 401 and "missing" in (await answer.json())["error"]
    headers, data = baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT)
    tampered = data.replace(b'"sim"', b'"evil"')
    answer = await c.post(OFFLINE, data=tampered, headers=headers)
    assert answer.status == 401
    assert stack.controller.state is NasState.ONLINE
    assert not (stack.tmp_path / "snapshot" / "snapshot.json").exists()

    first = await c.post(OFFLINE, data=data, headers=headers)
    assert first.status == 200
    replay = await c.post(OFFLINE, data=data, headers=headers)
    assert replay.status == 401 and "replayed" in (await replay.json())["error"]


async def test_bad_snapshots_are_refused_and_the_stored_one_kept(make_stack):
    stack = await make_stack(handshake="snapshot_max_bytes = 2048")
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    good = dict(EXAMPLE_SNAPSHOT)
    assert (await post(c, "/api/handshake/snapshot", good)).status == 200
    latest = stack.tmp_path / "snapshot" / "snapshot.json"
    before = latest.read_bytes()

    for bad, reason in (
        ([1, 2], "JSON object"),
        ({"version": 99}, "version 99"),
        ({"system": {}}, "version None"),
        ({**good, "users": "many"}, "users must be an object"),
    ):
        answer = await post(c, "/api/handshake/snapshot", bad)
        assert answer.status == 400, bad
        assert reason in (await answer.json())["error"]
        answer = await post(c, OFFLINE, bad)
        assert answer.status == 400, bad

    headers, _ = baluhost_request("/api/handshake/snapshot", None)
    answer = await c.post("/api/handshake/snapshot", data=b"{not json", headers=headers)
    assert answer.status in (400, 401)  # the raw-body hash does not match an empty body: 401

    huge = {**good, "padding": "x" * 4096}
    answer = await post(c, "/api/handshake/snapshot", huge)
    assert answer.status == 413 and "limit of 2048" in (await answer.json())["error"]

    async def chunks():
        for _ in range(10):
            yield b"x" * 1024

    headers, _ = baluhost_request("/api/handshake/snapshot", None)
    answer = await c.post("/api/handshake/snapshot", data=chunks(), headers=headers)
    assert answer.status == 413

    assert latest.read_bytes() == before
    assert stack.controller.state is NasState.ONLINE


async def test_snapshot_keeps_the_previous_one(make_stack):
    stack = await make_stack()
    c = stack.client
    first = {**EXAMPLE_SNAPSHOT, "generated_at": "2026-01-01T00:00:00Z"}
    second = {**EXAMPLE_SNAPSHOT, "generated_at": "2026-01-02T00:00:00Z"}
    assert (await post(c, "/api/handshake/snapshot", first)).status == 200
    assert (await post(c, "/api/handshake/snapshot", second)).status == 200
    folder = stack.tmp_path / "snapshot"
    assert json.loads((folder / "snapshot.json").read_text()) == second
    assert json.loads((folder / "snapshot.previous.json").read_text()) == first
    status = await (await c.get("/api/handshake/status")).json()
    assert status["last_snapshot"] is not None


async def test_dns_server_down_during_a_switch_is_retried(make_stack):
    stack = await make_stack(handshake="dns_wait_seconds = 0.3")
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )
    stack.dnsmasq.stop()

    answer = await post(c, OFFLINE, EXAMPLE_SNAPSHOT)
    body = await answer.json()
    assert answer.status == 200 and body["acknowledged"] is True
    assert body["dns_switched"] is False and "not running" in body["dns_error"]
    status = await (await c.get("/api/status")).json()
    assert status["dns"]["pending"] is True and status["dns"]["last_error"]
    metrics = await (await c.get("/metrics")).text()
    assert "balupi_dns_switch_pending 1.0" in metrics
    assert 'balupi_dns_switches_total{result="failure"}' in metrics

    stack.dnsmasq.start()
    stack.dnsmasq.wait_ready()
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, PI_IP), what="baluhost.local at the Pi", timeout=15
    )
    await wait_for_async(lambda: not stack.controller.switcher.status.pending, what="switch done")


async def test_httpx_shaped_request_on_a_raw_socket(make_stack):
    """The bytes BaluHost's httpx client writes, header for header, on a plain TCP connection."""
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    headers, wire = baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT)
    host, port = stack.client.server.host, stack.client.server.port
    request = (
        f"POST {OFFLINE} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Accept: */*\r\n"
        "Accept-Encoding: gzip, deflate\r\n"
        "Connection: keep-alive\r\n"
        "User-Agent: python-httpx/0.27.2\r\n"
        f"X-Balupi-Timestamp: {headers['X-Balupi-Timestamp']}\r\n"
        f"X-Balupi-Signature: {headers['X-Balupi-Signature']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(wire)}\r\n\r\n"
    ).encode() + wire
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":")[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        body = json.loads(await reader.readexactly(length))
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body["acknowledged"] is True and body["dns_switched"] is True
