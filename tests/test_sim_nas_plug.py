"""The simulated NAS tells the simulated plug it hangs on what it draws: the plug reads the
standby draw while the NAS sleeps, more while it boots, its online draw while it runs."""

from __future__ import annotations

import pytest
import wakeonlan

from balupi.devstack.ports import free_port, free_udp_port
from balupi.sim.nas.plug_feed import ASLEEP_WATTS, BOOT_EXTRA_WATTS, SUSPENDED_WATTS
from balupi.sim.nas.server import NasSimConfig, SimulatedNas
from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.server import TapoSimServer
from tests.handshake_helpers import NAS_MAC
from tests.tapo_helpers import PASSWORD, USER, start_plug
from tests.waiting import wait_for_async

ONLINE = 41.0


@pytest.fixture
async def house():
    plug = await start_plug(power_watts=0.0)
    wol_port = free_udp_port()
    nas = SimulatedNas(
        NasSimConfig(
            mac=NAS_MAC, api_port=free_port(), control_port=free_port(), wol_port=wol_port,
            boot_seconds=0.5, plug_control_url=f"http://127.0.0.1:{plug.port}/sim/control",
            online_watts=ONLINE,
        )
    )  # fmt: skip
    await nas.start()
    try:
        yield nas, plug.plug, wol_port
    finally:
        await nas.close()
        await plug.stop()


async def reads(plug: SimulatedP110, watts: float, what: str) -> None:
    await wait_for_async(lambda: plug.power_watts == watts, what=what, timeout=10)


async def test_the_plug_reads_what_the_nas_draws_in_each_state(house):
    nas, plug, wol_port = house
    await reads(plug, ONLINE, "the online draw at start")
    await nas.shutdown()
    await reads(plug, ASLEEP_WATTS, "the standby draw after a shutdown")
    wakeonlan.wake(NAS_MAC, host="127.0.0.1", port=wol_port)
    await reads(plug, ONLINE + BOOT_EXTRA_WATTS, "the boot's draw")
    await reads(plug, ONLINE, "the online draw once booted")
    await nas.suspend()
    await reads(plug, SUSPENDED_WATTS, "the suspended draw")
    await nas.resume()
    await reads(plug, ONLINE, "the online draw after resuming")
    await nas.kill()
    await reads(plug, ASLEEP_WATTS, "a dead NAS's draw")


async def test_a_plug_that_starts_later_gets_the_draw(caplog):
    port = free_port()
    nas = SimulatedNas(
        NasSimConfig(
            mac=NAS_MAC, api_port=free_port(), control_port=free_port(),
            wol_port=free_udp_port(), plug_control_url=f"http://127.0.0.1:{port}/sim/control",
            online_watts=ONLINE,
        )
    )  # fmt: skip
    await nas.start()
    try:
        await wait_for_async(lambda: "did not take" in caplog.text, what="a post refused")
        plug = TapoSimServer(SimulatedP110(), username=USER, password=PASSWORD, port=port)
        await plug.start()
        try:
            await reads(plug.plug, ONLINE, "the draw, posted again once the plug listens")
        finally:
            await plug.stop()
    finally:
        await nas.close()
