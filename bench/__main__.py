"""`make bench`: every benchmark in turn."""

from __future__ import annotations

import runpy

BENCHMARKS = [
    "bench.exporter_scrape",
    "bench.pihole_switch",
    "bench.handshake_switch",
    "bench.prometheus_history",
    "bench.inbox_flush",
    "bench.dashboard_size",
    "bench.dashboard_load",
    "bench.dashboard_cost",
]

for name in BENCHMARKS:
    print(f"\n##### {name}")
    runpy.run_module(name, run_name="__main__")
