"""What the simulated NAS draws in each of its states, told to the simulated plug it hangs on.

In a house the plug measures what the NAS draws, so the two cannot disagree: asleep, the plug
reads the standby draw, not the watts of a running NAS. The plug is told through its
/sim/control (the simulator's own channel, not the plug's API, which only measures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

log = logging.getLogger("balupi.sim.nas")

# Whole watts: a P110's get_current_power reports whole watts.
DEFAULT_ONLINE_WATTS = 38.0  # running, idle disks (BaluHost draws 30-50 W)
ASLEEP_WATTS = 2.0  # soft-off with Wake-on-LAN armed
SUSPENDED_WATTS = 3.0  # suspended to RAM
BOOT_EXTRA_WATTS = 8.0  # disks spinning up
RETRY_SECONDS = 1.0  # the plug not answering yet (it may start after the NAS)


def draw_watts(state: str, online_watts: float) -> float:
    """The NAS's draw in ``state``; a hung NAS draws like a running one (it still runs)."""
    if state in ("sleeping", "dead"):  # dead: crashed and powered off, or its power cut
        return ASLEEP_WATTS
    if state == "suspended":
        return SUSPENDED_WATTS
    if state == "booting":
        return online_watts + BOOT_EXTRA_WATTS
    return online_watts


class PlugFeed:
    """Posts the newest draw to the plug's /sim/control, one post at a time; a draw that
    could not be posted is tried again until the plug takes it or a newer one replaces it."""

    def __init__(self, control_url: str, online_watts: float) -> None:
        self.control_url = control_url
        self.online_watts = online_watts
        self._watts: float | None = None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def tell(self, state: str) -> None:
        self._watts = draw_watts(state, self.online_watts)
        self._changed.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self._changed.wait()
                self._changed.clear()
                watts = self._watts
                try:
                    async with session.post(self.control_url, json={"power_watts": watts}) as r:
                        r.raise_for_status()
                except (TimeoutError, aiohttp.ClientError) as err:
                    log.warning("the plug did not take %s W (%s): trying again", watts, err)
                    await asyncio.sleep(RETRY_SECONDS)
                    if self._watts == watts:
                        self._changed.set()
