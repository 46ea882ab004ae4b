"""The NAS's Grafana dashboard: every panel's PromQL, variables filled in, answers a real
Prometheus fed by the demo's simulators, with data wherever the simulators produce it."""

from __future__ import annotations

import pytest
import yaml

from tests.grafana_dashboard import (
    GRAFANA,
    MAY_BE_EMPTY,
    load,
    panels,
    resolve_variables,
    run_queries,
    targets,
)

pytestmark = pytest.mark.integration


def test_every_panel_has_a_query_on_the_chosen_data_source():
    dashboard = load()
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']} has no query"
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    # Every allowance above names a real panel, so none outlives its panel.
    refs = {(t.panel, t.ref) for t in targets(dashboard)}
    assert set(MAY_BE_EMPTY) <= refs


def test_provisioning_points_at_the_pi_and_the_dashboard_folder():
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/balupi.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://balupi.local:9090"
    (variable,) = [v for v in load()["templating"]["list"] if v["type"] == "datasource"]
    assert variable["current"]["value"] == source["uid"]  # the default is the provisioned one
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/balupi.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


def test_every_panel_query_answers_with_data(monitoring_stack):
    errors, empty = run_queries(monitoring_stack.prometheus, since=monitoring_stack.started)
    assert not errors, "queries Prometheus refused:\n" + "\n".join(errors)
    unexpected = [
        f"{t.panel} [{t.ref}]: {expr}" for t, expr in empty if (t.panel, t.ref) not in MAY_BE_EMPTY
    ]
    assert not unexpected, "panels without data:\n" + "\n".join(unexpected)


def test_the_variables_offer_the_plug_and_the_pi(monitoring_stack):
    variables = resolve_variables(load(), monitoring_stack.prometheus)
    assert variables["plug"] == ".*"  # All
    assert variables["pi"].startswith("127.0.0.1:")
