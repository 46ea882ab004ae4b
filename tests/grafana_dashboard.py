"""The NAS's Grafana dashboard as the tests read it: its panels' queries, its template
variables resolved the way Grafana resolves them, its built-in intervals replaced."""

from __future__ import annotations

import json
import re
import time
import urllib.error
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
# Panels that may be empty here, (title, refId) with the reason; every other must have data.
MAY_BE_EMPTY: dict[tuple[str, str], str] = {}
if not list(Path("/sys/class/thermal").glob("thermal_zone*")):
    MAY_BE_EMPTY[("Temperature", "A")] = "this machine has no thermal zone (a Pi has one)"


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


def run_queries(
    prometheus: Prometheus, *, since: float
) -> tuple[list[str], list[tuple[Target, str]]]:
    """Every panel's query as Grafana sends it: the refused ones (with Prometheus's words) and
    the empty ones. Range panels are asked for everything since ``since``."""
    dashboard = load()
    variables = resolve_variables(dashboard, prometheus)
    errors: list[str] = []
    empty: list[tuple[Target, str]] = []
    for target in targets(dashboard):
        expr = substitute(target.expr, variables)
        try:
            if target.instant:
                result = prometheus.query(expr)
            else:
                result = prometheus.api("query_range", query=expr, step="1", start=str(since),
                                        end=str(time.time()))["result"]  # fmt: skip
        except (RuntimeError, urllib.error.HTTPError) as err:
            errors.append(f"{target.panel} [{target.ref}]: {expr}\n    {_problem(err)}")
            continue
        if not result:
            empty.append((target, expr))
    return errors, empty


def _problem(err: Exception) -> str:
    """Prometheus's own words for a refused query (the body of its 400 or 422)."""
    if isinstance(err, urllib.error.HTTPError):
        return err.read().decode(errors="replace")
    return str(err)
