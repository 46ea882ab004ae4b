"""The dashboard stack's simulated history (balupi/devstack/history.py) goes on as its live
series: one series per plug, per NAS state, per Pi-hole count, the same labels before and now
(a mismatch draws a second line in the chart and counts a second plug), and the recording rules
the dashboard reads at past midnights are there."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.dashboard_stack_fixture import HISTORY_DAYS

pytestmark = pytest.mark.integration

# Each metric the history writes, and how many series of it the stack has now.
JOINED = {
    "tapo_power_watts": 1,
    "tapo_energy_joules_total": 1,
    "balupi_energy_price_per_kilowatt_hour": 1,
    "balupi_nas_state": 5,
    "balupi_nas_online_seconds_total": 1,
    "balupi_nas_takeovers_total": 1,
    "pihole_dns_queries_today": 1,
    "pihole_ads_blocked_today": 1,
}


def _labels(samples: list[dict]) -> list[dict]:
    return sorted((s["metric"] for s in samples), key=lambda m: sorted(m.items()))


@pytest.mark.parametrize("metric", sorted(JOINED))
def test_the_history_goes_on_as_the_live_series(dashboard_stack, metric):
    prometheus = dashboard_stack.prometheus
    now = prometheus.query(metric)
    assert len(now) == JOINED[metric], now
    # Two days ago is the history alone; across all of it, no series but the live ones.
    assert _labels(prometheus.query(f"{metric} offset 2d")) == _labels(now)
    every = prometheus.query(f"count(count_over_time({metric}[{HISTORY_DAYS}d]))")
    assert every[0]["value"][1] == str(JOINED[metric])


def test_the_per_day_rules_are_there_at_the_last_midnights(dashboard_stack):
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    end = int(midnight.timestamp())
    days = dashboard_stack.prometheus.api(
        "query_range", query="balupi:nas_online_seconds:increase1d",
        start=str(end - 6 * 86400), end=str(end), step="86400",
    )["result"]  # fmt: skip
    assert len(days) == 1, days
    hours = [float(v) / 3600 for _, v in days[0]["values"]]
    assert len(hours) == 7 and all(0 < h < 24 for h in hours), hours


def test_this_month_has_its_energy(dashboard_stack):
    # Since the 1st, as the power panel asks; the history's NAS draws 2-46 W all the time.
    first = datetime.now().astimezone().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    seconds = max(60, int(time.time() - first.timestamp()))
    promql = f"increase(tapo_energy_joules_total[{seconds}s]) / 3.6e6"
    kwh = dashboard_stack.prometheus.query(promql)
    assert len(kwh) == 1 and float(kwh[0]["value"][1]) > 1.5 * seconds / 3600 / 1000, kwh
