"""The NAS's Grafana dashboard as the tests read it: its panels' queries, its template
variables resolved the way Grafana resolves them, its built-in intervals replaced."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from balupi.devstack.prometheus import REPO, Prometheus

GRAFANA = REPO / "prometheus" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "balupi.json"
# Grafana's built-ins, as durations that suit a test Prometheus scraping every second.
BUILTINS = {"__rate_interval": "30s", "__interval": "15s", "__range": "1h"}
LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


@dataclass(frozen=True)
class Target:
    panel: str
    ref: str
    expr: str
    instant: bool


def load(path: Path = DASHBOARD) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: dict) -> Iterator[Target]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield Target(panel["title"], target["refId"], target["expr"],
                         bool(target.get("instant")))  # fmt: skip


def resolve_variables(dashboard: dict, prometheus: Prometheus) -> dict[str, str]:
    """Each query variable's value as Grafana would set it: All's value for a multi-value
    variable that offers All, else the first value Prometheus has for it."""
    values: dict[str, str] = {}
    for var in dashboard["templating"]["list"]:
        if var["type"] != "query":
            continue
        found = LABEL_VALUES.match(var["query"]["query"])
        assert found, f"variable {var['name']}: only label_values(selector, label) is expected"
        options = prometheus.api(f"label/{found['label']}/values", **{"match[]": found["selector"]})
        assert options, f"variable {var['name']}: no values for {var['query']['query']}"
        values[var["name"]] = var["allValue"] if var.get("includeAll") else sorted(options)[0]
    return values


def substitute(expr: str, variables: dict[str, str]) -> str:
    known = BUILTINS | variables

    def value(match: re.Match) -> str:
        name = next(group for group in match.groups() if group)
        if name not in known:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return known[name]

    return VARIABLE.sub(value, expr)
