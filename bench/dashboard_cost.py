"""What an open dashboard costs the Pi: Prometheus CPU seconds per hour of one open dashboard,
the dashboard's own query plan against a naive dashboard that re-asks every range in full on each
refresh (same panels, same queries, same refresh intervals), measured in the same run.

  1. 30 days of history (devstack/history_series.py: the NAS, two plugs, Pi-hole, one sample per
     15 s), backfilled into Debian's Prometheus (promtool), which scrapes nothing meanwhile
  2. one hour of the dashboard, replayed as fast as Prometheus answers: every query of
     frontend-dist/query-plan.json (written by the dashboard's build from src/queryPlan.ts) at
     its refresh interval, the clock stepping through the last hour of the history, the first
     load included. Ranges are asked as the dashboard asks them: charts the whole window once,
     then only the tail since the last answer (src/range.ts); the figures since midnight and the
     1st in pieces, each closed piece once and the open one once per piece: in between the
     figure moves with the counters the live request carries (src/since.ts: followLive); the
     past days once. The naive variant asks every chart's whole window, each figure's whole span
     (one increase() since midnight / the 1st) and the past days on every refresh (for the
     figures, each scrape: as often as ours move), and its live request without the counters
  3. Prometheus's process_cpu_seconds_total before and after each replay; the variants take
     turns, the median of --rounds is printed, for each chart window (24 h, 7 d, 30 d), for all
     queries and for the ranges alone (where the two differ), then each query alone

Target: the dashboard at most 0.2x the naive one. Queries per minute are printed too.
Run: .venv/bin/python -m bench.dashboard_cost  [--rounds 3]
"""

from __future__ import annotations

import argparse
import calendar
import json
import math
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from balupi.devstack.backfill import backfill_openmetrics
from balupi.devstack.history_series import DAY, write_openmetrics
from balupi.devstack.nginx import FRONTEND_DIST
from balupi.devstack.ports import free_port
from balupi.devstack.prometheus import Prometheus

PLAN = FRONTEND_DIST / "query-plan.json"
CONFIG = "global:\n  scrape_interval: 15s\n"  # nothing to scrape: only the replay costs CPU
HOUR = 3600
TARGET = 0.2
# src/range.ts: at most MAX_POINTS points per window, a nice step never below the scrape's.
MAX_POINTS, SCRAPE_SECONDS = 300, 15
# src/since.ts: a closed piece ends a minute before it is asked; the open one reads at least a
# minute; `@ start` looks back 5 minutes.
SETTLE_SECONDS, MIN_OPEN_SECONDS, LOOKBACK_SECONDS = 60, 60, 300
NICE_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def choose_step(window: float) -> int:
    wanted = max(SCRAPE_SECONDS, window / MAX_POINTS)
    return next((s for s in NICE_STEPS if s >= wanted), math.ceil(wanted / DAY) * DAY)


@dataclass(frozen=True)
class Request:
    endpoint: str  # query or query_range
    params: dict[str, str]
    query_id: str = ""  # the plan's id


def load_plan(path: Path = PLAN) -> list[dict]:
    if not path.exists():
        raise SystemExit(f"{path} is missing: run make frontend (the build writes the plan)")
    plan = json.loads(path.read_text())
    since = plan.get("since", {}) if isinstance(plan, dict) else {}
    if since and (since["settle_seconds"], since["min_open_seconds"]) != (
        SETTLE_SECONDS,
        MIN_OPEN_SECONDS,
    ):
        raise SystemExit(f"{path}: src/since.ts cuts pieces as {since}; change this replay too")
    queries = plan.get("queries", plan) if isinstance(plan, dict) else plan
    queries = list(queries.values()) if isinstance(queries, dict) else list(queries)
    if not isinstance(plan, dict) or "follow" not in plan:
        raise SystemExit(f"{path} has no 'follow': run make frontend (an older build wrote it)")
    without_follow(queries, plan["follow"])
    return queries


def render(promql: str, *, step: int | None = None, piece: tuple[int, int] | None = None) -> str:
    """The plan's placeholders filled in as src/queryPlan.ts's render; ``piece`` = (start, end)."""
    if step is not None:
        promql = promql.replace("$step", str(step))
    if piece is not None:
        start, end = piece
        length = max(MIN_OPEN_SECONDS, end - start)
        promql = promql.replace("$from", str(start)).replace("$range", str(length))
        promql = promql.replace("$reach", str(length + LOOKBACK_SECONDS))
    return promql


def month_start(t: int) -> int:
    """Midnight of the 1st of ``t``'s month (in UTC here; the browser uses its own zone)."""
    g = time.gmtime(t)
    return calendar.timegm((g.tm_year, g.tm_mon, 1, 0, 0, 0))


def pieces_since(span: str, now: int) -> list[tuple[int, int | None]]:
    """As src/since.ts's piecesSince: closed pieces (start, end), then the open (start, None)."""
    midnight = now - now % DAY
    anchor = midnight + max(0, (now - SETTLE_SECONDS - midnight) // HOUR) * HOUR
    out: list[tuple[int, int | None]] = []
    if span == "month" and midnight > month_start(now):
        out.append((month_start(now), midnight))
    if anchor > midnight:
        out.append((midnight, anchor))
    out.append((anchor, None))
    return out


# src/queryPlan.ts's grown(): the counter's growth over a piece, exact to the sample.
GROWN = re.compile(
    r"\(\((?P<c>\w+) - (?P=c) @ \$from\) and \(resets\((?P=c)\[\$reachs\]\) == 0\)"
    r" or increase\((?P=c)\[\$ranges\]\)\)"
)


def whole_span(promql: str) -> str:
    """A "since" figure as a dashboard without pieces asks it: increase() over the whole span."""
    plain, found = GROWN.subn(r"increase(\g<c>[$ranges])", promql)
    if not found:
        raise SystemExit(f"no grown() in {promql}: src/queryPlan.ts changed it, change GROWN too")
    return plain


def since_requests(q: dict, now: int, *, naive: bool, asked: set) -> list[Request]:
    """One refresh of a "since" figure: the naive one asks each span whole, ours the closed
    pieces not asked before (``asked``, kept across the hour) and the open piece once per piece
    (with ``follow.open``): the live request moves it in between."""
    out = []
    for span in q["spans"]:
        pieces = pieces_since(span, now)
        if naive:
            pieces = [(pieces[0][0], None)]  # since midnight / the 1st, in full
        for start, end in pieces:
            if end is not None and (start, end) in asked:
                continue
            if end is not None:
                asked.add((start, end))
            at = now if end is None else end
            # The day's open piece is also the month's: one request.
            if not naive and end is None and (start, "open") in asked:
                continue
            asked.add((start, "open"))
            promql = q["promql"]
            if naive:
                promql = whole_span(promql)
            elif end is None:
                promql = q["follow"]["open"]
            params = {"query": render(promql, piece=(start, at)), "time": str(at)}
            out.append(Request("query", params, q["id"]))
    return out


def without_follow(queries: list[dict], follow: dict) -> None:
    """Gives the live request a naive variant (``naive_promql``) without what only the figures
    that follow it need: their counters, the price and the evaluation time (a naive dashboard
    asks those figures whole instead)."""
    names = {p["counter"] for q in queries if q["kind"] == "since" for p in q["follow"]["parts"]}
    for q in queries:
        if q["id"] != "live":
            continue
        promql = q["promql"]
        added = [f"|{n}" for n in sorted(names | {follow["price"]})]
        for part in [*added, f" or {follow['evaluated_at']}"]:
            if part not in promql:
                raise SystemExit(f"the live request lacks {part[:50]}: change this replay too")
            promql = promql.replace(part, "")
        q["naive_promql"] = promql


def one_hour(plan: list[dict], *, end: int, naive: bool, window_index: int,
             every: float | None = None) -> list[Request]:  # fmt: skip
    """Every request one open dashboard sends in the hour before ``end``, in time order (the
    first load included: every chart's whole window once, every closed piece once); ``every``:
    each query at that pace instead of its own."""
    start = end - HOUR
    timed: list[tuple[float, Request]] = []
    for q in plan:
        refresh = float(every or q["refreshSeconds"])
        last_end: int | None = None
        asked: set = set()
        for k in range(int(HOUR // refresh) + 1):
            now = int(start + k * refresh)
            if q["kind"] == "instant":
                promql = q.get("naive_promql", q["promql"]) if naive else q["promql"]
                params = {"query": render(promql), "time": str(now)}
                timed.append((now, Request("query", params, q["id"])))
                continue
            if q["kind"] == "since":
                timed += [(now, r) for r in since_requests(q, now, naive=naive, asked=asked)]
                continue
            if q.get("refresh") == "daily" and not naive and k > 0:
                continue  # past days: asked once a day
            windows = q["windowsSeconds"]
            window = windows[min(window_index, len(windows) - 1)]
            step = int(q.get("fixedStepSeconds") or choose_step(window))
            # src/range.ts: up to the bucket that is filling now (the step grid's next point).
            range_end = -(-now // step) * step
            tail = q.get("refresh") == "tail" and not naive and last_end is not None
            range_start = min(last_end, range_end) if tail and last_end else range_end - window
            last_end = range_end
            params = {
                "query": render(q["promql"], step=step),
                "start": str(range_start),
                "end": str(range_end),
                "step": str(step),
            }
            timed.append((now, Request("query_range", params, q["id"])))
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
        backfill_openmetrics(work / "history.om", work / "prometheus" / "data", progress=False)
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
            breakdown(prometheus, plan, end=end, rounds=args.rounds)
        finally:
            prometheus.stop()


def measure(prometheus: Prometheus, plan: list[dict], *, end: int, rounds: int, index: int,
            label: str) -> None:  # fmt: skip
    ours = one_hour(plan, end=end, naive=False, window_index=index)
    naive = one_hour(plan, end=end, naive=True, window_index=index)
    ranged = {q["id"] for q in plan if q["kind"] != "instant"}
    # The ranges alone (charts and the figures since midnight / the 1st): where the two differ.
    ranges = ([r for r in ours if r.query_id in ranged], [r for r in naive if r.query_id in ranged])
    naive_all = 0.0
    for what, (mine_q, naive_q) in (("all queries", (ours, naive)), ("ranges only", ranges)):
        mine, theirs = compare(prometheus, mine_q, naive_q, rounds)
        naive_all = naive_all or theirs
        ratio = mine / theirs if theirs else float("nan")
        verdict = "meets" if ratio <= TARGET else "MISSES"
        print(f"  charts on {label:>7}, {what}: dashboard {mine:6.2f} s/h, naive {theirs:6.2f} s/h,"
              f" ratio {ratio:.2f}x (target <= {TARGET}x: {verdict}); "
              f"{len(mine_q) / 60:.1f} queries/min")  # fmt: skip
    # For reference, not the target's baseline: a dashboard with one refresh for the page (as
    # Grafana's), every panel asked whole at the live figures' pace.
    live_pace = min(float(q["refreshSeconds"]) for q in plan)
    paged = one_hour(plan, end=end, naive=True, window_index=index, every=live_pace)
    mine, theirs = compare(prometheus, ours, paged, rounds)
    print(f"  charts on {label:>7}, for reference: a naive dashboard asking every panel whole each"
          f" {live_pace:.0f} s: {theirs:6.2f} s/h, ours {mine / theirs:.2f}x of it")  # fmt: skip
    # Our instant requests (the live one with the figures' counters): no way of asking the
    # ranges brings the whole below what these cost.
    instant = [r for r in ours if r.query_id not in ranged]
    floor = statistics.median(replay(prometheus, instant) for _ in range(rounds))
    print(f"  charts on {label:>7}, our instant queries alone: {floor:6.2f} s/h,"
          f" {floor / naive_all:.2f}x of the naive (the ratio if ranges cost nothing)")  # fmt: skip


def compare(prometheus: Prometheus, mine: list[Request], naive: list[Request], rounds: int
            ) -> tuple[float, float]:  # fmt: skip
    """Median CPU seconds of each list of requests, the two replayed in turns."""
    cost: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for is_naive, requests in ((False, mine), (True, naive)):
            cost[is_naive].append(replay(prometheus, requests))
    return statistics.median(cost[False]), statistics.median(cost[True])


def breakdown(prometheus: Prometheus, plan: list[dict], *, end: int, rounds: int) -> None:
    """Each query of the plan alone (charts on 24 h): asks per hour and CPU s per hour."""
    ours = one_hour(plan, end=end, naive=False, window_index=0)
    naive = one_hour(plan, end=end, naive=True, window_index=0)
    print("Each query alone (charts on 24 h): asks per hour, CPU s per hour, dashboard / naive:")
    for q in plan:
        mine_q = [r for r in ours if r.query_id == q["id"]]
        naive_q = [r for r in naive if r.query_id == q["id"]]
        mine, theirs = compare(prometheus, mine_q, naive_q, rounds)
        print(f"  {q['id']:<15} {len(mine_q):4d} / {len(naive_q):4d} asks, "
              f"{mine:5.3f} / {theirs:5.3f} s/h")  # fmt: skip


if __name__ == "__main__":
    main()
