"""/metrics of balupi-handshake: fresh families from the controller's state at every scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric

from balupi import __version__
from balupi.handshake.controller import NasController
from balupi.handshake.states import NasState
from balupi.handshake.status import DnsView, HistogramView


class HandshakeCollector:
    def __init__(
        self,
        controller: NasController,
        *,
        inbox_usage: Callable[[], tuple[int, int] | None] | None = None,
    ) -> None:
        self.controller = controller
        # (files, bytes) from the shared recent count; None with [inbox], whose collector
        # reports the inbox (and much more).
        self.inbox_usage = inbox_usage

    def collect(self) -> Iterable[Metric]:
        now = self.controller.status()
        hb, wake = now.heartbeat, now.wake
        yield InfoMetricFamily("balupi_handshake", "balupi-handshake's version",
                               value={"version": __version__})  # fmt: skip
        if hb.last_ok is not None:  # absent until the first probe: unknown is not "down"
            yield GaugeMetricFamily(
                "balupi_nas_up", "1 if the NAS answered its last heartbeat", value=int(hb.last_ok)
            )
        state = GaugeMetricFamily(
            "balupi_nas_state", "1 for the NAS's current state, 0 for the others", labels=["state"]
        )
        for s in NasState:
            state.add_metric([s.value], 1 if s is now.nas_state else 0)
        yield state
        yield GaugeMetricFamily(
            "balupi_nas_state_since_timestamp_seconds",
            "Unix time of the last state change", value=now.since,
        )  # fmt: skip
        yield CounterMetricFamily(
            "balupi_nas_online_seconds",
            "Seconds the NAS has been online (state online), kept across restarts",
            value=now.online_seconds_total,
        )
        wakes = CounterMetricFamily(
            "balupi_nas_wakes", "Wake-on-LAN attempts by result", labels=["result"]
        )
        for result, n in wake.results.items():
            wakes.add_metric([result], n)
        yield wakes
        yield _histogram(
            "balupi_nas_wake_duration_seconds",
            "Time from the magic packet to the NAS being online", wake.durations,
        )  # fmt: skip
        elapsed = wake.elapsed_seconds
        if elapsed is not None:
            yield GaugeMetricFamily(
                "balupi_nas_wake_elapsed_seconds", "Seconds since the wake in progress began",
                value=elapsed,
            )  # fmt: skip
        yield CounterMetricFamily(
            "balupi_nas_takeovers",
            "Unexpected outages: the heartbeat missed an online NAS and moved DNS to the Pi",
            value=now.takeovers,
        )
        beats = CounterMetricFamily(
            "balupi_nas_heartbeats", "Health probes of the NAS by result", labels=["result"]
        )
        for result, n in hb.results.items():
            beats.add_metric([result], n)
        yield beats
        yield _histogram(
            "balupi_nas_heartbeat_duration_seconds", "Time one health probe took", hb.durations
        )
        yield CounterMetricFamily(
            "balupi_snapshot_store_failures",
            "Snapshots the NAS sent that could not be stored (full or read-only disk)",
            value=now.snapshot_store_failures,
        )
        yield from _dns_families(now.dns)
        if now.last_snapshot_at is not None:
            yield GaugeMetricFamily(
                "balupi_snapshot_last_timestamp_seconds",
                "Unix time the last snapshot was stored", value=now.last_snapshot_at,
            )  # fmt: skip
        usage = self.inbox_usage() if self.inbox_usage is not None else None
        if usage is not None:
            yield GaugeMetricFamily("balupi_inbox_files", "Files waiting in the inbox",
                                    value=usage[0])  # fmt: skip
            yield GaugeMetricFamily("balupi_inbox_bytes", "Bytes waiting in the inbox",
                                    value=usage[1])  # fmt: skip


def _dns_families(dns: DnsView) -> Iterable[Metric]:
    target = GaugeMetricFamily(
        "balupi_dns_target",
        "1 for where the DNS record points now (as last confirmed by the backend)",
        labels=["hostname", "target", "address"],
    )
    for name, address in dns.addresses.items():
        target.add_metric([dns.hostname, name, address], 1 if dns.current == address else 0)
    yield target
    yield GaugeMetricFamily(
        "balupi_dns_switch_pending",
        "1 while the record is not yet where the NAS state wants it (switch failing or running)",
        value=int(dns.pending),
    )
    switches = CounterMetricFamily(
        "balupi_dns_switches", "DNS switch attempts by result", labels=["result"]
    )
    for result, n in dns.results.items():
        switches.add_metric([result], n)
    yield switches
    if dns.last_switch_at is not None:
        yield GaugeMetricFamily(
            "balupi_dns_last_switch_timestamp_seconds",
            "Unix time of the last successful switch", value=dns.last_switch_at,
        )  # fmt: skip


def _histogram(name: str, documentation: str, h: HistogramView) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, documentation, buckets=list(h.buckets), sum_value=h.sum)
