"""One dashboard stack (nginx, Prometheus, the services, the simulators) for the session.

Tests that stop a part start it again before they end, so each test finds every part running.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from balupi.devstack.dashboard_stack import DashboardStack, running_stack
from tests.waiting import wait_for

TOOLS = ("nginx", "prometheus", "prometheus-node-exporter")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None and not shutil.which(
        tool, path="/usr/sbin")]  # fmt: skip


@pytest.fixture(scope="session")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStack]:
    if missing := missing_tools():
        pytest.skip(f"{', '.join(missing)} missing: run make system-deps")
    with running_stack(tmp_path_factory.mktemp("dashboard")) as stack:
        wait_for(
            lambda: stack.prometheus.query("tapo_power_watts"), timeout=60, what="the plug scraped"
        )
        yield stack
