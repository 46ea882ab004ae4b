"""The exporter's own health: how each collector did in this scrape, and the process itself."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric


def collector_results(results: list[tuple[str, float, bool]]) -> list[Metric]:
    """node_exporter's pattern: duration and success of every collector this scrape ran."""
    duration = GaugeMetricFamily(
        "balupi_exporter_collector_duration_seconds",
        "Time a collector took in this scrape",
        labels=["collector"],
    )
    success = GaugeMetricFamily(
        "balupi_exporter_collector_success",
        "1 if the collector finished in this scrape without an internal error",
        labels=["collector"],
    )
    for name, seconds, ok in results:
        duration.add_metric([name], seconds)
        success.add_metric([name], 1 if ok else 0)
    return [duration, success]


def process_registry() -> CollectorRegistry:
    """Memory, CPU, file descriptors and Python's GC of this process."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry
