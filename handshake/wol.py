"""Wake-on-LAN: one magic packet for the NAS's MAC to a broadcast address and UDP port."""

from __future__ import annotations

import wakeonlan


class WakeError(Exception):
    pass


def send_magic_packet(mac: str, broadcast: str, port: int) -> None:
    try:
        wakeonlan.wake(mac, host=broadcast, port=port)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise WakeError(f"cannot send the magic packet to {broadcast}:{port}: {reason}") from None
