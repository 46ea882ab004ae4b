"""The dashboard's query plan (frontend-dist/query-plan.json, written by its build) against
Debian's real Prometheus with the repository's rules and every source running: each query is
valid PromQL, the live panels get data, and every recording rule it names exists."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
PLAN = json.loads((REPO / "frontend-dist" / "query-plan.json").read_text())


def fill(promql: str, step: int = 60, piece: tuple[float, float] | None = None) -> str:
    # The placeholders the dashboard fills in (frontend/src/queryPlan.ts: render); a piece of a
    # "since" figure is (start, end) in unix seconds (frontend/src/since.ts: pieceValues).
    start, end = piece or (time.time() - 3600, time.time())
    values = {"$step": step, "$from": round(start), "$range": round(end - start),
              "$reach": round(end - start) + 300}  # fmt: skip
    for name, value in values.items():
        promql = promql.replace(name, str(value))
    assert "$" not in promql, f"a placeholder the test does not know: {promql}"
    return promql


def range_promqls(q: dict) -> list[str]:
    # A chart reads raw samples for short windows and a downsampling rule for long ones.
    return [q["promql"]] + ([q["downsampled"]["promql"]] if "downsampled" in q else [])


def recorded_rules() -> set[str]:
    names = set()
    for path in (REPO / "prometheus" / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def test_every_recording_rule_the_dashboard_names_exists():
    named = set()
    for q in PLAN["queries"]:
        for promql in range_promqls(q):
            named |= set(re.findall(r"balupi:[a-z_]+:[a-z0-9_]+", promql))
    assert named, "the plan names no recording rule"
    assert named <= recorded_rules(), named - recorded_rules()


def test_every_query_is_valid_and_the_live_ones_have_data(monitoring_stack):
    prometheus = monitoring_stack.prometheus
    now = time.time()
    for q in PLAN["queries"]:
        if q["kind"] in ("instant", "since"):
            result = prometheus.api("query", query=fill(q["promql"]))["result"]
            assert result, f"{q['id']} gave no series"
        else:
            step = q.get("fixedStepSeconds", 15)
            for promql in range_promqls(q):
                data = prometheus.api(
                    "query_range",
                    query=fill(promql, step=step),
                    start=str(monitoring_stack.started),
                    end=str(now),
                    step=str(step),
                )
                assert data["resultType"] == "matrix", q["id"]


def test_the_panels_find_their_metrics(monitoring_stack):
    prometheus = monitoring_stack.prometheus
    by_id = {q["id"]: q for q in PLAN["queries"]}

    def names(query_id: str) -> set[str]:
        result = prometheus.api("query", query=fill(by_id[query_id]["promql"]))["result"]
        return {r["metric"].get("__name__", r["metric"].get("q", "")) for r in result}

    live = names("live")
    assert {"tapo_power_watts", "tapo_up", "up", "scraped_at"} <= live
    assert {"pihole_up", "pihole_dns_queries_today", "pihole_api_sessions"} <= live
    assert {"node_memory_MemTotal_bytes", "node_filesystem_size_bytes"} <= live
    # Each part's job is up, and `or` kept every part's `up`.
    result = prometheus.api("query", query=fill(by_id["live"]["promql"]))["result"]
    ups = {r["metric"]["job"] for r in result if r["metric"].get("__name__") == "up"}
    assert ups == {"tapo", "pihole", "handshake", "node"}
    assert {"online", "wakes", "outages"} <= names("usage.today")
    assert "balupi:nas_power_watts:avg_online_1d" in names("usage.averages")
    assert {"kwh", "cost"} <= names("power.energy")


def test_the_live_watts_say_when_they_were_scraped(monitoring_stack):
    # The live request is asked again just after each scrape (frontend/src/scrape.ts): its
    # answer carries the time of the tapo job's last scrape.
    prometheus = monitoring_stack.prometheus
    by_id = {q["id"]: q for q in PLAN["queries"]}
    assert by_id["live"]["followsScrape"] is True
    at = time.time()
    result = prometheus.api("query", query=by_id["live"]["promql"], time=str(at))["result"]
    scraped = [float(r["value"][1]) for r in result if r["metric"].get("q") == "scraped_at"]
    assert len(scraped) == 1, result
    # The stack scrapes every second: the last scrape is at most a few seconds old.
    assert at - 5 < scraped[0] <= at


def test_energy_as_the_dashboard_adds_it_up_per_plug_with_cost(monitoring_stack):
    # The dashboard cuts "since midnight" into pieces (frontend/src/since.ts): closed ones asked
    # at their end, the open one asked now, each the counter's growth over it. Cut anywhere, the
    # pieces add up exactly to the counter's growth over the whole span, and the cost is that
    # times the exporter's price, in its currency.
    prometheus = monitoring_stack.prometheus
    promql = {q["id"]: q for q in PLAN["queries"]}["power.energy"]["promql"]
    # The plug counts whole Wh: at 40 W the short run may not have moved it. 3.6 kW for a few
    # seconds moves it by several, with the cuts inside the fast draw.
    start = round(time.time()) - 2
    counter = 'tapo_energy_joules_total{plug="nas"}'
    grown = f"{counter} - {counter} @ {start} > 4 * 3600"
    with monitoring_stack.drawing(3600):
        wait_for(lambda: prometheus.query(grown), timeout=30, what="the NAS plug's 4 more Wh")
    now = time.time()
    cuts = [start, start + 2, round(now) - 1, now]  # pieces of 2 s, the middle and the last second
    result: list[dict] = []
    got: dict[tuple[str, str], float] = {}
    for begin, end in itertools.pairwise(cuts):
        answer = prometheus.api("query", query=fill(promql, piece=(begin, end)), time=str(end))
        result += answer["result"]
        for r in answer["result"]:
            key = (r["metric"]["q"], r["metric"]["plug"])
            got[key] = got.get(key, 0.0) + float(r["value"][1])
    reference = f"(tapo_energy_joules_total - tapo_energy_joules_total @ {start}) / 3.6e6"
    kwh = prometheus.api("query", query=reference, time=str(now))
    price_query = "balupi_energy_price_per_kilowatt_hour"
    price = prometheus.api("query", query=price_query, time=str(now))["result"]
    assert price, "the stack's exporter has a price"
    assert kwh["result"], "no plug's energy counter"
    per_kwh = float(price[0]["value"][1])
    for r in kwh["result"]:
        plug, value = r["metric"]["plug"], float(r["value"][1])
        if plug == "nas":
            assert value >= 0.004, "the fast draw is in the reference"
        assert got[("kwh", plug)] == pytest.approx(value, rel=1e-9, abs=1e-12), plug
        assert got[("cost", plug)] == pytest.approx(value * per_kwh), plug
        costs = [r for r in result if r["metric"]["q"] == "cost"]
        assert {r["metric"]["currency"] for r in costs} == {price[0]["metric"]["currency"]}


def test_a_piece_falls_back_to_increase_across_a_reset_or_a_new_series(tmp_path):
    # A piece is the counter now minus at its start; where the exporter restarted meanwhile
    # (the counter reset) or the series is new (no value at the start) that difference is
    # wrong or missing, and the piece is increase() over it instead. promtool evaluates the
    # plan's own expression over a piece from minute 10 to minute 60.
    if shutil.which("promtool") is None:
        pytest.skip("promtool is missing: run make system-deps")
    energy = {q["id"]: q for q in PLAN["queries"]}["power.energy"]["promql"]
    piece = fill(energy, piece=(600, 3600))
    kwh_only = f'(({piece}) unless on(q) label_replace(vector(1), "q", "cost", "", ""))'
    by_increase = "increase(tapo_energy_joules_total[3000s]) / 3.6e6"
    labels = 'job="tapo",instance="a"'
    test = {
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                # 1 Wh a minute; restarted at minute 21; first read at minute 31.
                {"series": f'tapo_energy_joules_total{{{labels},plug="nas"}}',
                 "values": "0+3600x60"},
                {"series": f'tapo_energy_joules_total{{{labels},plug="reset"}}',
                 "values": "0+3600x20 0+3600x39"},
                {"series": f'tapo_energy_joules_total{{{labels},plug="new"}}',
                 "values": "_x30 0+3600x29"},
                {"series": f'balupi_energy_price_per_kilowatt_hour{{{labels},currency="EUR"}}',
                 "values": "0.5+0x60"},
            ],
            "promql_expr_test": [
                {"expr": f'{kwh_only} and on(plug) tapo_energy_joules_total{{plug="nas"}}',
                 "eval_time": "60m",
                 "exp_samples": [{"labels": f'{{{labels},plug="nas",q="kwh"}}', "value": 0.05}]},
                {"expr": f"{kwh_only} - on(plug) ({by_increase})",
                 "eval_time": "60m",
                 "exp_samples": [
                     {"labels": f'{{plug="{plug}"}}', "value": 0}
                     for plug in ("nas", "new", "reset")
                 ]},
            ],
        }],
    }  # fmt: skip
    path = tmp_path / "pieces.test.yml"
    path.write_text(yaml.safe_dump(test))
    checked = subprocess.run(
        ["promtool", "test", "rules", path.name], cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
