"""The demo's loopback ports: the documented ones (docs/demo.md), or the same layout moved to
another base, so that a second demo (the test's) runs beside one a user left running."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, fields

from balupi.devstack.ports import port_in_use

# What the demo says when a port is taken ("simulated plug needs 127.0.0.1:9999").
LABELS = {
    "plug": "simulated plug",
    "pihole_api": "simulated Pi-hole API",
    "pihole_dns": "simulated Pi-hole DNS",
    "nas": "simulated NAS",
    "nas_control": "simulated NAS control",
    "handshake": "balupi-handshake",
    "exporter": "balupi-exporter",
    "node_exporter": "node_exporter",
    "alertmanager": "alertmanager",
    "webhook": "alert webhook",
    "prometheus": "prometheus",
    "smbd": "smbd (share and inbox)",
    "sshd": "sshd (the NAS's disk)",
}


@dataclass(frozen=True)
class DemoPorts:
    """Every port the demo listens on, all on 127.0.0.1."""

    plug: int = 9999
    pihole_api: int = 8080  # Pi-hole's own web server port
    pihole_dns: int = 8053  # not 53 (root) nor 5353 (mDNS, avahi)
    nas: int = 8090
    nas_control: int = 8091
    wol: int = 8009  # UDP: the simulated NAS's Wake-on-LAN listener
    handshake: int = 8000
    exporter: int = 9877
    node_exporter: int = 9100
    alertmanager: int = 9093
    webhook: int = 8123
    prometheus: int = 9090
    smbd: int = 4450
    sshd: int = 2222

    @classmethod
    def from_base(cls, base: int) -> DemoPorts:
        """The same parts on ``base``, ``base + 1``, ... in the order above."""
        if not 1024 <= base <= 65535 - SPAN:
            raise ValueError(f"a port base must be 1024..{65535 - SPAN}, not {base}")
        return cls(**{f.name: base + i for i, f in enumerate(fields(cls))})

    def taken(self) -> list[str]:
        """Each port something else holds, as "NAME needs 127.0.0.1:PORT"."""
        lines = [
            f"{label} needs 127.0.0.1:{getattr(self, name)}"
            for name, label in LABELS.items()
            if port_in_use(getattr(self, name))
        ]
        if _udp_in_use(self.wol):
            lines.append(f"the simulated NAS's Wake-on-LAN needs udp 127.0.0.1:{self.wol}")
        return lines

    @property
    def handshake_url(self) -> str:
        return f"http://127.0.0.1:{self.handshake}"

    @property
    def nas_control_url(self) -> str:
        return f"http://127.0.0.1:{self.nas_control}/sim/control"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus}"


SPAN = len(fields(DemoPorts))


def free_base(low: int = 20000, high: int = 32000) -> int:
    """A base below Linux's ephemeral ports (32768 and up, where clients' sockets come and go)
    at which every demo port is free now; runs in parallel start their search apart."""
    slots = (high - low) // SPAN
    first = os.getpid() % slots
    for i in range(slots):
        base = low + ((first + i) % slots) * SPAN
        if not DemoPorts.from_base(base).taken():
            return base
    raise RuntimeError(f"no {SPAN} free loopback ports in a row between {low} and {high}")


def _udp_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
