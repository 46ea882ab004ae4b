"""Which of the source Pi-hole's settings the migration copies to the target, and why the rest
stays: a pure function from both ``GET /api/config`` trees to one ``PATCH /api/config`` body.

Copied: DNS behaviour (upstreams, local records and CNAMEs, blocking, conditional forwarding,
DNSSEC, cache, rate limit, ...), DHCP's ranges and static leases (not whether DHCP runs), name
resolution and the query database's retention. Never: the target's web server and passwords,
file paths, interface and port, NTP, process and debug switches, DHCP being on, anything that
names the source host, and the records BaluPi manages (``baluhost.local``) and ``local-ttl``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from balupi.pihole.records import local_ttl_of

Path = tuple[str, ...]

# Copied items, by prefix; the first rule that matches a path decides.
COPY: tuple[Path, ...] = (
    ("dns", "upstreams"),
    ("dns", "CNAMEdeepInspect"),
    ("dns", "blockESNI"),
    ("dns", "EDNS0ECS"),
    ("dns", "ignoreLocalhost"),
    ("dns", "showDNSSEC"),
    ("dns", "analyzeOnlyAandAAAA"),
    ("dns", "piholePTR"),
    ("dns", "replyWhenBusy"),
    ("dns", "blockTTL"),
    ("dns", "hosts"),
    ("dns", "domainNeeded"),
    ("dns", "expandHosts"),
    ("dns", "domain"),
    ("dns", "bogusPriv"),
    ("dns", "dnssec"),
    ("dns", "hostRecord"),
    ("dns", "queryLogging"),
    ("dns", "cnameRecords"),
    ("dns", "revServers"),
    ("dns", "cache"),
    ("dns", "blocking"),
    ("dns", "specialDomains"),
    ("dns", "reply", "blocking"),
    ("dns", "rateLimit"),
    ("dhcp", "start"),
    ("dhcp", "end"),
    ("dhcp", "router"),
    ("dhcp", "netmask"),
    ("dhcp", "leaseTime"),
    ("dhcp", "ipv6"),
    ("dhcp", "rapidCommit"),
    ("dhcp", "multiDNS"),
    ("dhcp", "logging"),
    ("dhcp", "ignoreUnknownClients"),
    ("dhcp", "hosts"),
    ("resolver",),
    ("database", "maxDBdays"),
    ("database", "DBinterval"),
    ("misc", "privacylevel"),
    ("misc", "dnsmasq_lines"),
)
# Why an item is not copied, by prefix (most specific first).
KEEP: tuple[tuple[Path, str], ...] = (
    (("webserver",), "the Pi's web server, port, passwords and sessions stay the Pi's"),
    (("files",), "file paths of the source machine"),
    (("dns", "interface"), "interface names differ between machines (eth0 on one, end0 on the Pi)"),
    (("dns", "listeningMode"), "how the Pi's DNS listens is the Pi's"),
    (("dns", "port"), "the Pi's DNS port stays"),
    (("dns", "reply", "host"), "the address Pi-hole gives for itself is the Pi's"),
    (
        ("dhcp", "active"),
        "two DHCP servers in one network fight: switch DHCP on on the Pi by hand once the "
        "NAS's is off",
    ),
    (("ntp",), "the Pi's time service is the Pi's"),
    (("misc", "etc_dnsmasq_d"), "/etc/dnsmasq.d files are not copied"),
    (("misc",), "process settings of the source machine"),
    (("debug",), "debug switches of the source machine"),
    (("database",), "the query database's storage belongs to the machine"),
)
SOURCE_HOST = "names the source host {host}: it would point the Pi at the NAS, which sleeps"
UNKNOWN = "the target's Pi-hole has no such setting (another FTL version)"
_RECORD_LISTS = {("dns", "hosts"), ("dns", "cnameRecords")}  # records may point at the NAS


@dataclass
class ConfigPlan:
    patch: dict[str, Any] = field(default_factory=dict)  # the PATCH /api/config "config" body
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (item, target, new)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (item, why), differing only
    kept_records: list[str] = field(default_factory=list)  # managed dns.hosts entries kept

    @property
    def empty(self) -> bool:
        return not self.patch


def plan_config(
    source: dict[str, Any],
    target: dict[str, Any],
    *,
    source_host: str,
    managed_names: tuple[str, ...] = ("baluhost.local",),
) -> ConfigPlan:
    plan = ConfigPlan()
    theirs = leaves(target)
    for path, value in leaves(source).items():
        name = ".".join(path)
        current = theirs.get(path, _MISSING)
        if path == ("dns", "hosts"):
            value, plan.kept_records = merged_hosts(value, current, managed_names)
        elif path == ("misc", "dnsmasq_lines"):
            value = merged_lines(value, current)
        if value == current:
            continue
        why = _reason(path)
        if why is None and path not in _RECORD_LISTS and names_host(value, source_host):
            why = SOURCE_HOST.format(host=source_host)
        if why is None and current is _MISSING:
            why = UNKNOWN
        if why is not None:
            plan.left_out.append((name, why))
            continue
        plan.changes.append((name, current, value))
        _put(plan.patch, path, value)
    return plan


def merged_hosts(source: Any, target: Any, managed: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The source's records without the names BaluPi manages, then the target's records of
    those names, unchanged. Returns (new list, target entries kept)."""
    wanted = {n.lower() for n in managed}
    result: list[str] = []
    for entry in source if isinstance(source, list) else []:
        fields = str(entry).split()
        names = [n for n in fields[1:] if n.lower() not in wanted]
        if names:
            line = " ".join([fields[0], *names])
            if line not in result:
                result.append(line)
    kept = [
        str(e)
        for e in (target if isinstance(target, list) else [])
        if wanted & {n.lower() for n in str(e).split()[1:]}
    ]
    return result + [k for k in kept if k not in result], kept


def merged_lines(source: Any, target: Any) -> list[str]:
    """The source's extra dnsmasq lines, with the target's local-ttl (BaluPi's) instead of the
    source's."""
    theirs = [str(x) for x in target] if isinstance(target, list) else []
    ours = [str(x) for x in source] if isinstance(source, list) else []
    lines = [x for x in ours if local_ttl_of([x]) is None]
    ttl = local_ttl_of(theirs)
    return lines if ttl is None else [*lines, f"local-ttl={ttl}"]


def names_host(value: Any, host: str) -> bool:
    if not host:
        return False
    items = value if isinstance(value, list) else [value]
    wanted = host.lower()
    return any(
        wanted in re.split(r"[\s,#=/\[\]]+", item.lower())
        for item in items
        if isinstance(item, str)
    )


def _reason(path: Path) -> str | None:
    if any(path[: len(rule)] == rule for rule in COPY):
        return None
    for prefix, why in KEEP:
        if path[: len(prefix)] == prefix:
            return why
    return "not on the list of settings BaluPi copies"


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING: Any = _Missing()


def leaves(tree: Any, prefix: Path = ()) -> dict[Path, Any]:
    found: dict[Path, Any] = {}
    if not isinstance(tree, dict):
        return found
    for key, value in tree.items():
        if isinstance(value, dict):
            found.update(leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def _put(tree: dict[str, Any], path: Path, value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value
