"""balupi-handshake's `pihole` DNS backend against the simulated Pi-hole v6 and its real dnsmasq:
the record `dig` sees follows the NAS, other records stay, and a Pi-hole that is down during a
switch is caught up with once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from balupi.config_pihole import PiholeConfig
from balupi.devstack.ports import free_port, free_udp_port
from balupi.handshake.dns_backend import DnsSwitchError
from balupi.handshake.pihole_backend import PiholeBackend
from balupi.handshake.service import build_service
from balupi.handshake.states import NasState
from balupi.secret import Secret
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT, NasSimConfig, SimulatedNas
from balupi.sim.pihole.model import SimSettings, SimulatedPihole
from balupi.sim.pihole.server import make_app
from tests.handshake_helpers import (
    HOSTNAME,
    NAS_IP,
    NAS_MAC,
    PI_IP,
    SECRET,
    baluhost_request,
    dns_is,
    load,
    write_config,
)
from tests.waiting import wait_for_async

APP_PASSWORD = "app-pw"
OTHER_RECORD = "192.0.2.99 printer.lan"


class PiholeUnderTest:
    """The simulated Pi-hole: its API can go away and come back on the same port."""

    def __init__(self, tmp_path: Path, *, app_sudo: bool = True) -> None:
        self.dns_port, self.api_port = free_port(), free_port()
        self.model = SimulatedPihole(
            SimSettings(
                password="web-pw", app_password=APP_PASSWORD, app_sudo=app_sudo,
                hosts=[OTHER_RECORD, f"{NAS_IP} {HOSTNAME}"], dns_port=self.dns_port,
                local_ttl=5, workdir=tmp_path / "pihole",
            )
        )  # fmt: skip
        self.runner: web.AppRunner | None = None
        self.url = f"http://127.0.0.1:{self.api_port}"

    async def start_api(self) -> None:
        app = make_app(self.model)
        # The test starts and stops the model (its dnsmasq) itself, so that the API alone can
        # go away while DNS keeps answering.
        app.on_startup.clear()
        app.on_cleanup.clear()
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.api_port).start()

    async def stop_api(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def backend(self) -> PiholeBackend:
        return PiholeBackend(PiholeConfig(url=self.url, password=Secret(APP_PASSWORD, "test")))


@pytest.fixture
async def pihole(tmp_path):
    under_test = PiholeUnderTest(tmp_path)
    await under_test.model.start()
    await under_test.start_api()
    yield under_test
    await under_test.stop_api()
    await under_test.model.stop()


async def test_switch_is_seen_by_dig_and_keeps_other_records(pihole):
    backend = pihole.backend()
    try:
        assert await backend.current(HOSTNAME) == NAS_IP
        await backend.switch(HOSTNAME, PI_IP)
        await wait_for_async(
            lambda: dns_is(pihole.dns_port, PI_IP), what="baluhost.local at the Pi", timeout=2
        )
        assert await backend.current(HOSTNAME) == PI_IP
        assert OTHER_RECORD in pihole.model.hosts
        assert [h for h in pihole.model.hosts if HOSTNAME in h] == [f"{PI_IP} {HOSTNAME}"]
    finally:
        await backend.close()
    assert pihole.model.sessions.open() == []  # the backend logged out


async def test_app_password_without_app_sudo_names_the_fix(tmp_path):
    under_test = PiholeUnderTest(tmp_path, app_sudo=False)
    await under_test.model.start()
    await under_test.start_api()
    backend = under_test.backend()
    try:
        with pytest.raises(DnsSwitchError, match="app_sudo"):
            await backend.switch(HOSTNAME, PI_IP)
    finally:
        await backend.close()
        await under_test.stop_api()
        await under_test.model.stop()


async def test_service_switches_through_pihole_and_catches_up_after_an_outage(
    pihole, tmp_path, aiohttp_client
):
    nas_port, control_port, wol_port = free_port(), free_port(), free_udp_port()
    path = write_config(
        tmp_path, nas_port=nas_port, wol_port=wol_port, hosts_file=tmp_path / "unused",
        pid_file=tmp_path / "unused.pid",
    )  # fmt: skip
    nas = SimulatedNas(
        NasSimConfig(mac=NAS_MAC, api_port=nas_port, control_port=control_port,
                     wol_port=wol_port, boot_seconds=0.1, secret=SECRET)
    )  # fmt: skip
    await nas.start()
    service = build_service(load(path), pihole.backend())
    client = await aiohttp_client(service.app)
    try:
        await wait_for_async(lambda: service.controller.state is NasState.ONLINE, what="online")
        headers, data = baluhost_request("/api/handshake/nas-going-offline", EXAMPLE_SNAPSHOT)
        answer = await client.post("/api/handshake/nas-going-offline", data=data, headers=headers)
        assert answer.status == 200 and (await answer.json())["dns_switched"] is True
        await wait_for_async(
            lambda: dns_is(pihole.dns_port, PI_IP), what="baluhost.local at the Pi", timeout=2
        )

        await pihole.stop_api()  # Pi-hole's web server is down while the NAS comes back
        headers, data = baluhost_request("/api/handshake/nas-coming-online", None)
        answer = await client.post("/api/handshake/nas-coming-online", data=data, headers=headers)
        body = await answer.json()
        assert answer.status == 200 and body["acknowledged"] is True
        assert body["dns_switched"] is False
        await wait_for_async(
            lambda: service.controller.switcher.status.pending, what="switch pending"
        )
        await wait_for_async(
            lambda: dns_is(pihole.dns_port, PI_IP), what="baluhost.local at the Pi", timeout=1
        )  # the old record still answers

        await pihole.start_api()
        await wait_for_async(
            lambda: dns_is(pihole.dns_port, NAS_IP), what="baluhost.local at the NAS", timeout=15
        )  # the retry puts it right
        await wait_for_async(
            lambda: not service.controller.switcher.status.pending, what="no pending"
        )
    finally:
        await nas.close()
