"""A tiny histogram accumulator: the collector turns it into a fresh family at every scrape."""

from __future__ import annotations

import bisect

from balupi.handshake.status import HistogramView


class Histogram:
    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.bounds):
            self.counts[index] += 1
        self.count += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, int]]:
        """Cumulative buckets as prometheus_client's HistogramMetricFamily wants them."""
        out: list[tuple[str, int]] = []
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=True):
            running += n
            out.append((repr(float(bound)), running))
        out.append(("+Inf", self.count))
        return out

    def view(self) -> HistogramView:
        return HistogramView(tuple(self.buckets()), self.sum)
