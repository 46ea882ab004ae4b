"""The local-record switch seen from the network: Debian's dig against the simulator's real
dnsmasq. The answer changes, and no query in between finds no record (or two)."""

from __future__ import annotations

import asyncio
import shutil
import urllib.parse
from functools import partial

import pytest

from balupi.devstack.ports import free_port
from balupi.sim.pihole.model import SimSettings
from tests.pihole_helpers import PASSWORD, dig, start_sim
from tests.waiting import wait_for_async

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("dig") is None, reason="dig is missing: make system-deps"),
]
NAME = "baluhost.local"


@pytest.fixture
async def sim(tmp_path):
    settings = SimSettings(
        password=PASSWORD,
        hosts=["10.0.0.1 router.lan", f"192.168.1.5 {NAME}"],
        dns_port=free_port(),
        workdir=tmp_path,
    )
    running = await start_sim(settings)
    yield running
    await running.stop()


async def test_switch_is_seen_by_dig_with_no_gap(sim):
    port = sim.pihole.settings.dns_port
    assert await dig(NAME, port) == ["192.168.1.5"]
    answers: list[list[str]] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            answers.append(await dig(NAME, port))

    watcher = asyncio.ensure_future(watch())
    client = sim.client()
    for i in range(10):
        address = f"192.168.1.{10 + i}"
        await client.set_host_record(NAME, address)
        await wait_for_async(partial(_seen, address, port), what=f"dig answer {address}")
    done.set()
    await watcher
    await client.close()
    assert len(answers) >= 10
    gaps = [a for a in answers if len(a) != 1]
    assert gaps == [], f"{len(gaps)} of {len(answers)} answers had no record or two"
    assert await dig("router.lan", port) == ["10.0.0.1"]  # the other record stayed


async def _seen(address: str, port: int) -> bool:
    return await dig(NAME, port) == [address]


async def test_put_and_delete_of_one_record_reach_dns(sim):
    port = sim.pihole.settings.dns_port
    client = sim.client()
    item = urllib.parse.quote("10.0.0.7 printer.lan")
    await client.request("PUT", f"/config/dns/hosts/{item}")
    await wait_for_async(lambda: _has("printer.lan", port, ["10.0.0.7"]), what="new record in DNS")
    await client.request("DELETE", f"/config/dns/hosts/{item}")
    await wait_for_async(lambda: _has("printer.lan", port, []), what="record gone from DNS")
    await client.close()


async def _has(name: str, port: int, expected: list[str]) -> bool:
    return await dig(name, port) == expected


async def test_local_ttl_restarts_dnsmasq_with_it(sim):
    port = sim.pihole.settings.dns_port
    client = sim.client()
    await client.set_local_ttl(7)
    proc = await asyncio.create_subprocess_exec(
        "dig", "+noall", "+answer", "-p", str(port), "@127.0.0.1", NAME, "A",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    fields = out.decode().split()
    assert fields[0].rstrip(".") == NAME and fields[1] == "7", out
    assert await client.local_ttl() == 7
    await client.close()
