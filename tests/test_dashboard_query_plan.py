"""The dashboard's query plan (frontend-dist/query-plan.json, written by its build) against
Debian's real Prometheus with the repository's rules and every source running: each query is
valid PromQL, the live panels get data, and every recording rule it names exists."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PLAN = json.loads((REPO / "frontend-dist" / "query-plan.json").read_text())


def fill(promql: str, step: int = 60, today: int = 3600) -> str:
    # The placeholders the dashboard fills in (frontend/src/queryPlan.ts: render).
    return promql.replace("$step", str(step)).replace("$today", str(today))


def recorded_rules() -> set[str]:
    names = set()
    for path in (REPO / "prometheus" / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def test_every_recording_rule_the_dashboard_names_exists():
    named = set()
    for q in PLAN["queries"]:
        named |= set(re.findall(r"balupi:[a-z_]+:[a-z0-9_]+", q["promql"]))
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
            data = prometheus.api(
                "query_range",
                query=fill(q["promql"], step=step),
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
    assert "balupi:energy_kwh:increase1d" in names("power.energy")
    assert "balupi:nas_power_watts:avg_online_1d" in names("usage.averages")
