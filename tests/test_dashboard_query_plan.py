"""The dashboard's query plan (frontend-dist/query-plan.json, written by its build) against
Debian's real Prometheus with the repository's rules and every source running: each query is
valid PromQL, the live panels get data, and every recording rule it names exists."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PLAN = json.loads((REPO / "frontend-dist" / "query-plan.json").read_text())


def fill(promql: str, step: int = 60, today: int = 3600, month: int = 7200) -> str:
    # The placeholders the dashboard fills in (frontend/src/queryPlan.ts: render).
    for name, value in (("$step", step), ("$today", today), ("$month", month)):
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
        if q["kind"] == "instant":
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

    assert {"tapo_power_watts", "tapo_up", "up"} <= names("power.now")
    assert {"pihole_up", "pihole_dns_queries_today", "pihole_api_sessions", "up"} <= names("pihole")
    assert {"node_memory_MemTotal_bytes", "node_filesystem_size_bytes", "up"} <= names("node")
    assert {"online", "wakes", "outages"} <= names("usage.today")
    assert "balupi:nas_power_watts:avg_online_1d" in names("usage.averages")
    assert {"kwh", "cost"} <= names("power.today")
    assert {"kwh", "cost"} <= names("power.month")


def test_energy_today_and_this_month_per_plug_with_cost(monitoring_stack):
    # With the range filled in as the stack's whole run, both figures are each plug's counter
    # increase over it, and the cost that times the exporter's price, in its currency.
    prometheus = monitoring_stack.prometheus
    by_id = {q["id"]: q for q in PLAN["queries"]}
    run = int(time.time() - monitoring_stack.started) + 60
    at = str(time.time())  # one evaluation time for the plan's queries and the reference ones
    for query_id, fill_in in (("power.today", {"today": run}), ("power.month", {"month": run})):
        promql = by_id[query_id]["promql"]
        result = prometheus.api("query", query=fill(promql, **fill_in), time=at)["result"]
        got = {(r["metric"]["q"], r["metric"]["plug"]): float(r["value"][1]) for r in result}
        reference = f"increase(tapo_energy_joules_total[{run}s]) / 3.6e6"
        kwh = prometheus.api("query", query=reference, time=at)
        price_query = "balupi_energy_price_per_kilowatt_hour"
        price = prometheus.api("query", query=price_query, time=at)["result"]
        assert price, "the stack's exporter has a price"
        assert kwh["result"], "no plug's energy counter"
        per_kwh = float(price[0]["value"][1])
        for r in kwh["result"]:
            plug, value = r["metric"]["plug"], float(r["value"][1])
            assert got[("kwh", plug)] == value, query_id
            assert got[("cost", plug)] == pytest.approx(value * per_kwh), query_id
        costs = [r for r in result if r["metric"]["q"] == "cost"]
        assert {r["metric"]["currency"] for r in costs} == {price[0]["metric"]["currency"]}
