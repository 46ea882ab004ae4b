"""One look at the NAS: GET {url}/api/health with a timeout. Any 2xx answer means healthy."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    seconds: float
    error: str | None = None


class HealthProbe:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = f"{base_url}/api/health"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def probe(self) -> ProbeResult:
        if self._session is None:
            # One warm keep-alive connection for the heartbeat, not a new one every probe.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=2), raise_for_status=False
            )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.get(self.url) as answer:
                    await answer.read()
                    ok = 200 <= answer.status < 300
                    error = None if ok else f"HTTP {answer.status}"
        except TimeoutError:
            ok, error = False, f"no answer within {self.timeout} s"
        except aiohttp.ClientError as err:
            ok, error = False, f"{type(err).__name__}: {err}"
        return ProbeResult(ok, time.perf_counter() - started, error)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
