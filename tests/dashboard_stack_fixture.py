"""One dashboard stack (nginx, Prometheus, the services, the simulators) for the session.

Tests that stop a part start it again before they end, so each test finds every part running.
Its Prometheus starts with eight days of simulated history (the per-day bars read seven
midnights). For the README's screenshot (BALUPI_DASHBOARD_SCREENSHOT) a month, and the whole
house, browser included, in a time zone where it is afternoon now, so that today has hours of
use to show whenever the picture is taken.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from balupi.devstack.dashboard_stack import DashboardStack, running_stack
from tests.waiting import wait_for

TOOLS = ("nginx", "prometheus", "prometheus-node-exporter")
HISTORY_DAYS = 8
SCREENSHOT_HISTORY_DAYS = 30


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None and not shutil.which(
        tool, path="/usr/sbin")]  # fmt: skip


@pytest.fixture(scope="session")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStack]:
    if missing := missing_tools():
        pytest.skip(f"{', '.join(missing)} missing: run make system-deps")
    days = HISTORY_DAYS
    if os.environ.get("BALUPI_DASHBOARD_SCREENSHOT"):
        days = SCREENSHOT_HISTORY_DAYS
        os.environ["TZ"] = afternoon_zone(datetime.now(UTC))  # the stack's children too
        time.tzset()
    with running_stack(tmp_path_factory.mktemp("dashboard"), history_days=days) as stack:
        wait_for(
            lambda: stack.prometheus.query("tapo_power_watts"), timeout=60, what="the plug scraped"
        )
        yield stack


def afternoon_zone(utc_now: datetime) -> str:
    """A zone where it is afternoon now, on another day than the 1st if one is (else "this
    month" is "today"): "Etc/GMT+8" is UTC-8, the tz database's sign."""

    def local(offset: int) -> datetime:
        return utc_now + timedelta(hours=offset)

    afternoon = [o for o in range(-12, 15) if 13 <= local(o).hour <= 17]
    offset = min(afternoon, key=lambda o: (local(o).day == 1, abs(local(o).hour - 16)))
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
