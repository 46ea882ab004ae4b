"""Waiting for Pi-hole's FTL to come back after it restarts (a teleporter import, a DNS setting).

FTL answers the request first and restarts a moment later; while it is away its port refuses
connections or a proxy in front (Docker's, nginx) answers 502; afterwards every session is
gone ("invalid sid"). So: wait (briefly) for our session to end, then (bounded, with progress)
for the API to answer again, then forget the old session so the next request logs in afresh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from balupi.pihole import errors
from balupi.pihole.client import PiholeClient

Progress = Callable[[str], None]


async def wait_for_restart(
    client: PiholeClient,
    *,
    timeout: float,
    progress: Progress,
    goes_down_within: float = 3.0,
    poll: float = 0.1,
) -> float:
    """Wait until FTL has restarted and answers; returns the seconds it was away.

    ``goes_down_within``: how long to look for the restart to begin (FTL may still answer for a
    moment after the import returned). A Pi-hole that never went away is fine too.
    """
    started = time.monotonic()
    went_down = False
    while time.monotonic() - started < goes_down_within:
        status = await client.api_status()
        if status != 200:  # None (refused), 401 (session gone), 502 (a proxy)
            went_down = True
            break
        await asyncio.sleep(poll)  # polling a remote condition, bounded
    if went_down:
        await _until_up(client, started=started, timeout=timeout, progress=progress, poll=poll)
    client.forget_session()
    return time.monotonic() - started


async def _until_up(
    client: PiholeClient, *, started: float, timeout: float, progress: Progress, poll: float
) -> None:
    shown = -1
    last: int | None = None
    while True:
        waited = time.monotonic() - started
        last = await client.api_status()
        if last in (200, 401):  # the API itself answers again (401: our session is gone)
            progress(f"{client.where} answers again after {waited:.1f} s")
            return
        if waited > timeout:
            seen = "no connection" if last is None else f"HTTP {last}"
            raise errors.PiholeUnreachable(
                f"{client.where} did not come back within {timeout:g} s after FTL restarted "
                f"(last: {seen}); check it with `systemctl status pihole-FTL` (or `docker logs`)"
                " and run the migration again, or restore the backup"
            )
        if int(waited) != shown and int(waited) % 2 == 0:
            shown = int(waited)
            state = "refuses connections" if last is None else f"answers HTTP {last}"
            progress(f"waiting for {client.where} to restart: {waited:.0f} s ({state})")
        await asyncio.sleep(poll)  # polling a remote condition, bounded
