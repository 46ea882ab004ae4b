"""The unsigned buttons (wake, move the inbox now) refuse what a page of another site can send —
a plain form post, a fetch with its Origin or ``Sec-Fetch-Site: cross-site`` — and take the
dashboard's own calls; the signed NAS calls and the read-only routes are unaffected."""

from __future__ import annotations

import pytest

from balupi.handshake.cross_site import DASHBOARD_HEADERS
from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT
from tests.conftest import Stack
from tests.handshake_helpers import baluhost_request
from tests.waiting import wait_for_async

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EVIL = "http://evil.example"


def origin_of(stack: Stack) -> str:
    assert stack.client is not None
    return str(stack.client.make_url("")).rstrip("/")


async def asleep(make_stack):
    stack = await make_stack(nas_running=False, boot_seconds=60)
    await wait_for_async(lambda: stack.controller.state is NasState.OFFLINE, what="offline")
    return stack


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "X-Requested-With: balupi-dashboard"),  # curl, or a browser that marks nothing
        (FORM, "X-Requested-With: balupi-dashboard"),  # a plain HTML form
        ({**FORM, "Origin": EVIL, "Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site: cross-site"),
        ({**DASHBOARD_HEADERS, "Sec-Fetch-Site": "cross-site"}, "another site"),
        ({**DASHBOARD_HEADERS, "Sec-Fetch-Site": "same-site"}, "another site"),
        ({**DASHBOARD_HEADERS, "Origin": EVIL}, f"Origin: {EVIL}"),
        ({**FORM, "Origin": "null"}, "Origin: null"),  # a sandboxed frame or a data: page
        ({"X-Requested-With": "XMLHttpRequest"}, "X-Requested-With: balupi-dashboard"),
    ],
)
async def test_a_cross_site_wake_is_refused_and_wakes_nothing(make_stack, headers, why):
    stack = await asleep(make_stack)
    for path in ("/api/wake-nas", "/api/nas/wol"):
        answer = await stack.client.post(path, data=b"wake=1", headers=headers)
        assert answer.status == 403
        assert why in (await answer.json())["error"]
    assert stack.controller.state is NasState.OFFLINE
    assert stack.controller.wake_elapsed() is None
    assert stack.nas.magic_packets == 0


@pytest.mark.parametrize(
    "headers",
    [
        DASHBOARD_HEADERS | {"Content-Type": "application/json"},  # the dashboard's fetch
        {"Sec-Fetch-Site": "same-origin"},  # a browser's same-origin fetch
        "same origin",  # Origin names the host the request was sent to
    ],
)
async def test_the_dashboard_s_own_wake_is_taken(make_stack, headers):
    stack = await asleep(make_stack)
    if headers == "same origin":
        headers = {"Origin": origin_of(stack), "Sec-Fetch-Site": "same-origin"}
    answer = await stack.client.post("/api/wake-nas", headers=headers)
    assert answer.status == 202, await answer.text()
    await wait_for_async(lambda: stack.nas.magic_packets == 1, what="the magic packet")


async def test_the_inbox_button_is_guarded_the_same_way(make_stack):
    stack = await make_stack()
    c = stack.client
    refused = await c.post("/api/inbox/flush", headers={**FORM, "Origin": EVIL})
    assert refused.status == 403 and EVIL in (await refused.json())["error"]
    # Let through: this stack has no [inbox] section, which the handler itself answers.
    taken = await c.post("/api/inbox/flush", headers=DASHBOARD_HEADERS)
    assert taken.status == 404 and "[inbox]" in (await taken.json())["error"]


async def test_signed_nas_calls_and_reads_are_not_guarded(make_stack):
    stack = await make_stack()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    cross = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    assert (await c.get("/api/status", headers=cross)).status == 200
    path = "/api/handshake/nas-going-offline"
    headers, wire = baluhost_request(path, EXAMPLE_SNAPSHOT)
    answer = await c.post(path, data=wire, headers={**headers, **cross})
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["snapshot_stored"] is True
    assert stack.controller.state is not NasState.ONLINE  # shutting down, then offline
