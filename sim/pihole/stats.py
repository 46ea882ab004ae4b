"""Query statistics that grow on every read, shaped like FTL's /api/stats/summary."""

from __future__ import annotations

import random
import time


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# FTL's keys, in FTL's order.
QUERY_TYPES = _names("A AAAA ANY SRV SOA PTR TXT NAPTR MX DS RRSIG DNSKEY NS SVCB HTTPS OTHER")
STATUSES = _names(
    "UNKNOWN GRAVITY FORWARDED CACHE REGEX DENYLIST EXTERNAL_BLOCKED_IP EXTERNAL_BLOCKED_NULL "
    "EXTERNAL_BLOCKED_NXRA GRAVITY_CNAME REGEX_CNAME DENYLIST_CNAME RETRIED RETRIED_DNSSEC "
    "IN_PROGRESS DBBUSY SPECIAL_DOMAIN CACHE_STALE EXTERNAL_BLOCKED_EDE15"
)
REPLIES = _names(
    "UNKNOWN NODATA NXDOMAIN CNAME IP DOMAIN RRNAME SERVFAIL REFUSED NOTIMP OTHER DNSSEC NONE BLOB"
)
DOMAINS = ["nas.home", "baluhost.local", "debian.org", "pi-hole.net", "example.com"]
ADS = ["ads.example.net", "tracker.example.org", "doubleclick.net"]
CLIENTS = [("192.168.1.10", "laptop.lan"), ("192.168.1.20", "phone.lan"), ("192.168.1.5", "nas")]


class SimStats:
    def __init__(self, seed: int = 6) -> None:
        self._random = random.Random(seed)
        self.started = time.time() - 3600  # as if FTL had run for an hour
        self.types = dict.fromkeys(QUERY_TYPES, 0)
        self.status = dict.fromkeys(STATUSES, 0)
        self.replies = dict.fromkeys(REPLIES, 0)
        self.domains = dict.fromkeys(DOMAINS, 0)
        self.ads = dict.fromkeys(ADS, 0)
        self.clients = {ip: 0 for ip, _ in CLIENTS}
        self.gravity_domains = 123_456
        self.gravity_updated = int(self.started) - 3600
        self._grow(200)

    def _grow(self, queries: int) -> None:
        pick = self._random.choices
        for kind in pick(["A", "AAAA", "HTTPS", "PTR"], weights=[6, 3, 1, 1], k=queries):
            self.types[kind] += 1
        for status in pick(["FORWARDED", "CACHE", "GRAVITY"], weights=[5, 3, 2], k=queries):
            self.status[status] += 1
            if status == "GRAVITY":
                self.ads[self._random.choice(ADS)] += 1
                self.replies["IP"] += 1
            else:
                self.domains[self._random.choice(DOMAINS)] += 1
                self.replies[self._random.choice(["IP", "IP", "NODATA", "NXDOMAIN"])] += 1
            self.clients[self._random.choice(list(self.clients))] += 1

    def summary(self) -> dict:
        self._grow(self._random.randint(1, 40))  # numbers change between scrapes
        total = sum(self.types.values())
        blocked = self.status["GRAVITY"]
        return {
            "queries": {
                "total": total,
                "blocked": blocked,
                "percent_blocked": round(100.0 * blocked / total, 4) if total else 0.0,
                "unique_domains": len(self.domains) + len(self.ads),
                "forwarded": self.status["FORWARDED"],
                "cached": self.status["CACHE"],
                "frequency": round(total / max(time.time() - self.started, 1.0), 3),
                "types": dict(self.types),
                "status": dict(self.status),
                "replies": dict(self.replies),
            },
            "clients": {"active": len(self.clients), "total": len(self.clients) + 2},
            "gravity": {
                "domains_being_blocked": self.gravity_domains,
                "last_update": self.gravity_updated,
            },
        }

    def top_domains(self, count: int, blocked: bool) -> dict:
        table = self.ads if blocked else self.domains
        top = sorted(table.items(), key=lambda kv: -kv[1])[:count]
        return {
            "domains": [{"domain": d, "count": n} for d, n in top],
            "total_queries": sum(self.types.values()),
            "blocked_queries": self.status["GRAVITY"],
        }

    def upstreams(self) -> dict:
        """FTL lists its blocklist and cache as pseudo upstreams (port -1) beside the real one."""
        forwarded = self.status["FORWARDED"]

        def upstream(ip: str, name: str, port: int, count: int, response: float) -> dict:
            stats = {"response": response, "variance": response / 4}
            return {"ip": ip, "name": name, "port": port, "count": count, "statistics": stats}

        return {
            "upstreams": [
                upstream("blocklist", "blocklist", -1, self.status["GRAVITY"], 0.0),
                upstream("cache", "cache", -1, self.status["CACHE"], 0.0),
                upstream("9.9.9.9", "dns9.quad9.net", 53, forwarded, 0.021),
            ],
            "forwarded_queries": forwarded,
            "total_queries": sum(self.types.values()),
        }

    def top_clients(self, count: int) -> dict:
        names = dict(CLIENTS)
        top = sorted(self.clients.items(), key=lambda kv: -kv[1])[:count]
        return {
            "clients": [{"ip": ip, "name": names[ip], "count": n} for ip, n in top],
            "total_queries": sum(self.types.values()),
            "blocked_queries": self.status["GRAVITY"],
        }
