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


def moved(parts: list[dict], opened: list[dict], live: list[dict]) -> dict[tuple, float]:
    # What frontend/src/since.ts's followLive adds to the open piece: each part's figure of what
    # its counter grew between the two answers (the test's own arithmetic, as the part says).
    def key(metric: dict) -> tuple:
        return tuple(sorted(metric.items()))

    before = {key(r["metric"]): float(r["value"][1]) for r in opened if "__name__" in r["metric"]}
    price = [r for r in live if r["metric"].get("__name__") == PLAN["follow"]["price"]]
    out: dict[tuple, float] = {}
    for part in parts:
        for r in live:
            metric = dict(r["metric"])
            if metric.pop("__name__", None) != part["counter"]:
                continue
            grew = float(r["value"][1]) - before[key(r["metric"])]
            labels = {k: metric[k] for k in part["by"] if k in metric} if "by" in part else metric
            factor = 1 / float(part.get("per", 1))
            if part.get("priced"):
                factor *= float(price[0]["value"][1])
                labels["currency"] = price[0]["metric"]["currency"]
            labels["q"] = part["q"]
            out[key(labels)] = out.get(key(labels), 0.0) + grew * factor
    return out


def test_a_figure_moves_with_the_live_request_as_if_asked_again(monitoring_stack):
    # The open piece is asked once (frontend/src/since.ts: followLive); later live answers carry
    # its counters, and the figure moves by what they grew. That must equal the piece asked
    # again, for every part: energy and cost per plug, hours online, wakes by result, outages.
    prometheus = monitoring_stack.prometheus
    live = {q["id"]: q for q in PLAN["queries"]}["live"]["promql"]
    counter = 'tapo_energy_joules_total{plug="nas"}'

    def ask(promql: str, at: float) -> list[dict]:
        return prometheus.api("query", query=promql, time=str(at))["result"]

    def figure(result: list[dict]) -> dict[tuple, float]:
        # The figure's own series: neither a counter (named) nor the evaluation time.
        return {
            tuple(sorted(r["metric"].items())): float(r["value"][1])
            for r in result
            if "__name__" not in r["metric"] and r["metric"].get("q") != "evaluated_at"
        }

    def two_more_wh(since: float) -> None:
        more = f"{counter} - {counter} @ {since} > 2 * 3600"
        wait_for(lambda: prometheus.query(more), timeout=30, what="the NAS plug's 2 more Wh")

    start = round(time.time()) - 2
    for q in (q for q in PLAN["queries"] if "follow" in q):
        first = time.time()
        opened = ask(fill(q["follow"]["open"], piece=(start, first)), first)
        at = [float(r["value"][1]) for r in opened if r["metric"].get("q") == "evaluated_at"]
        assert at == [pytest.approx(first)], opened
        with monitoring_stack.drawing(3600):
            two_more_wh(first)
        now = time.time()
        expected = figure(ask(fill(q["promql"], piece=(start, now)), now))
        own = figure(opened)
        grew = moved(q["follow"]["parts"], opened, ask(live, now))
        assert set(grew) == set(expected) == set(own), q["id"]
        for k, value in expected.items():
            assert own[k] + grew[k] == pytest.approx(value, rel=1e-9, abs=1e-9), (q["id"], k)
        if q["id"] == "power.energy":
            nas = [v for k, v in grew.items() if ("plug", "nas") in k and ("q", "kwh") in k]
            assert nas and nas[0] >= 0.002, "the fast draw moved the NAS plug's figure"
