"""The Pi-hole alert rules load in Prometheus and fire when they should (promtool)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[1] / "prometheus" / "rules"
pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason="make system-deps")


@pytest.mark.parametrize(
    "command", [["check", "rules", "pihole.yml"], ["test", "rules", "pihole_test.yml"]]
)
def test_promtool(command):
    run = subprocess.run(
        ["promtool", *command], cwd=RULES, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
