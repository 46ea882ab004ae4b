"""The inbox on the handshake service, with real sshd + rsync as the NAS's disk: the flush starts
when the NAS announces itself (after the answer), runs while it is online and files wait, and
on demand from the API; status and /metrics show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from balupi.devstack.ports import free_port, free_udp_port
from balupi.handshake.hostsfile_backend import HostsFileBackend
from balupi.handshake.service import build_service
from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT, NasSimConfig, SimulatedNas
from tests.handshake_helpers import NAS_MAC, SECRET, baluhost_request, load, write_config
from tests.inbox_helpers import files_below
from tests.waiting import wait_for_async

ONLINE = "/api/handshake/nas-coming-online"
OFFLINE = "/api/handshake/nas-going-offline"


@pytest.fixture
async def stack(tmp_path, dnsmasq, sshd, aiohttp_client):
    inbox, staging, disk = tmp_path / "inbox", tmp_path / "staging", tmp_path / "nas-disk"
    for folder in (inbox, staging, disk):
        folder.mkdir()
    nas_port, control_port, wol_port = free_port(), free_port(), free_udp_port()
    path = write_config(
        tmp_path, nas_port=nas_port, wol_port=wol_port, hosts_file=dnsmasq.hosts_file,
        pid_file=dnsmasq.pid_file,
    )  # fmt: skip
    with path.open("a") as toml:
        toml.write(
            f"""
[inbox]
path = "{inbox}"
staging_path = "{staging}"
nas_host = "127.0.0.1"
nas_port = {sshd.port}
nas_user = "{sshd.user}"
nas_path = "{disk}"
ssh_key_file = "{sshd.client_key}"
known_hosts_file = "{sshd.known_hosts}"
settle_seconds = 0
interval_seconds = 5
"""
        )
    nas = SimulatedNas(
        NasSimConfig(mac=NAS_MAC, api_port=nas_port, control_port=control_port,
                     wol_port=wol_port, boot_seconds=0.1, secret=SECRET)
    )  # fmt: skip
    await nas.start()
    config = load(path)
    assert config.dns is not None
    service = build_service(config, HostsFileBackend(config.dns.hostsfile))
    client = await aiohttp_client(service.app)
    try:
        await wait_for_async(lambda: service.controller.state is NasState.ONLINE, what="online")
        yield client, service, inbox, disk
    finally:
        await nas.close()


async def signed(client: TestClient, path: str, body: dict | None) -> ClientResponse:
    headers, data = baluhost_request(path, body)
    return await client.post(path, data=data, headers=headers)


def drop(inbox: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_bytes(data)


async def test_coming_online_answers_at_once_then_the_inbox_moves(stack):
    client, service, inbox, disk = stack
    files = {"scan.pdf": b"%PDF" * 1000, "Fotos/Urlaub 2026/ä ö.jpg": b"\xff\xd8" * 5000}
    drop(inbox, files)
    expected = files_below(inbox)

    answer = await signed(client, ONLINE, None)
    body = await answer.json()
    assert answer.status == 200 and body["acknowledged"] is True
    assert body["inbox_flush_started"] is True and body["inbox_files"] == 2

    await wait_for_async(
        lambda: files_below(disk) == expected, timeout=20, what="the files on the NAS"
    )
    assert files_below(inbox) == {}  # moved, not copied
    await wait_for_async(lambda: not service.inbox.mover.running, what="the flush finished")
    status = await (await client.get("/api/status")).json()
    assert status["inbox"]["files"] == 0
    assert status["inbox"]["last_flush"]["moved_files"] == 2
    assert status["inbox"]["moved_files_total"] == 2

    metrics = await (await client.get("/metrics")).text()
    assert metrics.count("# TYPE balupi_inbox_files gauge") == 1  # one collector, no duplicate
    assert "balupi_inbox_moved_files_total 2.0" in metrics


async def test_flush_on_demand_and_refused_while_the_nas_sleeps(stack):
    client, _service, inbox, disk = stack
    drop(inbox, {"a.txt": b"one"})
    answer = await client.post("/api/inbox/flush")
    report = await answer.json()
    assert answer.status == 200 and report["moved_files"] == 1 and report["result"] == "ok"
    assert (disk / "a.txt").read_bytes() == b"one"

    await signed(client, OFFLINE, EXAMPLE_SNAPSHOT)
    drop(inbox, {"b.txt": b"two"})
    answer = await client.post("/api/inbox/flush")
    assert answer.status == 409 and "wake it first" in (await answer.json())["error"]
    assert (inbox / "b.txt").exists() and not (disk / "b.txt").exists()  # nothing lost


async def test_files_dropped_while_online_move_without_being_asked(stack):
    _client, _service, inbox, disk = stack
    drop(inbox, {"later.txt": b"dropped while the NAS is up"})
    await wait_for_async(
        lambda: (disk / "later.txt").exists(), timeout=20, what="the interval flush"
    )
    assert not (inbox / "later.txt").exists()
