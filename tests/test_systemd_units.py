"""Every unit we ship passes `systemd-analyze verify` and rates 2.5 or better for exposure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "systemd").glob("*.service")) + sorted(
    (REPO / "nas" / "systemd").glob("*.service")
)
# The Pi's units run the .deb's /usr/bin/balupi-*, the NAS's a venv in /opt/balupi.
INSTALLED_BINS = ("/usr/bin/balupi", "/opt/balupi/venv/bin/balupi")
pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def staged(unit: Path, tmp_path: Path) -> Path:
    # verify checks that ExecStart= exists: point it at this checkout's venv.
    text = unit.read_text()
    for installed in INSTALLED_BINS:
        text = text.replace(installed, str(Path(sys.executable).parent / "balupi"))
    out = tmp_path / unit.name
    out.write_text(text)
    return out


def test_there_are_units():
    assert any(u.name == "balupi-exporter.service" for u in UNITS)
    names = {u.name for u in UNITS}
    assert {"balupi-handshake.service", "balupi-nas-handshake.service"} <= names


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies(unit, tmp_path):
    run = subprocess.run(
        ["systemd-analyze", "verify", str(staged(unit, tmp_path))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert unit.name not in run.stderr, run.stderr  # no warnings about our unit either


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_exposure_is_low(unit, tmp_path):
    run = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(staged(unit, tmp_path))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout)
    assert found, run.stdout + run.stderr
    assert float(found.group(1)) <= 2.5, run.stdout
