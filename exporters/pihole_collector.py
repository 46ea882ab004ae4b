"""The Pi-hole collector: eko/pihole-exporter's metric names (Grafana dashboard 10176 works
unchanged), plus the API session seats, read at scrape time through one warm session."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from balupi.config_pihole import PiholeConfig
from balupi.exporters.pihole_reading import PiholeReading, read_pihole
from balupi.exporters.shared_query import SharedQuery
from balupi.pihole.client import PiholeClient
from balupi.pihole.errors import PiholeError, PiholeTimeout

log = logging.getLogger("balupi.exporter.pihole")


class PiholeCollector:
    name = "pihole"

    def __init__(self, config: PiholeConfig, *, query_limit: float) -> None:
        self.config = config
        self.client = PiholeClient(
            config.url, config.password, request_timeout=config.request_timeout_seconds
        )
        self._query = SharedQuery(self._read, limit_seconds=query_limit)
        self.failures: dict[str, int] = {}
        self.last_failure: str | None = None

    async def _read(self) -> PiholeReading:
        try:
            return await read_pihole(self.client, self.config.top_items)
        except (TypeError, ValueError, AttributeError, KeyError) as err:
            # An answer of the wrong shape (a list for an object, text for a count) is Pi-hole
            # not readable: pihole_up 0 with a reason, not a collector that fails.
            raise PiholeError(f"{self.client.where}: unexpected answer: {err}") from err

    async def collect(self, timeout: float) -> list[Metric]:
        started = time.perf_counter()
        reading: PiholeReading | None = None
        try:
            reading = await self._query.get(timeout)
        except TimeoutError:
            self._failed(
                PiholeTimeout(
                    f"{self.client.where} did not answer within the scrape's {timeout:g} s"
                )
            )
        except PiholeError as err:
            self._failed(err)
        else:
            if self.last_failure is not None:
                log.info("%s: readable again", self.client.where)
                self.last_failure = None
        families = _Families(self.config.hostname)
        families.add(reading, self.client.logins, self.failures)
        families.duration.add_metric([], time.perf_counter() - started)
        return families.all()

    def _failed(self, err: PiholeError) -> None:
        self.failures[err.reason] = self.failures.get(err.reason, 0) + 1
        # One line when the cause changes, not one per scrape.
        if self.last_failure != err.reason:
            log.warning("Pi-hole cannot be read (%s): %s", err.reason, err)
        self.last_failure = err.reason

    async def close(self) -> None:
        await self._query.close()
        await self.client.close()  # logs out: the seat goes back to Pi-hole


def _gauge(name: str, doc: str, *extra: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=["hostname", *extra])


class _Families:
    """This scrape's families. Names and labels follow eko/pihole-exporter exactly."""

    def __init__(self, hostname: str) -> None:
        self.host = [hostname]
        self.up = _gauge("pihole_up", "1 if Pi-hole's API answered this scrape, else 0")
        self.blocked_domains = _gauge(
            "pihole_domains_being_blocked", "Domains on Pi-hole's gravity list"
        )
        self.queries = _gauge("pihole_dns_queries_today", "DNS queries in FTL's 24 h window")
        self.ads = _gauge("pihole_ads_blocked_today", "Blocked queries in FTL's 24 h window")
        self.ads_pct = _gauge(
            "pihole_ads_percentage_today", "Percent of queries blocked in FTL's 24 h window"
        )
        self.unique_domains = _gauge("pihole_unique_domains", "Unique domains FTL knows")
        self.forwarded = _gauge("pihole_queries_forwarded", "Queries forwarded upstream")
        self.cached = _gauge("pihole_queries_cached", "Queries answered from cache or local data")
        self.clients_seen = _gauge("pihole_clients_ever_seen", "Clients FTL has seen")
        self.clients = _gauge("pihole_unique_clients", "Clients active in the last 24 h")
        self.all_types = _gauge("pihole_dns_queries_all_types", "DNS queries of all types")
        self.rate = _gauge("pihole_request_rate", "Average DNS queries per second")
        self.types = _gauge("pihole_querytypes", "DNS queries by query type", "type")
        self.reply = _gauge("pihole_reply", "DNS replies by reply type", "type")
        self.status = _gauge("pihole_status", "1 if Pi-hole is blocking, 0 if blocking is off")
        self.top_queries = _gauge("pihole_top_queries", "Most queried domains", "domain")
        self.top_ads = _gauge("pihole_top_ads", "Most blocked domains", "domain")
        self.top_sources = _gauge(
            "pihole_top_sources", "Clients with most queries", "source", "source_name"
        )
        self.destinations = _gauge(
            "pihole_forward_destinations",
            "Queries sent to each upstream (FTL counts its blocklist and cache as ones too)",
            "destination",
            "destination_name",
        )
        self.seats = _gauge(
            "pihole_api_sessions", "API sessions holding a seat in Pi-hole now (all clients)"
        )
        self.seats_max = _gauge(
            "pihole_api_sessions_max", "API session seats (webserver.api.max_sessions)"
        )
        self.logins = CounterMetricFamily(
            "pihole_api_logins",
            "Logins by this exporter (it keeps one session; a rise means re-logins)",
            labels=["hostname"],
        )
        self.errors = CounterMetricFamily(
            "pihole_read_errors",
            "Failed reads of Pi-hole, by reason",
            labels=["hostname", "reason"],
        )
        self.duration = GaugeMetricFamily(
            "pihole_collect_duration_seconds", "Time this scrape spent reading Pi-hole"
        )

    def add(self, reading: PiholeReading | None, logins: int, failures: dict[str, int]) -> None:
        self.up.add_metric(self.host, 0 if reading is None else 1)
        self.logins.add_metric(self.host, logins)
        for reason, count in sorted(failures.items()):
            self.errors.add_metric([*self.host, reason], count)
        if reading is None:
            return  # a missing reading is an absent sample, never 0
        summary = reading.summary
        queries, clients, gravity = (_part(summary, k) for k in ("queries", "clients", "gravity"))
        for family, source, key in (
            (self.blocked_domains, gravity, "domains_being_blocked"),
            (self.queries, queries, "total"),
            (self.ads, queries, "blocked"),
            (self.ads_pct, queries, "percent_blocked"),
            (self.unique_domains, queries, "unique_domains"),
            (self.forwarded, queries, "forwarded"),
            (self.cached, queries, "cached"),
            (self.clients_seen, clients, "total"),
            (self.clients, clients, "active"),
            (self.all_types, queries, "total"),
            (self.rate, queries, "frequency"),
        ):
            self._set(family, [], source.get(key))
        for family, key in ((self.types, "types"), (self.reply, "replies")):
            table = queries.get(key)
            for kind, value in sorted(table.items() if isinstance(table, dict) else []):
                self._set(family, [kind], value)
        if reading.blocking in ("enabled", "disabled"):
            self.status.add_metric(self.host, 1 if reading.blocking == "enabled" else 0)
        self._set(self.seats, [], reading.sessions_in_use)
        self._set(self.seats_max, [], reading.sessions_max)
        for domain, count in reading.top_queries:
            self.top_queries.add_metric([*self.host, domain], count)
        for domain, count in reading.top_ads:
            self.top_ads.add_metric([*self.host, domain], count)
        for ip, name, count in reading.top_sources:
            self.top_sources.add_metric([*self.host, ip, name], count)
        for ip, name, count in reading.forward_destinations:
            self.destinations.add_metric([*self.host, ip, name], count)

    def _set(self, family: GaugeMetricFamily, labels: list[str], value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            family.add_metric([*self.host, *labels], value)

    def all(self) -> list[Metric]:
        return [
            self.up, self.blocked_domains, self.queries, self.ads, self.ads_pct,
            self.unique_domains, self.forwarded, self.cached, self.clients_seen, self.clients,
            self.all_types, self.rate, self.types, self.reply, self.status, self.top_queries,
            self.top_ads, self.top_sources, self.destinations, self.seats, self.seats_max,
            self.logins, self.errors, self.duration,
        ]  # fmt: skip


def _part(summary: Mapping[str, object], key: str) -> dict[str, object]:
    """One object of Pi-hole's summary; empty when Pi-hole left it out or sent another type."""
    value = summary.get(key)
    return value if isinstance(value, dict) else {}
