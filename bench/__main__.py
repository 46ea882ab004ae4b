"""`make bench`: every benchmark in turn; exits non-zero when any of them failed.

A benchmark may end with ``sys.exit`` (its own command line does): that ends only that one here.
"""

from __future__ import annotations

import runpy
import sys
import traceback

BENCHMARKS = [
    "bench.exporter_scrape",
    "bench.pihole_switch",
    "bench.handshake_switch",
    "bench.prometheus_history",
    "bench.inbox_flush",
    "bench.dashboard_size",
    "bench.refusal_cost",
    "bench.pihole_migrate",
    "bench.deb_footprint",
    "bench.dashboard_load",
    "bench.dashboard_cost",
    "bench.soak",  # the longest (about 11 minutes): last
]


def run_one(name: str) -> bool:
    """Run one benchmark module as ``__main__``; whether it succeeded."""
    try:
        runpy.run_module(name, run_name="__main__")
    except SystemExit as stop:
        if stop.code not in (None, 0):
            print(f"{name} exited with {stop.code}", file=sys.stderr)
            return False
    except Exception:
        traceback.print_exc()
        return False
    return True


def main(names: list[str]) -> int:
    failed = []
    for name in names:
        print(f"\n##### {name}", flush=True)
        saved_argv = sys.argv
        sys.argv = [name]  # each benchmark parses its own (empty) arguments
        try:
            if not run_one(name):
                failed.append(name)
        finally:
            sys.argv = saved_argv
    if failed:
        print(f"\n{len(failed)} of {len(names)} benchmarks failed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(names)} benchmarks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or BENCHMARKS))
