"""The DNS switcher: a backend that hangs is a failed attempt, retried, and the newest wish wins."""

from __future__ import annotations

import asyncio

from balupi.handshake.dns_backend import DnsSwitchError
from balupi.handshake.dns_switch import DnsSwitcher
from tests.waiting import wait_for_async


class HangingThenWorking:
    """A DNS server that hangs for the first ``hangs`` attempts (a stand-in for a stuck Pi-hole)."""

    name = "test"

    def __init__(self, hangs: int) -> None:
        self.hangs = hangs
        self.record: str | None = None
        self.attempts: list[str] = []

    async def switch(self, hostname: str, ip: str) -> None:
        self.attempts.append(ip)
        if len(self.attempts) <= self.hangs:
            await asyncio.Event().wait()
        self.record = ip

    async def current(self, hostname: str) -> str | None:
        if self.record == "broken":
            raise DnsSwitchError("cannot read")
        return self.record

    async def close(self) -> None:
        pass


async def test_a_hanging_backend_is_a_failure_that_is_retried():
    backend = HangingThenWorking(hangs=2)
    switcher = DnsSwitcher(
        backend, "baluhost.local", first_retry_seconds=0.01, attempt_timeout_seconds=0.05
    )
    await switcher.start()
    try:
        switcher.want("192.0.2.20")
        assert await switcher.wait_settled(0.01) is False
        await wait_for_async(lambda: switcher.status.results["failure"] >= 1, what="a failure")
        assert "no answer within" in (switcher.status.last_error or "")
        assert await switcher.wait_settled(5) is True
        assert backend.record == "192.0.2.20" and switcher.status.last_error is None
        assert switcher.status.results == {"success": 1, "failure": 2}
    finally:
        await switcher.stop()


async def test_the_newest_wish_wins():
    backend = HangingThenWorking(hangs=1)
    switcher = DnsSwitcher(
        backend, "baluhost.local", first_retry_seconds=10, attempt_timeout_seconds=0.05
    )
    await switcher.start()
    try:
        switcher.want("192.0.2.20")
        await wait_for_async(
            lambda: switcher.status.failed_attempts == 1, what="first attempt failed"
        )
        switcher.want("192.0.2.10")  # cuts the 10 s back-off short
        assert await switcher.wait_settled(5) is True
        assert backend.record == "192.0.2.10"
    finally:
        await switcher.stop()
