"""The plan's questions over 30 days of history: recording rules against raw series, and
Prometheus's memory with that history, on Debian's Prometheus.

  1. writes 30 days of one NAS, two plugs and Pi-hole (devstack/history_series.py), one sample
     every 15 s as the Pi scrapes, and backfills them (promtool ... openmetrics)
  2. backfills the recording rules over them (promtool ... rules, against a running Prometheus)
  3. lets Prometheus merge the backfilled blocks as it would its own, then restarts it
  4. times each question with the rule and computed from raw series (median of --runs), and
     reads Prometheus's VmRSS from /proc with the data loaded and after the queries

Targets: each question under 100 ms with rules; Prometheus under 150 MB.
Run: .venv/bin/python -m bench.prometheus_history  [--days 30] [--step 15] [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from balupi.devstack.backfill import backfill_openmetrics, backfill_rules, rule_steps
from balupi.devstack.history_series import DAY, write_openmetrics
from balupi.devstack.ports import free_port
from balupi.devstack.prometheus import Prometheus

# Nothing to scrape and no rules to run: the history is all backfilled.
CONFIG = "global:\n  scrape_interval: 15s\n"
RETENTION = "90d"  # the Pi's (systemd/prometheus.service.d): keeps the backfilled month
PRICE = "on() group_left(currency) balupi_energy_price_per_kilowatt_hour"
AVG_WHILE = 'avg_over_time((tapo_power_watts{{plug="nas"}} and on() (balupi_nas_state{{state="{}"}} == 1))[1d:1m])'  # noqa: E501


@dataclass(frozen=True)
class Question:
    text: str
    rule: str
    raw: str
    step: str | None  # a graph of one point per step over the 30 days; None: one value now


QUESTIONS = [
    Question("NAS online hours per day", "balupi:nas_online_seconds:increase1d / 3600",
             "increase(balupi_nas_online_seconds_total[1d]) / 3600", "1d"),
    Question("NAS online minutes per hour", "balupi:nas_online_seconds:increase1h / 60",
             "increase(balupi_nas_online_seconds_total[1h]) / 60", "1h"),
    Question("wakes per day", "sum by (result) (balupi:nas_wakes:increase1d)",
             "sum by (result) (increase(balupi_nas_wakes_total[1d]))", "1d"),
    Question("unexpected outages per day", "balupi:nas_outages:increase1d",
             "increase(balupi_nas_takeovers_total[1d])", "1d"),
    Question("energy per day (kWh)", "balupi:energy_kwh:increase1d",
             "increase(tapo_energy_joules_total[1d]) / 3.6e6", "1d"),
    Question("energy per month (kWh)", "balupi:energy_kwh:increase30d",
             "increase(tapo_energy_joules_total[30d]) / 3.6e6", None),
    Question("cost per day", "balupi:energy_cost:increase1d",
             f"increase(tapo_energy_joules_total[1d]) / 3.6e6 * {PRICE}", "1d"),
    Question("cost per month", "balupi:energy_cost:increase30d",
             f"increase(tapo_energy_joules_total[30d]) / 3.6e6 * {PRICE}", None),
    Question("average NAS power online, per day", "balupi:nas_power_watts:avg_online_1d",
             AVG_WHILE.format("online"), "1d"),
    Question("average NAS power asleep, per day", "balupi:nas_power_watts:avg_asleep_1d",
             AVG_WHILE.format("offline"), "1d"),
    Question("Pi-hole blocked ratio, per day", "balupi:pihole_blocked:ratio",
             "pihole_ads_blocked_today / (pihole_dns_queries_today > 0)", "1d"),
]  # fmt: skip


def ask(prometheus: Prometheus, expr: str, step: str | None, end: int, days: int) -> list[dict]:
    if step is None:
        params = {"query": expr, "time": str(end)}
        path = "query"
    else:
        params = {"query": expr, "start": str(end - (days - 1) * DAY), "end": str(end),
                  "step": step}  # fmt: skip
        path = "query_range"
    url = f"{prometheus.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)["data"]["result"]


def total(result: list[dict]) -> float:
    """Every value in an answer added up: the rule's and the raw answer should agree."""
    values = [s["value"] for s in result] if result and "value" in result[0] else [
        v for s in result for v in s["values"]]  # fmt: skip
    return sum(float(v) for _, v in values if v not in ("NaN", "+Inf", "-Inf"))


def rss(prometheus: Prometheus) -> str:
    assert prometheus.proc is not None
    status = Path(f"/proc/{prometheus.proc.pid}/status").read_text()
    fields = (line.split(":", 1) for line in status.splitlines())
    kib = {k: int(v.split()[0]) for k, v in fields if k.startswith(("VmRSS", "Rss"))}
    return (f"VmRSS {kib['VmRSS'] / 1024:.0f} MiB (anonymous {kib['RssAnon'] / 1024:.0f}, "
            f"file-backed {kib['RssFile'] / 1024:.0f})")  # fmt: skip


def step(text: str) -> None:
    print(text, end="", flush=True)


def backfill(work: Path, prometheus: Prometheus, *, start: int, end: int, step_s: int) -> int:
    """Raw series, then the rules level by level; returns how many blocks the raw series made."""
    data = work / "prometheus" / "data"
    step(f"Writing {(end - start) // DAY} days at one sample per {step_s} s ...")
    t0 = time.monotonic()
    samples = write_openmetrics(work / "history.om", end=end, days=(end - start) // DAY,
                                step=step_s)  # fmt: skip
    print(f" {samples:,} samples ({time.monotonic() - t0:.0f} s)")
    step("promtool tsdb create-blocks-from openmetrics ...")
    backfill_openmetrics(work / "history.om", data)
    (work / "history.om").unlink()
    raw_blocks = len(list(data.glob("01*")))
    for rule_file, recent in rule_steps(work):
        prometheus.start()
        prometheus.wait_ready()
        since = end - 2 * 3600 if recent else start
        step(f"promtool tsdb create-blocks-from rules {rule_file.name}"
             f" (last {(end - since) / 3600:.0f} h) ...")  # fmt: skip
        backfill_rules(rule_file, url=prometheus.url, start=since, end=end, data_dir=data)
        prometheus.stop()
    return raw_blocks


def merge_blocks(prometheus: Prometheus, data: Path, raw_blocks: int) -> None:
    """Prometheus merges overlapping blocks (rules over raw) at its first compaction, about a
    minute after it starts; on the Pi rule samples land in the same blocks as raw ones."""
    step(f"Letting Prometheus merge {len(list(data.glob('01*')))} backfilled blocks ")
    t0 = time.monotonic()
    prometheus.start()
    prometheus.wait_ready()
    dots = Dots()

    def merged() -> bool:
        dots.tick()
        # Compaction writes into a .tmp-for-creation folder, then deletes its sources.
        return len(list(data.glob("01*"))) <= raw_blocks and not list(data.glob("*.tmp*"))

    prometheus.wait_until(merged, timeout=300, what="its compaction")
    print(f" {len(list(data.glob('01*')))} blocks ({time.monotonic() - t0:.0f} s)")
    prometheus.stop()


class Dots:
    """A dot every few seconds while something long runs."""

    def __init__(self, every: float = 5) -> None:
        self.every, self.last = every, time.monotonic()

    def tick(self) -> None:
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            print(".", end="", flush=True)


def measure(prometheus: Prometheus, *, end: int, days: int, runs: int) -> None:
    prometheus.start()
    prometheus.wait_ready()
    loaded = rss(prometheus)
    print(f"\nPrometheus with {days} days loaded: {loaded}\n")
    print(f"{'question (over ' + str(days) + ' days)':<38} {'rules':>9} {'raw':>9} {'raw/rules':>9}"
          f"  rules' and raw answers agree")  # fmt: skip
    for q in QUESTIONS:
        timings: dict[str, list[float]] = {"rule": [], "raw": []}
        answers: dict[str, list[dict]] = {}
        for n in range(runs + 2):  # two warm-up rounds, then alternate which goes first
            for kind in ("rule", "raw") if n % 2 else ("raw", "rule"):
                t0 = time.perf_counter()
                answers[kind] = ask(prometheus, getattr(q, kind), q.step, end, days)
                if n >= 2:
                    timings[kind].append(time.perf_counter() - t0)
        rule_ms, raw_ms = (statistics.median(timings[k]) * 1000 for k in ("rule", "raw"))
        a, b = total(answers["rule"]), total(answers["raw"])
        agree = f"{a:,.2f} vs {b:,.2f}" if answers["rule"] else "RULE ANSWERED NOTHING"
        print(f"{q.text:<38} {rule_ms:7.1f}ms {raw_ms:7.1f}ms {raw_ms / rule_ms:8.1f}x  {agree}")
    print(f"\nPrometheus after the queries: {rss(prometheus)}")
    print(f"(loaded: {loaded}; targets: each question under 100 ms with rules, under 150 MB)")
    prometheus.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--step", type=int, default=15, help="seconds between samples")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per question")
    args = parser.parse_args()
    # Whole minutes, and an hour back: the backfilled blocks end before Prometheus's head.
    end = int(time.time()) // 60 * 60 - 3600
    start = end - args.days * DAY
    with tempfile.TemporaryDirectory(prefix="balupi-bench-history-") as tmp:
        work = Path(tmp)
        prometheus = Prometheus(work / "prometheus", CONFIG, port=free_port(),
                                retention=RETENTION)  # fmt: skip
        try:
            raw_blocks = backfill(work, prometheus, start=start, end=end, step_s=args.step)
            merge_blocks(prometheus, work / "prometheus" / "data", raw_blocks)
            measure(prometheus, end=end, days=args.days, runs=args.runs)
        finally:
            prometheus.stop()


if __name__ == "__main__":
    main()
