"""prometheus/nas-federation.yml for real: a second Prometheus (the NAS's) federates from the
Pi's, which the demo's simulators feed, and the dashboard works on the copy too."""

from __future__ import annotations

import contextlib
import functools
import subprocess
from collections.abc import Iterator

import pytest
import yaml

from balupi.devstack.ports import free_port
from balupi.devstack.prometheus import REPO, Prometheus
from tests.grafana_dashboard import MAY_BE_EMPTY, run_queries
from tests.monitoring_stack import MonitoringStack
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
FEDERATION = REPO / "prometheus" / "nas-federation.yml"
# /federate copies the present only: these were true before the NAS's Prometheus started.
PAST_ONLY = {("NAS power: online and asleep", "B"): "the NAS slept before the copy began"}


def nas_config(pi_url: str) -> str:
    """The NAS's prometheus.yml: the repository's federation job, aimed at the test's Pi and
    pulling every second instead of every minute."""
    config = yaml.safe_load(FEDERATION.read_text())
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [pi_url.removeprefix("http://")]}]
    job["scrape_interval"] = job["scrape_timeout"] = "1s"
    return yaml.safe_dump({"global": {"scrape_interval": "1s"}, **config})


@pytest.fixture(scope="module")
def nas_prometheus(
    monitoring_stack: MonitoringStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    work = tmp_path_factory.mktemp("nas-prometheus")
    nas = Prometheus(work, nas_config(monitoring_stack.prometheus.url), port=free_port())
    nas.start()
    try:
        nas.wait_ready()
        yield nas
    finally:
        nas.stop()


def test_the_federation_config_is_valid():
    run = subprocess.run(["promtool", "check", "config", str(FEDERATION)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_rules_and_raw_series_reach_the_nas(nas_prometheus):
    has = nas_prometheus.query
    # The Pi's instance labels become balupi.local's; its external label site comes along.
    pi = 'instance=~"balupi.local:[0-9]+", site="balupi"'
    for expr in (f'balupi:energy_kwh:increase1d{{plug="nas", job="tapo", {pi}}}',
                 f'balupi:nas_online_seconds:increase1d{{job="handshake", {pi}}}',
                 f'tapo_power_watts{{plug="nas", {pi}}}',
                 f'balupi_nas_state{{state="online", {pi}}} == 1',
                 f'node_memory_MemAvailable_bytes{{job="node", {pi}}}'):  # fmt: skip
        wait_for(functools.partial(has, expr), timeout=30, what=f"{expr} on the NAS")
    # Only what the dashboard needs: not the rest of node_exporter, not Prometheus's own.
    assert not has('{__name__=~"node_network_.*|prometheus_.*"}')


def test_the_dashboard_works_on_the_nas_copy(monitoring_stack, nas_prometheus):
    allowed = MAY_BE_EMPTY | PAST_ONLY
    seen: dict[str, list[str]] = {}

    def answered() -> bool:
        # rate() and increase() need two copies of each series: poll until they are there.
        errors, empty = run_queries(nas_prometheus, since=monitoring_stack.started)
        seen["errors"] = errors
        seen["empty"] = [f"{t.panel} [{t.ref}]: {e}" for t, e in empty
                         if (t.panel, t.ref) not in allowed]  # fmt: skip
        return bool(errors) or not seen["empty"]

    with contextlib.suppress(AssertionError):  # the asserts below say what is missing
        wait_for(answered, timeout=20, what="every panel answered on the NAS")
    assert not seen["errors"], "queries the NAS's Prometheus refused:\n" + "\n".join(seen["errors"])
    assert not seen["empty"], "panels without data on the NAS:\n" + "\n".join(seen["empty"])
