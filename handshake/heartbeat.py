"""The heartbeat: asks the NAS's /api/health on the controller's schedule and reports back.

The first probe runs at once at start-up: it reconciles the saved state with the live NAS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from balupi.handshake.controller import NasController
from balupi.handshake.health_probe import HealthProbe

log = logging.getLogger("balupi.handshake")


class Heartbeat:
    def __init__(self, controller: NasController, probe: HealthProbe) -> None:
        self.controller = controller
        self.probe = probe
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.probe.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        controller = self.controller
        last_start = loop.time()
        controller.first_probe(await self.probe.probe())
        while True:
            # Transitions inside the last round poke too: the new delay already reflects them.
            controller.poke.clear()
            # The delay counts from the last probe's start, so a slow probe does not stretch it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(last_start + controller.next_probe_delay()):
                    await controller.poke.wait()
            last_start = loop.time()
            try:
                controller.on_probe(await self.probe.probe())
            except Exception:
                # A bug must not end the heartbeat: the takeover depends on it.
                log.exception("heartbeat round failed")
