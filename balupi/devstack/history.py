"""A month of the house in a stack's Prometheus, written before that Prometheus starts: the
simulated history (history_series.py) under the stack's own labels, so that each history series
goes on as its live one, and the recording rules the dashboard reads of the past (the per-day
hours and wakes, the averages, the long charts), evaluated over it by a Prometheus of its own."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from balupi.devstack.backfill import backfill_openmetrics, backfill_rules, write_rules
from balupi.devstack.history_series import DAY, Targets, write_openmetrics
from balupi.devstack.ports import free_port
from balupi.devstack.prometheus import Prometheus

# One sample a minute: the dashboard's charts average 5 min or more, and promtool stays quick.
STEP_SECONDS = 60
# The rules the dashboard reads in the past. The per-day bars read these at the last seven
# local midnights only: they are evaluated a minute before each, not every minute of the week.
AT_MIDNIGHTS = {"balupi:nas_online_seconds:increase1d", "balupi:nas_wakes:increase1d",
                "balupi:nas_outages:increase1d"}  # fmt: skip
MIDNIGHTS = 7
# The others over as far back as it reads them: the 24-hour averages, the 7- and 30-day charts.
OVER = {
    DAY: ("the average draw online and asleep",
          {"balupi:nas_power_watts:online", "balupi:nas_power_watts:asleep"}),
    30 * DAY: ("the 5-minute averages of the 7- and 30-day charts",
               {"balupi:tapo_power_watts:avg5m"}),
}  # fmt: skip


def backfill_house(data_dir: Path, targets: Targets, *, days: int, workdir: Path) -> None:
    """History from the local midnight ``days`` days ago up to now into ``data_dir`` (a
    Prometheus data folder not in use)."""
    workdir.mkdir(parents=True, exist_ok=True)
    end = int(time.time())
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    start = int((midnight - timedelta(days=days)).timestamp())
    print(f"Backfilling {days} days of simulated history:", flush=True)
    print(f"  the plug, the NAS and Pi-hole, a sample per {STEP_SECONDS} s", end="", flush=True)
    t0 = time.monotonic()
    source = workdir / "history.om"
    write_openmetrics(source, end=end, start=start, step=STEP_SECONDS, targets=targets)
    scratch = Prometheus(workdir / "prometheus", "global:\n  scrape_interval: 15s\n",
                         port=free_port(), retention="90d")  # fmt: skip
    backfill_openmetrics(source, scratch.data_dir, progress=False)
    print(f" ({time.monotonic() - t0:.0f} s)", flush=True)
    scratch.start()
    try:
        scratch.wait_ready()
        at_midnights = write_rules(workdir / "rules-midnights.yml", AT_MIDNIGHTS)
        print("  the usage bars' past days ", end="", flush=True)  # a dot per day
        t0 = time.monotonic()
        for n in range(MIDNIGHTS):
            at = int((midnight - timedelta(days=n)).timestamp())
            if at <= start:  # a shorter history than the bars' week
                break
            backfill_rules(at_midnights, url=scratch.url, start=max(start, at - 60), end=at,
                           data_dir=scratch.data_dir, progress=False)  # fmt: skip
            print(".", end="", flush=True)
        print(f" ({time.monotonic() - t0:.0f} s)", flush=True)
        for window, (what, records) in OVER.items():
            print(f"  {what} ", end="", flush=True)
            rules = write_rules(workdir / f"rules-{window // DAY}d.yml", records)
            since = max(start, end - window)
            backfill_rules(rules, url=scratch.url, start=since, end=end, data_dir=scratch.data_dir)
    finally:
        scratch.stop()
    print(flush=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    for block in scratch.data_dir.iterdir():  # the blocks; the scratch's own WAL stays behind
        if (block / "meta.json").is_file():
            shutil.move(block, data_dir / block.name)
    source.unlink()
