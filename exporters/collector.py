"""What the exporter expects of a collector: fresh metric families for one scrape."""

from __future__ import annotations

from typing import Protocol

from prometheus_client.metrics_core import Metric


class AsyncCollector(Protocol):
    #: the name a scrape job selects it by: /metrics?collect[]=NAME
    name: str

    async def collect(self, timeout: float) -> list[Metric]:
        """Query the sources (within ``timeout`` seconds) and build this scrape's metrics."""

    async def close(self) -> None:
        """Release sessions and connections when the process stops."""
