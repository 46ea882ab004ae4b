"""A NAS that suspends: the sleep hook (balupi-nas suspend-hook / resume-hook, run by
balupi-nas-sleep.service) announces it, so the Pi treats it as planned: DNS to the Pi at once,
no takeover, and back to the NAS on resume."""

from __future__ import annotations

from balupi.handshake.states import NasState
from tests.handshake_helpers import NAS_IP, PI_IP, dns_is
from tests.waiting import wait_for_async


async def test_an_announced_suspend_is_planned_and_the_resume_brings_dns_back(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, NAS_IP), what=f"dig answers {NAS_IP}")
    seen: set[NasState] = set()

    result = await stack.nas.suspend()
    assert result == "suspend: acknowledged"
    assert stack.controller.state is NasState.SHUTTING_DOWN  # DNS moves on the announcement
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, PI_IP), timeout=2, what=f"dig answers {PI_IP}"
    )

    def offline() -> bool:
        seen.add(stack.controller.state)
        return stack.controller.state is NasState.OFFLINE

    await wait_for_async(offline, what="offline once it stopped answering")
    assert (stack.tmp_path / "snapshot" / "snapshot.json").exists()

    assert await stack.nas.resume() == "resume: acknowledged"
    assert stack.controller.status().nas_state is NasState.ONLINE
    await wait_for_async(
        lambda: dns_is(stack.dnsmasq.port, NAS_IP), timeout=2, what=f"dig answers {NAS_IP}"
    )
    assert NasState.UNREACHABLE not in seen and stack.controller.status().takeovers == 0


async def test_a_magic_packet_resumes_a_suspended_nas(make_stack):
    stack = await make_stack(boot_seconds=3600)  # a boot would take an hour: only a resume is quick
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await stack.nas.suspend()
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    assert (await stack.client.post("/api/wake-nas")).status == 202
    await wait_for_async(lambda: len(stack.nas.announcements) == 2, what="the resume announced")
    assert stack.controller.state is NasState.ONLINE
    assert stack.nas.state == "running" and stack.nas.boots == 0
    assert stack.nas.announcements[-2:] == ["suspend: acknowledged", "resume: acknowledged"]
    assert stack.controller.status().takeovers == 0
