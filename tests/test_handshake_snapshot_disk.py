"""A snapshot folder on a read-only (or full) disk: the shutdown is still acknowledged and DNS
moves, the answer says the snapshot was not stored, a metric counts it; a signature is used up
only by a call that was carried out."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT
from tests.handshake_helpers import PI_IP, baluhost_request, dns_is
from tests.waiting import wait_for_async

OFFLINE = "/api/handshake/nas-going-offline"
SNAPSHOT = "/api/handshake/snapshot"


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` read-only: a read-only tmpfs over it as root (root ignores modes), else 0500."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(folder)],
                       check=True)  # fmt: skip
        try:
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)


async def failures(client: TestClient) -> float:
    text = await (await client.get("/metrics")).text()
    for family in text_string_to_metric_families(text):
        if family.name == "balupi_snapshot_store_failures":
            return family.samples[0].value
    raise AssertionError("no balupi_snapshot_store_failures_total")


async def test_a_read_only_snapshot_folder_does_not_stop_a_planned_shutdown(make_stack):
    stack = await make_stack()
    c = stack.client
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    assert await failures(c) == 0
    with unwritable(stack.tmp_path / "snapshot"):
        headers, data = baluhost_request(OFFLINE, EXAMPLE_SNAPSHOT)
        answer = await c.post(OFFLINE, data=data, headers=headers)
        body = await answer.json()
        assert answer.status == 200, body
        assert body["acknowledged"] is True and body["snapshot_stored"] is False
        assert body["nas_state"] == "shutting_down"
        await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what=f"dig answers {PI_IP}")
        assert await failures(c) == 1
        # It was carried out: the same signature again is a replay.
        again = await c.post(OFFLINE, data=data, headers=headers)
        assert again.status == 401

        # The snapshot-only call cannot be carried out: 500, and its signature stays unused.
        headers, data = baluhost_request(SNAPSHOT, EXAMPLE_SNAPSHOT)
        refused = await c.post(SNAPSHOT, data=data, headers=headers)
        assert refused.status == 500 and "cannot store" in (await refused.json())["error"]
    retried = await c.post(SNAPSHOT, data=data, headers=headers)  # the disk is writable again
    assert retried.status == 200, await retried.text()
    assert (stack.tmp_path / "snapshot" / "snapshot.json").read_bytes() == data
