"""The ``pihole`` DNS backend: baluhost.local as a local DNS record of Pi-hole v6.

One atomic replacement of the name's ``dns.hosts`` entry through the API (PiholeClient keeps one
login session for the service's whole life and logs out when it stops).
"""

from __future__ import annotations

from balupi.config_pihole import PiholeConfig
from balupi.handshake.dns_backend import DnsSwitchError
from balupi.pihole.client import PiholeClient
from balupi.pihole.errors import PiholeError


class PiholeBackend:
    name = "pihole"

    def __init__(self, config: PiholeConfig) -> None:
        self.client = PiholeClient(
            config.url, config.password, request_timeout=config.request_timeout_seconds
        )

    async def switch(self, hostname: str, ip: str) -> None:
        try:
            await self.client.set_host_record(hostname, ip)
        except (PiholeError, ValueError) as err:  # errors name the cause, never the password
            raise DnsSwitchError(str(err)) from None

    async def current(self, hostname: str) -> str | None:
        try:
            addresses = await self.client.host_addresses(hostname)
        except PiholeError as err:
            raise DnsSwitchError(str(err)) from None
        # More than one address would be someone else's edit: report the first, the next
        # switch puts it right (set_host_record leaves the name with one address).
        return addresses[0] if addresses else None

    async def close(self) -> None:
        await self.client.close()
