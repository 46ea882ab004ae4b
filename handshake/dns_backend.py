"""What the DNS switch needs from a backend: point one name at one address, and read it back.

Backends: ``hostsfile`` (a hosts file that dnsmasq or Pi-hole v5 reads) and ``pihole``
(Pi-hole v6's REST API, one atomic replacement of the ``dns.hosts`` entry).
"""

from __future__ import annotations

from typing import Protocol


class DnsSwitchError(Exception):
    """The record could not be changed (or read); the message says why, without secrets."""


class DnsBackend(Protocol):
    name: str

    async def switch(self, hostname: str, ip: str) -> None:
        """Make ``hostname`` resolve to ``ip`` only; raise DnsSwitchError on failure.

        Must be idempotent and leave every other record alone.
        """

    async def current(self, hostname: str) -> str | None:
        """The address ``hostname`` points at now; None without a record.

        Raises DnsSwitchError when it cannot be read.
        """

    async def close(self) -> None:
        """Release sessions; called once when the service stops."""
