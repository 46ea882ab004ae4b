"""Wake-on-LAN with real magic packets to the simulated NAS, the heartbeat's takeover of a NAS
that dies without notice, recovery without flapping, and a restart of the service mid-wake."""

from __future__ import annotations

import json

import pytest

from balupi.handshake.states import NasState
from tests.handshake_helpers import NAS_IP, PI_IP, dns_is
from tests.waiting import wait_for_async


async def test_wake_from_the_api_until_dns_points_at_the_nas(make_stack):
    stack = await make_stack(nas_running=False, boot_seconds=0.3)
    c = stack.client
    await wait_for_async(
        lambda: stack.controller.state is NasState.OFFLINE, what="offline from probe"
    )
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what="baluhost.local at the Pi")

    answer = await c.post("/api/wake-nas")
    body = await answer.json()
    assert answer.status == 202, body
    assert body["wol_sent"] is True and body["nas_state"] == "waking"
    assert body["nas_previous_state"] == "offline"
    await wait_for_async(lambda: stack.nas.magic_packets == 1, what="magic packet received")

    again = await c.post("/api/nas/wol")  # the alias, while waking: answered, not repeated
    assert again.status == 200 and (await again.json())["wol_sent"] is False
    status = await (await c.get("/api/status")).json()
    assert status["wake"]["in_progress"] is True and status["wake"]["elapsed_seconds"] >= 0

    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online after boot"
    )
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )
    assert stack.nas.announcements == ["online: acknowledged"]
    assert stack.nas.magic_packets == 1
    assert stack.controller.stats.wakes["success"] == 1
    online = await c.post("/api/wake-nas")
    assert online.status == 200 and "already online" in (await online.json())["reason"]
    metrics = await (await c.get("/metrics")).text()
    assert 'balupi_nas_wakes_total{result="success"} 1.0' in metrics
    assert "balupi_nas_wake_duration_seconds_count 1.0" in metrics


async def test_wake_is_rate_limited_and_times_out(make_stack):
    stack = await make_stack(
        nas_running=False, boot_seconds=60, nas="wake_timeout_seconds = 0.3",
        handshake="wake_min_interval_seconds = 30",
    )  # fmt: skip
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    assert (await c.post("/api/wake-nas")).status == 202
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="wake timed out")
    assert stack.controller.stats.wakes["timeout"] == 1
    answer = await c.post("/api/wake-nas")
    assert answer.status == 429 and int(answer.headers["Retry-After"]) > 0
    assert "rate-limited" in (await answer.json())["error"]
    assert stack.nas.magic_packets == 1


async def test_a_killed_nas_is_taken_over_and_recovers_without_flapping(make_stack):
    stack = await make_stack()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )

    await stack.nas.kill()
    await wait_for_async(lambda: stack.controller.state is NasState.UNREACHABLE, what="takeover")
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what="baluhost.local at the Pi")
    assert stack.controller.stats.takeovers == 1
    metrics = await (await c.get("/metrics")).text()
    assert "balupi_nas_takeovers_total 1.0" in metrics
    assert 'balupi_nas_state{state="unreachable"} 1.0' in metrics
    assert "balupi_nas_up 0.0" in metrics

    # Back without announcing (a network blip): consecutive answers bring DNS back.
    await stack.nas.revive(announce=False)
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="recovered")
    assert stack.controller.heartbeat.results["ok"] >= 3
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )
    assert stack.controller.stats.takeovers == 1


async def test_a_nas_without_baluhost_gets_dns_back_after_the_grace_time(make_stack):
    stack = await make_stack(nas_running=False, nas="health_grace_seconds = 0.3")
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    await stack.nas.revive(announce=False)  # booted by hand, never calls nas-coming-online
    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online on health alone"
    )
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )


async def test_a_restart_of_the_service_mid_wake_continues_the_wake(make_stack):
    stack = await make_stack(nas_running=False, boot_seconds=1.0)
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    assert (await stack.client.post("/api/wake-nas")).status == 202
    saved = json.loads((stack.tmp_path / "state" / "state.json").read_text())
    assert saved["state"] == "waking" and saved["wake_started_at"] is not None

    await stack.client.close()  # the service stops while the NAS boots
    await stack.start()
    assert stack.controller.state is NasState.WAKING  # restored, not re-probed into offline
    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online after restart"
    )
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )
    assert stack.nas.magic_packets == 1


async def test_start_up_reconciles_the_dns_record_as_it_really_is(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )
    await stack.client.close()
    # Someone (or a crash mid-switch) left the record pointing at the Pi.
    hosts = stack.dnsmasq.hosts_file
    hosts.write_text(hosts.read_text().replace(NAS_IP, PI_IP))
    await stack.start()
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )


async def test_a_called_off_shutdown_gets_dns_back_after_the_grace_time(make_stack):
    from tests.handshake_helpers import baluhost_request

    stack = await make_stack(nas="health_grace_seconds = 0.3")
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    headers, data = baluhost_request("/api/nas-going-offline", None)
    assert (await stack.client.post("/api/nas-going-offline", data=data, headers=headers)).ok
    assert stack.controller.state is NasState.SHUTTING_DOWN
    # It keeps answering and never comes down: after the grace time DNS goes back.
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online again")
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), what="baluhost.local at the NAS"
    )


async def test_an_unreadable_state_file_is_replaced_by_a_live_probe(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await stack.client.close()
    (stack.tmp_path / "state" / "state.json").write_text("{not json")
    await stack.start()
    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online from the probe"
    )
    saved = json.loads((stack.tmp_path / "state" / "state.json").read_text())
    assert saved["state"] == "online"


async def test_time_online_survives_a_restart(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await stack.nas.kill()
    await wait_for_async(lambda: stack.controller.state is NasState.UNREACHABLE, what="takeover")
    before = stack.controller.online_seconds_total()
    assert before > 0
    await stack.client.close()
    await stack.start()
    assert stack.controller.online_seconds_total() == before


async def test_a_hung_nas_is_taken_over_through_probe_timeouts(make_stack):
    stack = await make_stack(nas="heartbeat_timeout_seconds = 0.1")
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    stack.nas.hang()  # the port stays open, nothing answers
    await wait_for_async(lambda: stack.controller.state is NasState.UNREACHABLE, what="takeover")
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what="baluhost.local at the Pi")
    assert "no answer within 0.1 s" in stack.controller.heartbeat.last_error
    await stack.nas.revive()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="back")


BAD_STATE_FILES = {
    "not an object": "[1, 2]",
    "unknown state": '{"state": "dancing", "since": 1.7e9, "online_seconds_before": 0}',
    "state not a string": '{"state": 1, "since": 1.7e9, "online_seconds_before": 0}',
    "since a string": '{"state": "waking", "since": "yesterday", "online_seconds_before": 0}',
    "since missing": '{"state": "offline", "online_seconds_before": 0}',
    "since a bool": '{"state": "offline", "since": true, "online_seconds_before": 0}',
    "negative online": '{"state": "offline", "since": 1.7e9, "online_seconds_before": -5}',
    "online a list": '{"state": "offline", "since": 1.7e9, "online_seconds_before": [1]}',
    "wake start NaN": '{"state": "waking", "since": 1.7e9, "online_seconds_before": 0,'
    ' "wake_started_at": NaN}',
    "snapshot time huge": '{"state": "offline", "since": 1.7e9, "online_seconds_before": 0,'
    ' "last_snapshot_at": 1e300}',
    "not UTF-8": b'{"state": "\xff"}',
}


@pytest.mark.parametrize("content", BAD_STATE_FILES.values(), ids=BAD_STATE_FILES.keys())
async def test_a_state_file_with_wrong_types_is_replaced_by_a_live_probe(
    make_stack, content, caplog
):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await stack.client.close()
    path = stack.tmp_path / "state" / "state.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    caplog.clear()
    await stack.start()
    assert "ignoring unreadable state file" in caplog.text
    await wait_for_async(
        lambda: stack.controller.state is NasState.ONLINE, what="online from the probe"
    )
    # Everything that reads the state still answers, and the file is good again.
    assert (await stack.client.get("/api/status")).status == 200
    assert (await stack.client.get("/metrics")).status == 200
    saved = json.loads(path.read_text())
    assert saved["state"] == "online" and isinstance(saved["since"], float)
    await stack.nas.kill()  # and it still takes over
    await wait_for_async(lambda: stack.controller.state is NasState.UNREACHABLE, what="takeover")
