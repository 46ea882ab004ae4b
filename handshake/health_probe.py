"""One look at the NAS: GET {url}/api/health with a timeout. Any 2xx answer means healthy."""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass

import aiohttp

from balupi.http_client import HttpError, HttpTimeout, fetch, make_session

# BaluHost's health answer is a few hundred bytes; anything far bigger is not a health answer.
MAX_ANSWER_BYTES = 64 * 1024

# Errors of this process, not of the NAS: no descriptor or memory left for the probe's socket.
_LOCAL_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    seconds: float
    error: str | None = None
    # The probe could not be made here (e.g. no free file descriptor): says nothing of the NAS.
    local: bool = False


def _local_errno(err: BaseException) -> bool:
    cause = getattr(err, "os_error", None) or err
    return isinstance(cause, OSError) and cause.errno in _LOCAL_ERRNOS


class HealthProbe:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = f"{base_url}/api/health"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def probe(self) -> ProbeResult:
        if self._session is None:
            # One warm keep-alive connection for the heartbeat, not a new one every probe.
            self._session = make_session(self.timeout, connections=2)
        started = time.perf_counter()
        try:
            answer = await fetch(self._session, "GET", self.url, limit=MAX_ANSWER_BYTES)
            ok = answer.ok
            error = None if ok else f"HTTP {answer.status}"
        except HttpTimeout:
            ok, error = False, f"no answer within {self.timeout} s"
        except HttpError as err:
            cause = getattr(err, "cause", None)
            if cause is not None and _local_errno(cause):
                seconds = time.perf_counter() - started
                return ProbeResult(False, seconds, f"cannot probe from here: {err}", local=True)
            ok, error = False, str(err)
        return ProbeResult(ok, time.perf_counter() - started, error)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
