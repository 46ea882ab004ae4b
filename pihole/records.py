"""Pi-hole's local DNS records (config ``dns.hosts``, ``"IP NAME [NAME...]"`` strings) and the
``local-ttl`` line of ``misc.dnsmasq_lines``: pure functions, so the switch logic is testable."""

from __future__ import annotations

import ipaddress
import re

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_LOCAL_TTL = re.compile(r"^\s*local-ttl\s*=\s*(\d+)\s*$")


def check_hostname(name: str) -> str:
    if not isinstance(name, str) or not _HOSTNAME.match(name):
        raise ValueError(f"not a host name: {name!r}")
    return name


def check_address(address: str) -> str:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        raise ValueError(f"not an IP address: {address!r}") from None


def addresses_of(hosts: list[str], name: str) -> list[str]:
    """The addresses ``dns.hosts`` gives ``name``, in order."""
    wanted = name.lower()
    return [
        fields[0]
        for entry in hosts
        if (fields := entry.split()) and wanted in (n.lower() for n in fields[1:])
    ]


def with_record(hosts: list[str], name: str, address: str) -> list[str]:
    """``hosts`` with ``name`` pointing at ``address`` alone; every other record unchanged.

    The new entry takes the place of the first old one, so the list keeps its order. A line
    that names other hosts too keeps them.
    """
    name, address = check_hostname(name), check_address(address)
    wanted = name.lower()
    result: list[str] = []
    placed = False
    for entry in hosts:
        fields = entry.split()
        names = fields[1:]
        if not fields or wanted not in (n.lower() for n in names):
            result.append(entry)
            continue
        if not placed:
            result.append(f"{address} {name}")
            placed = True
        others = [n for n in names if n.lower() != wanted]
        if others:
            result.append(" ".join([fields[0], *others]))
    if not placed:
        result.append(f"{address} {name}")
    return result


def local_ttl_of(lines: list[str]) -> int | None:
    """The ``local-ttl`` set in ``misc.dnsmasq_lines``; None means dnsmasq's default, 0 s."""
    found = None
    for line in lines:
        match = _LOCAL_TTL.match(line)
        if match:
            found = int(match.group(1))  # dnsmasq takes the last one
    return found


def with_local_ttl(lines: list[str], seconds: int) -> list[str]:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 86400:
        raise ValueError(f"local-ttl must be 0..86400 seconds, got {seconds!r}")
    kept = [line for line in lines if not _LOCAL_TTL.match(line)]
    return [*kept, f"local-ttl={seconds}"]
