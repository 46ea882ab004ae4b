"""The inbox on /metrics: a prometheus_client collector, fresh metric families per scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.metrics_core import Metric

from balupi.inbox.mover import InboxMover
from balupi.inbox.report import RESULTS, InboxStatus

_ERROR_CHARS = 300  # a label value, not a log: the start of the message is enough


class InboxCollector:
    """Register with a CollectorRegistry: ``registry.register(InboxCollector(mover))``.

    ``collect()`` walks the inbox for the waiting files and bytes: with a registry served from
    an event loop, encode it in a thread (``asyncio.to_thread(generate_latest, registry)``).
    """

    def __init__(self, mover: InboxMover, scan: Callable[[], InboxStatus] | None = None) -> None:
        self.mover = mover
        # A shared, recent count instead of a walk per scrape (balupi-handshake gives one).
        self.scan = scan if scan is not None else mover.scan

    def describe(self) -> Iterable[Metric]:
        return []  # nothing to check at registration: do not walk the inbox then

    def collect(self) -> Iterable[Metric]:
        try:
            waiting = self.scan()
        except OSError:
            waiting = None  # the disk is gone: absent samples, never 0
        files = GaugeMetricFamily(
            "balupi_inbox_files", "Files waiting for the NAS (in the inbox, or being sent)"
        )
        size = GaugeMetricFamily(
            "balupi_inbox_bytes",
            "Bytes waiting for the NAS (in the inbox, or being sent)",
            unit="bytes",
        )
        age = GaugeMetricFamily(
            "balupi_inbox_oldest_file_age_seconds",
            "Since the oldest waiting file arrived (last changed on the Pi); absent when empty",
            unit="seconds",
        )
        if waiting is not None:
            files.add_metric([], waiting.files)
            size.add_metric([], waiting.bytes)
            if waiting.oldest_age_seconds is not None:
                age.add_metric([], waiting.oldest_age_seconds)
        yield from (files, size, age)

        m = self.mover.tally
        moved = CounterMetricFamily("balupi_inbox_moved_files", "Files moved to the NAS")
        moved.add_metric([], m.moved_files_total)
        moved_bytes = CounterMetricFamily(
            "balupi_inbox_moved_bytes", "Bytes moved to the NAS", unit="bytes"
        )
        moved_bytes.add_metric([], m.moved_bytes_total)
        renamed = CounterMetricFamily(
            "balupi_inbox_renamed_files",
            "Files that arrived on the NAS under a distinct name (theirs was taken)",
        )
        renamed.add_metric([], m.renamed_files_total)
        flushes = CounterMetricFamily(
            "balupi_inbox_flushes", "Flushes by result: ok, partial, failed", labels=["result"]
        )
        for result in RESULTS:
            flushes.add_metric([result], m.flushes_total[result])
        running = GaugeMetricFamily("balupi_inbox_flush_running", "1 while a flush runs")
        running.add_metric([], 1 if self.mover.running else 0)
        yield from (moved, moved_bytes, renamed, flushes, running)

        last = m.last_report
        if last is not None:
            at = GaugeMetricFamily(
                "balupi_inbox_last_flush_timestamp_seconds", "When the last flush started"
            )
            at.add_metric([], last.started_at)
            took = GaugeMetricFamily(
                "balupi_inbox_last_flush_duration_seconds", "How long the last flush took"
            )
            took.add_metric([], last.duration_seconds)
            success = GaugeMetricFamily(
                "balupi_inbox_last_flush_success", "1 if the last flush moved every ready file"
            )
            success.add_metric([], 1 if last.result == "ok" else 0)
            yield from (at, took, success)
        if m.last_error is not None and m.last_error_at is not None:
            error = InfoMetricFamily(
                "balupi_inbox_last_error", "The error of the last flush that was not ok"
            )
            error.add_metric([], {"error": m.last_error[:_ERROR_CHARS]})
            error_at = GaugeMetricFamily(
                "balupi_inbox_last_error_timestamp_seconds", "When the last flush error happened"
            )
            error_at.add_metric([], m.last_error_at)
            yield from (error, error_at)
