"""Keeps baluhost.local where the NAS state says it belongs, retrying failed switches.

The state machine only sets the wanted address; one worker task applies it through the backend,
with back-off after a failure, and starts over at once when the wanted address changes. A
failure is never dropped: it stays visible in status and metrics until a switch succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from balupi.handshake.dns_backend import DnsBackend, DnsSwitchError

log = logging.getLogger("balupi.handshake.dns")


@dataclass
class DnsStatus:
    wanted: str | None = None
    current: str | None = None  # what the backend last confirmed
    last_error: str | None = None
    failed_attempts: int = 0  # since the last success
    last_switch_at: float | None = None  # Unix seconds
    results: dict[str, int] = field(default_factory=lambda: {"success": 0, "failure": 0})

    @property
    def pending(self) -> bool:
        return self.wanted is not None and self.wanted != self.current


class DnsSwitcher:
    def __init__(
        self,
        backend: DnsBackend,
        hostname: str,
        *,
        first_retry_seconds: float = 0.5,
        max_retry_seconds: float = 30.0,
        attempt_timeout_seconds: float = 15.0,
    ) -> None:
        self.backend = backend
        self.hostname = hostname
        self.first_retry = first_retry_seconds
        self.max_retry = max_retry_seconds
        # A backend that hangs must not stall the switch: an attempt that takes longer failed.
        self.attempt_timeout = attempt_timeout_seconds
        self.status = DnsStatus()
        self._changed = asyncio.Event()
        self._settled = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Read the record as it really is, then keep it where it is wanted."""
        try:
            self.status.current = await self.backend.current(self.hostname)
        except DnsSwitchError as err:
            self.status.last_error = str(err)
            log.warning("cannot read the current record of %s: %s", self.hostname, err)
        self._task = asyncio.create_task(self._work(), name="dns-switch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.backend.close()

    def want(self, ip: str) -> None:
        if ip != self.status.wanted:
            self.status.wanted = ip
            self.status.failed_attempts = 0
        self._settled.clear()
        self._changed.set()

    async def wait_settled(self, timeout: float) -> bool:
        """True once the wanted address is in place; False if that takes longer than ``timeout``."""
        if not self.status.pending and self._settled.is_set():
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            return False
        return not self.status.pending

    async def _work(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            wanted = self.status.wanted
            if wanted is None:
                continue
            if wanted == self.status.current and self.status.last_error is None:
                self._settled.set()
                continue
            try:
                await self._attempt(wanted)
            except DnsSwitchError as err:
                self._failed(wanted, str(err))
                await self._back_off()
                self._changed.set()  # try again (or the newer wish)
                continue
            self._succeeded(wanted)

    async def _attempt(self, ip: str) -> None:
        try:
            async with asyncio.timeout(self.attempt_timeout):
                await self.backend.switch(self.hostname, ip)
        except TimeoutError:
            raise DnsSwitchError(f"no answer within {self.attempt_timeout:g} s") from None

    def _succeeded(self, ip: str) -> None:
        previous = self.status.current
        self.status.current = ip
        self.status.last_error = None
        self.status.failed_attempts = 0
        self.status.last_switch_at = time.time()
        self.status.results["success"] += 1
        log.info("DNS %s -> %s (was %s) via %s", self.hostname, ip, previous, self.backend.name)
        if ip == self.status.wanted:
            self._settled.set()

    def _failed(self, ip: str, reason: str) -> None:
        self.status.last_error = reason
        self.status.failed_attempts += 1
        self.status.results["failure"] += 1
        log.warning(
            "DNS switch of %s to %s failed (attempt %d): %s",
            self.hostname, ip, self.status.failed_attempts, reason,
        )  # fmt: skip

    async def _back_off(self) -> None:
        delay = min(self.max_retry, self.first_retry * 2 ** (self.status.failed_attempts - 1))
        # A new wish cuts the wait short: the next attempt goes to the newest address.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._changed.wait()
