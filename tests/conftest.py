"""Fixtures for the handshake tests: real dnsmasq, the simulated NAS, the service."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from balupi.config import Config
from balupi.devstack.dnsmasq import Dnsmasq
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.sshd import SshServer
from balupi.handshake.controller import NasController
from balupi.handshake.hostsfile_backend import HostsFileBackend
from balupi.handshake.service import Service, build_service
from balupi.sim.nas.server import NasSimConfig, SimulatedNas
from tests.handshake_helpers import NAS_MAC, SECRET, load, write_config


@pytest.fixture
def dnsmasq(tmp_path):
    server = Dnsmasq(tmp_path / "dnsmasq", port=free_port(), hosts_file=tmp_path / "hosts")
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """Debian's sshd on a free loopback port, standing in for the NAS's disk (rsync target)."""
    server = SshServer(tmp_path_factory.mktemp("sshd"), port=free_port())
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@dataclass
class Stack:
    tmp_path: Path
    config_path: Path
    config: Config
    dnsmasq: Dnsmasq
    nas: SimulatedNas
    connect: Callable[[web.Application], Awaitable[TestClient]]  # pytest-aiohttp's client
    service: Service | None = None
    client: TestClient | None = None
    # What the service is told about its wall clock (NTP synchronised or not); tests may flip it.
    clock_synced: bool = True
    wall_offset: float = 0.0  # added to the service's wall clock: a stale or stepped clock

    @property
    def controller(self) -> NasController:
        assert self.service is not None, "make_stack starts the service"
        return self.service.controller

    async def start(self) -> None:
        """(Re)starts the service on the same state file."""
        config = load(self.config_path)
        assert config.dns is not None  # write_config writes [dns]
        self.service = build_service(
            config, HostsFileBackend(config.dns.hostsfile),
            clock_synchronised=lambda: self.clock_synced,
            clock=lambda: time.time() + self.wall_offset,
        )  # fmt: skip
        self.client = await self.connect(self.service.app)
        self.nas.config.pi_url = str(self.client.make_url("")).rstrip("/")


@pytest.fixture
async def make_stack(tmp_path, dnsmasq, aiohttp_client):
    """Builds the stack; ``start()`` (re)starts the service on the same state file."""
    made: list[SimulatedNas] = []

    async def make(*, nas_running: bool = True, boot_seconds: float = 0.1, handshake: str = "",
                   nas: str = "") -> Stack:  # fmt: skip
        nas_port, control_port, wol_port = free_port(), free_port(), free_udp_port()
        path = write_config(
            tmp_path, nas_port=nas_port, wol_port=wol_port, hosts_file=dnsmasq.hosts_file,
            pid_file=dnsmasq.pid_file, handshake=handshake, nas=nas,
        )  # fmt: skip
        sim = SimulatedNas(
            NasSimConfig(
                mac=NAS_MAC, api_port=nas_port, control_port=control_port, wol_port=wol_port,
                boot_seconds=boot_seconds, secret=SECRET, start_running=nas_running,
                announce_timeout=5,
            )
        )  # fmt: skip
        await sim.start()
        made.append(sim)
        stack = Stack(tmp_path, path, load(path), dnsmasq, sim, aiohttp_client)
        await stack.start()
        return stack

    yield make
    for sim in made:
        await sim.close()


# The demo's stack with node_exporter, shared by the Grafana and federation tests.
from tests.monitoring_stack import monitoring_stack  # noqa: E402, F401
