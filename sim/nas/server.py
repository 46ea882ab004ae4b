"""A simulated NAS: /api/health while it runs, asleep after its shutdown or suspend, woken by a
magic packet (from a suspend it resumes at once, without a boot).

It announces itself to the Pi through the real ``balupi-nas`` code (shutdown hook and
announce-online; for a suspend the suspend and resume hooks balupi-nas-sleep.service runs), so
the simulated protocol is the one a real NAS speaks. Its own control
channel (another port) lets tests and the demo shut it down, kill it or revive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from balupi.nas.cli import announce_online, resume_hook, shutdown_hook, suspend_hook
from balupi.nas.health_server import make_health_app
from balupi.nas.pi_client import NotAcknowledged
from balupi.sim.nas.magic_packet import is_magic_packet_for
from balupi.sim.nas.plug_feed import DEFAULT_ONLINE_WATTS, PlugFeed

log = logging.getLogger("balupi.sim.nas")

# As BaluHost's snapshot_export.py writes it: the last backup's created_at and its status
# ("completed", "in_progress", "failed"); with no backup at all {"last_backup": null,
# "status": "none"}, and "unknown" when it could not tell.
EXAMPLE_SNAPSHOT: dict[str, Any] = {
    "version": 1,
    "baluhost_version": "sim",
    "system": {"hostname": "sim-nas", "uptime_seconds": 0, "cpu_model": "simulated",
               "ram_total_gb": 16},
    "storage": {"arrays": [{"name": "md0", "level": "raid1", "state": "clean",
                            "size_bytes": 4 * 10**12, "devices": ["sda", "sdb"]}],
                "total_bytes": 4 * 10**12, "used_bytes": 10**12},
    "smart_health": {"sda": {"status": "PASSED", "temperature_c": 34, "power_on_hours": 1000}},
    "services": {"vpn": {"active_clients": 0}, "shares": {"active_shares": 2},
                 "backups": {"last_backup": "2026-11-30T03:00:00+00:00",
                             "status": "completed"}},
    "users": {"total": 1, "list": [{"username": "admin", "role": "admin"}]},
    "files_summary": {"total_files": 12345, "total_size_bytes": 10**12},
}  # fmt: skip


def snapshot_at(now: datetime) -> dict:
    """The example snapshot as the NAS would send it at ``now`` (local time, with its zone):
    made now, its nightly backup done at 03:00."""
    backup = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if backup > now:
        backup -= timedelta(days=1)
    snapshot = copy.deepcopy(EXAMPLE_SNAPSHOT)
    snapshot["generated_at"] = now.isoformat()
    snapshot["services"]["backups"] = {"last_backup": backup.isoformat(), "status": "completed"}
    return snapshot


def _snapshot_now() -> dict:
    return snapshot_at(datetime.now().astimezone())


@dataclass
class NasSimConfig:
    mac: str
    host: str = "127.0.0.1"
    api_port: int = 8090  # its /api/health (closed while it sleeps)
    control_port: int = 8091  # /sim/state, /sim/control (always open)
    wol_port: int = 8009  # UDP: magic packets
    # Where the WoL socket binds (None: ``host``). A socket bound to a unicast address does not
    # get broadcasts: the namespace LAN binds 0.0.0.0 so the Pi's broadcast reaches it.
    wol_host: str | None = None
    boot_seconds: float = 5.0
    pi_url: str | None = None  # where to announce itself; None: never announces
    secret: str | None = None
    announce_timeout: float = 30.0
    start_running: bool = True
    # The simulated plug it hangs on (its /sim/control): told the NAS's draw at each change of
    # state. None: the plug's draw is left alone (tests that set it themselves).
    plug_control_url: str | None = None
    online_watts: float = DEFAULT_ONLINE_WATTS


class _WolProtocol(asyncio.DatagramProtocol):
    def __init__(self, nas: SimulatedNas) -> None:
        self.nas = nas

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.nas.on_packet(data)


class SimulatedNas:
    def __init__(self, config: NasSimConfig) -> None:
        self.config = config
        self._plug = (
            PlugFeed(config.plug_control_url, config.online_watts)
            if config.plug_control_url
            else None
        )
        self._state = "sleeping"
        self.healthy_since: float | None = None  # Unix seconds the health API came up
        self.magic_packets = 0
        self.boots = 0
        self.announcements: list[str] = []  # "online: acknowledged", "offline: failed ..."
        # Hung: the port stays open but nothing answers (a frozen kernel, a cable pulled).
        self.hung = asyncio.Event()
        self._unhang = asyncio.Event()
        self._api_runner: web.AppRunner | None = None
        self._control_runner: web.AppRunner | None = None
        self._wol_transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, state: str) -> None:
        self._state = state
        if self._plug is not None:
            self._plug.tell(state)

    # -- life cycle of the simulator ----------------------------------------------------------

    async def start(self) -> None:
        c = self.config
        loop = asyncio.get_running_loop()
        self._wol_transport, _ = await loop.create_datagram_endpoint(
            lambda: _WolProtocol(self), local_addr=(c.wol_host or c.host, c.wol_port)
        )
        self._control_runner = web.AppRunner(self._control_app(), access_log=None)
        await self._control_runner.setup()
        await web.TCPSite(self._control_runner, c.host, c.control_port).start()
        if self._plug is not None:
            self._plug.start()
            self._plug.tell(self.state)
        if c.start_running:
            await self._api_up()
            self.state = "running"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._api_down()
        if self._control_runner is not None:
            await self._control_runner.cleanup()
        if self._wol_transport is not None:
            self._wol_transport.close()
        if self._plug is not None:
            await self._plug.close()

    # -- what happens to the NAS --------------------------------------------------------------

    async def shutdown(self) -> str:
        """A planned shutdown: the real shutdown hook announces it, then the NAS sleeps."""
        if self.state != "running":
            return f"not running ({self.state})"
        self.state = "shutting_down"
        result = await self._announce("offline")
        await self._api_down()
        self.state = "sleeping"
        return result

    async def suspend(self) -> str:
        """A planned suspend: the suspend hook announces it (with a snapshot), then it sleeps."""
        if self.state != "running":
            return f"not running ({self.state})"
        self.state = "suspending"
        result = await self._announce("suspend")
        await self._api_down()
        self.state = "suspended"
        return result

    async def resume(self) -> str:
        """Back from a suspend (a key press, a magic packet): no boot, then the resume hook."""
        if self.state != "suspended":
            return f"not suspended ({self.state})"
        await self._api_up()
        self.state = "running"
        return await self._announce("resume")

    async def kill(self) -> None:
        """Dies without notice (power cut, kernel panic)."""
        await self._api_down()
        self.state = "dead"

    def hang(self) -> None:
        """Stops answering without closing its port: every probe runs into its timeout."""
        if self.state == "running":
            self.hung.set()
            self.state = "hung"

    async def revive(self, *, announce: bool = True) -> None:
        """Comes back by itself (power restored, reboot) after its boot time."""
        if self.state == "hung":
            await self._api_down()
            self.state = "dead"
        if self.state in ("sleeping", "dead"):
            self._spawn(self._boot(announce=announce))

    def on_packet(self, data: bytes) -> None:
        if not is_magic_packet_for(data, self.config.mac):
            return
        self.magic_packets += 1
        if self.state == "suspended":
            log.info("magic packet: resuming from suspend")
            self._spawn(self.resume())
        elif self.state in ("sleeping", "dead"):
            log.info("magic packet: booting in %.1f s", self.config.boot_seconds)
            self._spawn(self._boot(announce=True))

    async def _boot(self, *, announce: bool) -> None:
        self.state = "booting"
        self.boots += 1
        await asyncio.sleep(self.config.boot_seconds)  # the simulated boot time itself
        await self._api_up()
        self.state = "running"
        if announce:
            await self._announce("online")

    async def _announce(self, which: str) -> str:
        c = self.config
        if c.pi_url is None or c.secret is None:
            return "not announced (no Pi configured)"
        try:
            if which == "online":
                await announce_online(c.pi_url, c.secret, c.announce_timeout)
            elif which == "suspend":
                await suspend_hook(c.pi_url, c.secret, _snapshot_now(), c.announce_timeout)
            elif which == "resume":
                await resume_hook(c.pi_url, c.secret, c.announce_timeout)
            else:
                await shutdown_hook(c.pi_url, c.secret, _snapshot_now(), c.announce_timeout)
            result = f"{which}: acknowledged"
        except NotAcknowledged as err:
            result = f"{which}: failed: {err}"
        self.announcements.append(result)
        log.info("announcement %s", result)
        return result

    async def _api_up(self) -> None:
        if self._api_runner is None:
            self.hung.clear()
            self._unhang = asyncio.Event()
            app = make_health_app()
            app.middlewares.append(self._hang_middleware)
            self._api_runner = web.AppRunner(app, access_log=None)
            await self._api_runner.setup()
            await web.TCPSite(self._api_runner, self.config.host, self.config.api_port).start()
            self.healthy_since = time.time()

    async def _api_down(self) -> None:
        if self._api_runner is not None:
            runner, self._api_runner = self._api_runner, None
            self._unhang.set()  # let hung handlers end, or the runner waits for them
            await runner.cleanup()
            self.healthy_since = None

    @web.middleware
    async def _hang_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.hung.is_set():
            # No answer until the simulated NAS goes down; the client's timeout ends it first.
            await self._unhang.wait()
            raise web.HTTPServiceUnavailable()
        return await handler(request)

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- control channel ----------------------------------------------------------------------

    def snapshot_of_state(self) -> dict:
        return {
            "state": self.state,
            "healthy_since": self.healthy_since,
            "magic_packets": self.magic_packets,
            "boots": self.boots,
            "announcements": self.announcements,
            "mac": self.config.mac,
        }

    def _control_app(self) -> web.Application:
        async def state(_request: web.Request) -> web.Response:
            return web.json_response(self.snapshot_of_state())

        async def control(request: web.Request) -> web.Response:
            try:
                action = (await request.json()).get("action")
            except (ValueError, AttributeError):
                action = None
            if action == "shutdown":
                result = await self.shutdown()
            elif action == "suspend":
                result = await self.suspend()
            elif action == "resume":
                result = await self.resume()
            elif action == "kill":
                await self.kill()
                result = "killed"
            elif action == "hang":
                self.hang()
                result = "hung"
            elif action == "revive":
                await self.revive()
                result = "booting"
            else:
                return web.json_response(
                    {
                        "error": 'send {"action": "shutdown" | "suspend" | "resume" | "kill" | '
                        '"hang" | "revive"}'
                    },
                    status=400,
                )
            return web.json_response({"result": result, **self.snapshot_of_state()})

        app = web.Application()
        app.router.add_get("/sim/state", state)
        app.router.add_post("/sim/control", control)
        return app
