"""A Pi without a real-time clock: it boots hours behind until NTP steps the clock. The handshake
works from the first second, replays stay refused (across restarts too), durations and counters
run on the monotonic clock."""

from __future__ import annotations

import time

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT
from tests.handshake_helpers import NAS_IP, PI_IP, baluhost_request, dns_is
from tests.waiting import wait_for_async

OFFLINE = "/api/handshake/nas-going-offline"
ONLINE = "/api/handshake/nas-coming-online"
HOURS = 3600.0


async def post(client, path, body, **kw):
    headers, data = baluhost_request(path, body, **kw)
    return await client.post(path, data=data, headers=headers)


async def online_counter(client: TestClient) -> float:
    text = await (await client.get("/metrics")).text()
    for family in text_string_to_metric_families(text):
        if family.name == "balupi_nas_online_seconds":
            return family.samples[0].value
    raise AssertionError("no balupi_nas_online_seconds")


async def test_signed_calls_work_while_the_pi_clock_is_stale(make_stack):
    stack = await make_stack()
    stack.clock_synced, stack.wall_offset = False, -5 * HOURS  # fake-hwclock, no NTP yet
    await stack.client.close()
    await stack.start()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    answer = await post(c, OFFLINE, EXAMPLE_SNAPSHOT)  # the NAS's own, right clock
    assert answer.status == 200, await answer.text()
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what=f"dig answers {PI_IP}")
    assert (await post(c, ONLINE, None)).status == 200
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, NAS_IP), what=f"dig answers {NAS_IP}")
    # NTP steps the clock: the handshake goes on as before.
    stack.wall_offset, stack.clock_synced = 0.0, True
    assert (await post(c, OFFLINE, EXAMPLE_SNAPSHOT, ts=time.time() + 1)).status == 200


async def test_a_replay_stays_refused_after_a_restart(make_stack):
    stack = await make_stack()
    stack.clock_synced = False  # no window to hide behind: only the record refuses it
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    headers, data = baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT)
    assert (await stack.client.post(OFFLINE, data=data, headers=headers)).status == 200
    await stack.client.close()
    await stack.start()
    replay = await stack.client.post(OFFLINE, data=data, headers=headers)
    assert replay.status == 401 and "replayed" in (await replay.json())["error"]


async def test_the_online_counter_never_goes_back_when_the_clock_steps(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    c = stack.client
    first = await online_counter(c)
    stack.wall_offset = -5 * HOURS  # stepped back
    second = await online_counter(c)
    stack.wall_offset = +5 * HOURS  # stepped forward
    third = await online_counter(c)
    assert first <= second <= third < first + 60  # no jump of hours either way
    # Through a transition and a restart it keeps counting up.
    stack.nas.hang()
    await wait_for_async(lambda: stack.controller.state is NasState.UNREACHABLE, what="takeover")
    fourth = await online_counter(c)
    stack.wall_offset = -10 * HOURS
    await stack.client.close()
    await stack.start()
    assert third <= fourth <= await online_counter(stack.client) < first + 60


async def test_a_wake_does_not_end_early_when_the_clock_steps(make_stack):
    stack = await make_stack(nas_running=False, boot_seconds=3600)  # it never comes up here
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    assert (await stack.client.post("/api/wake-nas")).status == 202
    stack.wall_offset = +2 * HOURS  # NTP catches up with the stale clock mid-wake
    await wait_for_async(
        lambda: stack.controller.heartbeat.misses >= 3, what="probes during the wake"
    )
    assert stack.controller.state is NasState.WAKING
    elapsed = stack.controller.wake_elapsed()
    assert elapsed is not None and elapsed < 20
