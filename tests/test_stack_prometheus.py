"""The real path: simulated plug -> balupi-exporter process -> Debian's Prometheus -> HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config
from tests.monitoring_stack import wait_reads
from tests.tapo_helpers import PASSWORD, USER

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration


def control(port: int, **changes: object) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/sim/control", data=json.dumps(changes).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def exporter_config(tmp_path: Path, exporter_port: int, plug_port: int) -> Path:
    path = tmp_path / "balupi.toml"
    path.write_text(
        f"""
[exporter]
listen_host = "127.0.0.1"
listen_port = {exporter_port}
[tapo]
username = "{USER}"
password_env = "BALUPI_TAPO_PASSWORD"
[[tapo.plugs]]
name = "nas"
host = "127.0.0.1"
port = {plug_port}
"""
    )
    return path


@pytest.fixture
def stack(tmp_path):
    plug_port, exporter_port, prom_port = free_port(), free_port(), free_port()
    env = {"BALUPI_SIM_TAPO_PASSWORD": PASSWORD, "BALUPI_TAPO_PASSWORD": PASSWORD}
    plug = ManagedProcess(
        "sim",
        [str(BIN / "balupi-sim"), "tapo", "--port", str(plug_port), "--power", "38.5",
         "--username", USER],
        log_path=tmp_path / "sim.log", env=env,
    ).start()  # fmt: skip
    exporter = ManagedProcess(
        "exporter",
        [str(BIN / "balupi-exporter"), "--config",
         str(exporter_config(tmp_path, exporter_port, plug_port))],
        log_path=tmp_path / "exporter.log", env=env,
    ).start()  # fmt: skip
    config = render_config(
        {
            "localhost:9877": f"127.0.0.1:{exporter_port}",
            "localhost:9090": f"127.0.0.1:{prom_port}",
        },
        scrape_interval="1s",
    )
    prometheus = Prometheus(tmp_path / "prom", config, port=prom_port).start()
    try:
        plug.wait_http(f"http://127.0.0.1:{plug_port}/sim/state")
        exporter.wait_http(f"http://127.0.0.1:{exporter_port}/")
        prometheus.wait_ready()
        yield prometheus, plug_port, exporter
    finally:
        for proc in (prometheus, exporter, plug):
            proc.stop()


def test_prometheus_reads_the_simulated_power(stack):
    prometheus, plug_port, exporter = stack
    wait_reads(prometheus, 'tapo_power_watts{job="tapo",plug="nas"}', 38.5)
    wait_reads(prometheus, 'up{job="tapo"}', 1)
    wait_reads(prometheus, 'up{job="balupi-exporter"}', 1)
    control(plug_port, power_watts=42.0)
    wait_reads(prometheus, 'tapo_power_watts{job="tapo",plug="nas"}', 42.0)
    assert exporter.stop() == 0  # SIGTERM ends it cleanly


def test_exporter_refuses_a_bad_config(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[exporter]\nlisten_port = -1\n[[tapo.plugs]]\nname = 'x'\n")
    run = subprocess.run(
        [str(BIN / "balupi-exporter"), "--config", str(bad)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "exporter.listen_port" in run.stderr and "tapo.plugs[0].host" in run.stderr
    assert "Traceback" not in run.stderr


def test_exporter_port_in_use_is_a_clear_message(tmp_path):
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = tmp_path / "c.toml"
        config.write_text(f"[exporter]\nlisten_host = '127.0.0.1'\nlisten_port = {port}\n")
        run = subprocess.run(
            [str(BIN / "balupi-exporter"), "--config", str(config)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert run.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "Traceback" not in run.stderr
