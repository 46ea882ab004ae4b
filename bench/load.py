"""A bounded HTTP load on a loopback URL: latency percentiles and requests per second."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)


async def load(url: str, *, requests: int, concurrency: int, progress: str = "") -> LoadResult:
    """Send ``requests`` GETs with ``concurrency`` in flight; every answer must be 200."""
    latencies: list[float] = []
    remaining = requests
    step = max(1, requests // 10)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            async with session.get(url) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"{url} answered {answer.status}")
            latencies.append(time.perf_counter() - t0)
            if progress and len(latencies) % step == 0:
                print(f"  {progress}: {len(latencies)}/{requests}", flush=True)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(len(latencies), seconds, latencies)
