"""Starting the simulated Pi-hole in the test's event loop, on a real loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:  # aiohttp 3.8 (Debian bookworm's) has no typedefs.Middleware
    from aiohttp.typedefs import Middleware

from balupi.devstack.ports import free_port
from balupi.pihole.client import PiholeClient
from balupi.secret import Secret
from balupi.sim.pihole.model import SimSettings, SimulatedPihole
from balupi.sim.pihole.server import make_app

PASSWORD = "web-pw"
APP_PASSWORD = "app-pw"


@dataclass
class RunningSim:
    pihole: SimulatedPihole
    runner: web.AppRunner
    url: str

    def client(self, password: str = PASSWORD, *, timeout: float = 5.0) -> PiholeClient:
        return PiholeClient(self.url, Secret(password, "test"), request_timeout=timeout)

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_sim(
    settings: SimSettings | None = None, *, middlewares: Iterable[Middleware] = ()
) -> RunningSim:
    settings = settings or SimSettings(password=PASSWORD, app_password=APP_PASSWORD)
    pihole = SimulatedPihole(settings)
    runner = web.AppRunner(make_app(pihole, middlewares=middlewares), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return RunningSim(pihole, runner, f"http://127.0.0.1:{port}")


async def dig(name: str, port: int) -> list[str]:
    """What Debian's dig gets from dnsmasq: the A records, [] for no record."""
    proc = await asyncio.create_subprocess_exec(
        "dig", "+short", "+time=1", "+tries=1", "-p", str(port), "@127.0.0.1", name, "A",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"dig failed ({proc.returncode}): {err.decode()} {out.decode()}")
    return [line for line in out.decode().split() if line and line[0].isdigit()]
