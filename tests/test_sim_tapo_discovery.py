"""The Tapo sim answers python-kasa's discovery (UDP 20002) as a P110 does, and python-kasa
then logs in over the transport and port the answer names."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest
from kasa import Credentials, Discover, Module
from kasa.deviceconfig import DeviceEncryptionType, DeviceFamily

from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.discovery import DISCOVERY_PORT, is_probe
from balupi.sim.tapo.server import TapoSimServer
from tests.tapo_helpers import PASSWORD, USER


def _address() -> str:
    return f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"


@pytest.mark.parametrize(
    ("transport", "encryption"),
    [("klap", DeviceEncryptionType.Klap), ("aes", DeviceEncryptionType.Aes)],
)
async def test_kasa_discovers_the_sim_and_reads_it(transport, encryption):
    host = _address()
    plug = SimulatedP110(nickname="NAS", power_watts=38.0)
    server = TapoSimServer(
        plug,
        username=USER,
        password=PASSWORD,
        transport=transport,
        host=host,
        discovery_port=DISCOVERY_PORT,
    )
    async with server:
        found = await Discover.discover(
            target=host, discovery_timeout=1, credentials=Credentials(USER, PASSWORD)
        )
        assert list(found) == [host]
        device = found[host]
        try:
            kind = device.config.connection_type
            assert kind.device_family is DeviceFamily.SmartTapoPlug
            assert kind.encryption_type is encryption
            assert kind.http_port == server.port  # the sim's HTTP port, not 80
            assert (device.model, device.mac) == ("P110", "5C:62:8B:4E:21:A7")
            await device.update()
            assert device.alias == "NAS"
            assert device.modules[Module.Energy].current_consumption == 38.0
        finally:
            await device.disconnect()
        assert server.state()["discovery_probes"] >= 1


async def test_datagrams_that_are_no_probe_get_no_answer():
    host = _address()
    server = TapoSimServer(
        SimulatedP110(), username=USER, password=PASSWORD, host=host, discovery_port=0
    )
    async with server:
        assert server.discovery_port
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.bind(("127.0.0.1", 0))
            # A broken probe first, a good one after it: only the good one is answered.
            for datagram in (b"\x02\x00\x00\x01" + b"\x00" * 12 + b"{}", _probe()):
                await loop.sock_sendto(sock, datagram, (host, server.discovery_port))
            answer = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
        assert b'"device_type":"SMART.TAPOPLUG"' in answer
        assert server.state()["discovery_probes"] == 1


def _probe() -> bytes:
    from kasa.discover import _AesDiscoveryQuery

    query = bytes(_AesDiscoveryQuery.generate_query())
    assert is_probe(query)
    return query
