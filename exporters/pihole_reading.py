"""What one read of Pi-hole yields: its summary, blocking state, seats, upstreams, top lists."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from balupi.pihole.client import PiholeClient
from balupi.pihole.errors import PiholeError

MAX_UPSTREAMS = 20


@dataclass(frozen=True)
class PiholeReading:
    summary: dict[str, Any]
    blocking: str
    sessions_in_use: int | None  # None: Pi-hole would not list them
    sessions_max: int | None
    top_queries: list[tuple[str, int]]
    top_ads: list[tuple[str, int]]
    top_sources: list[tuple[str, str, int]]
    forward_destinations: list[tuple[str, str, int]]


async def read_pihole(client: PiholeClient, top_items: int) -> PiholeReading:
    """All requests at once; they share the one session (the first one logs in)."""
    summary, blocking, seats, seats_max, upstreams, top = await asyncio.gather(
        client.summary(),
        client.blocking(),
        _optional(_sessions_in_use(client)),
        _optional(client.max_sessions()),
        _optional(client.upstreams()),
        _top(client, top_items),
    )
    queries, ads, sources = top
    # Pi-hole has a handful of upstreams; the bound only guards against a surprise.
    destinations = (upstreams or [])[:MAX_UPSTREAMS]
    return PiholeReading(summary, blocking, seats, seats_max, queries, ads, sources, destinations)


async def _sessions_in_use(client: PiholeClient) -> int:
    return sum(1 for s in await client.sessions() if s.get("valid") is True)


async def _optional(call: Any) -> Any:
    # The seat figures help an alert but are not what makes Pi-hole "up".
    try:
        return await call
    except PiholeError:
        return None


async def _top(client: PiholeClient, count: int) -> tuple[list, list, list]:
    if count <= 0:
        return [], [], []
    return await asyncio.gather(
        client.top_domains(count),
        client.top_domains(count, blocked=True),
        client.top_clients(count),
    )
