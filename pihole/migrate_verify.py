"""After a migration: do source and target hold the same, and answer DNS the same?

The counts come from the API (info/ftl, lists, domains, groups, clients, local records, CNAMEs,
static DHCP leases, version); the DNS answers from real queries to both Pi-holes' DNS ports for
a denied domain, an allowed one, a local record and a CNAME taken from the source.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from balupi.pihole.client import PiholeClient
from balupi.pihole.teleporter_v5 import V5Archive

DOMAIN_KINDS = (("allow", "exact"), ("deny", "exact"), ("allow", "regex"), ("deny", "regex"))


@dataclass(frozen=True)
class Row:
    what: str
    source: str
    target: str
    same: bool


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


async def snapshot(client: PiholeClient, managed: tuple[str, ...]) -> dict[str, Any]:
    """What one Pi-hole holds, as comparable values."""
    ftl = _dig(await client.request("GET", "/info/ftl"), "ftl", "database") or {}
    version = _dig(await client.request("GET", "/info/version"), "version", "ftl", "local")
    config = _dig(await client.request("GET", "/config"), "config") or {}
    domains: dict[str, list[dict[str, Any]]] = {}
    for kind, match in DOMAIN_KINDS:
        answer = await client.request("GET", f"/domains/{kind}/{match}")
        domains[f"{kind} {match}"] = list(_dig(answer, "domains") or [])
    wanted = {n.lower() for n in managed}
    hosts = [
        h
        for h in _dig(config, "dns", "hosts") or []
        if not wanted & {n.lower() for n in str(h).split()[1:]}
    ]
    found: dict[str, Any] = {
        "gravity domains (info/ftl)": _dig(ftl, "gravity"),
        "groups (info/ftl)": _dig(ftl, "groups"),
        "lists (info/ftl)": _dig(ftl, "lists"),
        "clients (info/ftl)": _dig(ftl, "clients"),
    }
    for label, key in (("allowed", "domains"), ("denied", "domains")):
        item = _dig(ftl, key, label) or {}
        found[f"{label} exact, total/enabled"] = f"{item.get('total')}/{item.get('enabled')}"
    for label in ("allowed", "denied"):
        item = _dig(ftl, "regex", label) or {}
        found[f"{label} regex, total/enabled"] = f"{item.get('total')}/{item.get('enabled')}"
    found["lists (/api/lists)"] = len(_dig(await client.request("GET", "/lists"), "lists") or [])
    found["domains (/api/domains)"] = sum(len(v) for v in domains.values())
    found["groups (/api/groups)"] = len(
        _dig(await client.request("GET", "/groups"), "groups") or []
    )
    found["clients (/api/clients)"] = len(
        _dig(await client.request("GET", "/clients"), "clients") or []
    )
    found[f"local DNS records (without {', '.join(managed)})"] = len(hosts)
    found["CNAME records"] = len(_dig(config, "dns", "cnameRecords") or [])
    found["static DHCP leases"] = len(_dig(config, "dhcp", "hosts") or [])
    found["FTL version"] = (version or {}).get("version") or "?"
    found["_config"] = config
    found["_domains"] = domains
    found["_hosts"] = hosts
    return found


def compare(source: dict[str, Any], target: dict[str, Any]) -> list[Row]:
    rows = []
    for what, value in source.items():
        if what.startswith("_"):
            continue
        theirs = target.get(what)
        if what == "FTL version":  # a patch release apart is fine; v6 on both is what counts
            same = str(value).split(".")[0] == str(theirs).split(".")[0]
        else:
            same = value == theirs
        rows.append(Row(what, str(value), str(theirs), same))
    return rows


@dataclass(frozen=True)
class Probe:
    what: str
    name: str


def probes(source: dict[str, Any]) -> list[Probe]:
    """The names to ask both DNS servers: one of each kind the source has."""

    def first(kind: str) -> str | None:
        return next((d["domain"] for d in source["_domains"][kind] if d.get("enabled")), None)

    found = []
    for what, name in (
        ("denied domain", first("deny exact")),
        ("allowed domain", first("allow exact")),
    ):
        if name:
            found.append(Probe(what, name))
    for entry in source["_hosts"]:
        names = str(entry).split()[1:]
        if names:
            found.append(Probe("local record", names[0]))
            break
    for entry in _dig(source["_config"], "dns", "cnameRecords") or []:
        alias = str(entry).split(",")[0]
        if alias and "*" not in alias:
            found.append(Probe("CNAME record", alias))
            break
    return found


async def resolve(name: str, server: tuple[str, int], timeout: float = 2.0) -> str:
    """The A answers (sorted), or the response code when there are none."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    try:
        answer = await dns.asyncquery.udp(query, server[0], port=server[1], timeout=timeout)
    except (dns.exception.Timeout, OSError) as err:
        return f"no answer ({type(err).__name__})"
    found = sorted(
        item.address for rrset in answer.answer if rrset.rdtype == dns.rdatatype.A for item in rrset
    )
    return " ".join(found) if found else dns.rcode.to_text(answer.rcode())


async def dns_rows(
    source: dict[str, Any], source_dns: tuple[str, int], target_dns: tuple[str, int]
) -> list[Row]:
    rows = []
    for probe in probes(source):
        ours, theirs = await asyncio.gather(
            resolve(probe.name, source_dns), resolve(probe.name, target_dns)
        )
        rows.append(Row(f"DNS {probe.what} {probe.name}", ours, theirs, ours == theirs))
    return rows


def table(rows: list[Row], source: str, target: str) -> str:
    width = max([len(r.what) for r in rows] + [10])
    cols = max([len(r.source) for r in rows] + [len(source)])
    lines = [f"{'':{width}}  {source:{cols}}  {target}"]
    for r in rows:
        mark = "ok" if r.same else "DIFFERS"
        lines.append(f"{r.what:{width}}  {r.source:{cols}}  {r.target:{cols}}  {mark}")
    return "\n".join(lines)


def v5_rows(archive: V5Archive, target: dict[str, Any], managed: tuple[str, ...]) -> list[Row]:
    """What a v5 archive holds against what the target lists now."""
    wanted = {n.lower() for n in managed}
    hosts = [h for h in archive.hosts if not wanted & {n.lower() for n in h.split()[1:]}]
    domains = archive.rows.get("domainlist", [])

    def of_type(t: int) -> str:
        chosen = [d for d in domains if d.get("type") == t]
        return f"{len(chosen)}/{sum(1 for d in chosen if d.get('enabled'))}"

    expected: dict[str, Any] = {
        "groups (info/ftl)": len(archive.rows.get("group", [])),
        "lists (info/ftl)": len(archive.rows.get("adlist", [])),
        "clients (info/ftl)": len(archive.rows.get("client", [])),
        "allowed exact, total/enabled": of_type(0),
        "denied exact, total/enabled": of_type(1),
        "allowed regex, total/enabled": of_type(2),
        "denied regex, total/enabled": of_type(3),
        "domains (/api/domains)": len(domains),
        f"local DNS records (without {', '.join(managed)})": len(hosts),
        "CNAME records": len(archive.cnames),
    }
    return [
        Row(k, str(v), str(target.get(k)), str(v) == str(target.get(k)))
        for k, v in expected.items()
    ]


async def v5_dns_rows(
    archive: V5Archive, target: dict[str, Any], server: tuple[str, int]
) -> list[Row]:
    """The target's DNS answers for a local record and a CNAME of the archive, against the
    address the archive gives them."""
    rows = []
    records = [h.split() for h in target["_hosts"]]
    for entry in archive.hosts[:1]:
        address, name = entry.split()[:2]
        got = await resolve(name, server)
        rows.append(Row(f"DNS local record {name}", address, got, got == address))
    for entry in archive.cnames[:1]:
        alias, goal = entry.split(",")[:2]
        wanted = " ".join(sorted(f[0] for f in records if goal in f[1:])) or "?"
        got = await resolve(alias, server)
        rows.append(Row(f"DNS CNAME record {alias}", wanted, got, got == wanted))
    return rows
