"""What an open dashboard costs the Pi: Prometheus CPU seconds per hour of one open dashboard,
the dashboard's own query plan against a naive dashboard that re-asks every range in full on each
refresh (same panels, same queries, same refresh intervals), measured in the same run.

  1. 30 days of history (bench/history_series.py: the NAS, two plugs, Pi-hole, one sample per
     15 s), backfilled into Debian's Prometheus (promtool), which scrapes nothing meanwhile
  2. one hour of the dashboard, replayed as fast as Prometheus answers: every query of
     frontend-dist/query-plan.json (written by the dashboard's build from src/queryPlan.ts) at
     its refresh interval, the clock stepping through the last hour of the history. Range
     charts refresh as src/range.ts does (the whole window once, then only the tail since the
     last answer); the naive variant asks the whole window every time
  3. Prometheus's process_cpu_seconds_total before and after each replay; the variants take
     turns, the median of --rounds is printed, for each chart window (24 h, 7 d, 30 d)

Target: the dashboard at most 0.2x the naive one. Queries per minute are printed too.
Run: .venv/bin/python -m bench.dashboard_cost  [--rounds 3]
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from balupi.devstack.nginx import FRONTEND_DIST
from balupi.devstack.ports import free_port
from balupi.devstack.prometheus import Prometheus
from bench.backfill import backfill_openmetrics
from bench.history_series import DAY, write_openmetrics

PLAN = FRONTEND_DIST / "query-plan.json"
CONFIG = "global:\n  scrape_interval: 15s\n"  # nothing to scrape: only the replay costs CPU
HOUR = 3600
TARGET = 0.2
# src/range.ts: at most MAX_POINTS points per window, a nice step never below the scrape's.
MAX_POINTS, SCRAPE_SECONDS = 300, 15
NICE_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def choose_step(window: float) -> int:
    wanted = max(SCRAPE_SECONDS, window / MAX_POINTS)
    return next((s for s in NICE_STEPS if s >= wanted), math.ceil(wanted / DAY) * DAY)


@dataclass(frozen=True)
class Request:
    endpoint: str  # query or query_range
    params: dict[str, str]


def load_plan(path: Path = PLAN) -> list[dict]:
    if not path.exists():
        raise SystemExit(f"{path} is missing: run make frontend (the build writes the plan)")
    plan = json.loads(path.read_text())
    queries = plan.get("queries", plan) if isinstance(plan, dict) else plan
    return list(queries.values()) if isinstance(queries, dict) else list(queries)


def render(
    promql: str, *, step: int | None = None, today: int | None = None, month: int | None = None
) -> str:
    if step is not None:
        promql = promql.replace("$step", str(step))
    if today is not None:
        promql = promql.replace("$today", str(today))
    if month is not None:
        promql = promql.replace("$month", str(month))
    return promql


def seconds_since_month_start(now: float) -> int:
    """As src/queryPlan.ts's secondsSinceMonthStart (in UTC here), at least a minute."""
    t = time.gmtime(now)
    return max(60, int(now - calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))))


def one_hour(plan: list[dict], *, end: int, naive: bool, window_index: int) -> list[Request]:
    """Every request one open dashboard sends in the hour before ``end``, in time order."""
    start = end - HOUR
    timed: list[tuple[float, Request]] = []
    midnight = end - end % DAY
    for q in plan:
        refresh = float(q["refreshSeconds"])
        last_end: int | None = None
        for k in range(int(HOUR // refresh) + 1):
            now = start + k * refresh
            today = max(60, int(now - midnight))
            month = seconds_since_month_start(now)
            if q["kind"] == "instant":
                params = {"query": render(q["promql"], today=today, month=month), "time": str(now)}
                timed.append((now, Request("query", params)))
                continue
            windows = q["windowsSeconds"]
            window = windows[min(window_index, len(windows) - 1)]
            step = int(q.get("fixedStepSeconds") or choose_step(window))
            range_end = int(now // step * step)
            tail = q.get("refresh") == "tail" and not naive and last_end is not None
            range_start = min(last_end, range_end) if tail and last_end else range_end - window
            last_end = range_end
            params = {
                "query": render(q["promql"], step=step, today=today),
                "start": str(range_start),
                "end": str(range_end),
                "step": str(step),
            }
            timed.append((now, Request("query_range", params)))
    return [r for _, r in sorted(timed, key=lambda item: item[0])]


def cpu_seconds(prometheus: Prometheus) -> float:
    with urllib.request.urlopen(f"{prometheus.url}/metrics", timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("process_cpu_seconds_total "):
                return float(line.split()[1])
    raise RuntimeError("Prometheus has no process_cpu_seconds_total")


def replay(prometheus: Prometheus, requests: list[Request]) -> float:
    """Sends every request in turn; returns the CPU seconds Prometheus spent meanwhile."""
    before = cpu_seconds(prometheus)
    for r in requests:
        url = f"{prometheus.url}/api/v1/{r.endpoint}?{urllib.parse.urlencode(r.params)}"
        with urllib.request.urlopen(url, timeout=60) as answer:
            body = json.load(answer)
        if body.get("status") != "success":
            raise RuntimeError(f"{r.params['query']}: {body}")
    return cpu_seconds(prometheus) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    plan = load_plan()
    end = int(time.time()) // 60 * 60 - HOUR  # the backfilled blocks end before the head
    with tempfile.TemporaryDirectory(prefix="balupi-bench-cost-") as tmp:
        work = Path(tmp)
        print(f"Backfilling {args.days} days of history ...", end=" ", flush=True)
        t0 = time.monotonic()
        write_openmetrics(work / "history.om", end=end, days=args.days)
        backfill_openmetrics(work / "history.om", work / "prometheus" / "data")
        print(f"done ({time.monotonic() - t0:.0f} s)", flush=True)
        prometheus = Prometheus(work / "prometheus", CONFIG, port=free_port(), retention="90d")
        prometheus.start()
        try:
            prometheus.wait_ready()
            replay(prometheus, one_hour(plan, end=end, naive=True, window_index=0))  # warm-up
            print("Prometheus CPU seconds per hour of one open dashboard "
                  f"(median of {args.rounds} replays of an hour):")  # fmt: skip
            for index, label in enumerate(("24 h", "7 days", "30 days")):
                measure(prometheus, plan, end=end, rounds=args.rounds, index=index, label=label)
        finally:
            prometheus.stop()


def measure(prometheus: Prometheus, plan: list[dict], *, end: int, rounds: int, index: int,
            label: str) -> None:  # fmt: skip
    ours = one_hour(plan, end=end, naive=False, window_index=index)
    naive = one_hour(plan, end=end, naive=True, window_index=index)
    # The charts alone: where the two differ (the instant queries are the same in both).
    charts = ([r for r in ours if r.endpoint == "query_range"],
              [r for r in naive if r.endpoint == "query_range"])  # fmt: skip
    for what, (mine_q, naive_q) in (("all queries", (ours, naive)), ("charts only", charts)):
        cost: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for is_naive, requests in ((False, mine_q), (True, naive_q)):
                cost[is_naive].append(replay(prometheus, requests))
        mine, theirs = statistics.median(cost[False]), statistics.median(cost[True])
        ratio = mine / theirs if theirs else float("nan")
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"  charts on {label:>7}, {what}: dashboard {mine:6.2f} s/h, naive {theirs:6.2f} s/h,"
              f" ratio {ratio:.2f}x (target <= {TARGET}x: {verdict}); "
              f"{len(mine_q) / 60:.1f} queries/min")  # fmt: skip


if __name__ == "__main__":
    main()
