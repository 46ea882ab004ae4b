"""The demo's Pi-hole path for real: `balupi-sim pihole` (with dnsmasq) -> balupi-exporter
process -> Debian's Prometheus, which scrapes the Pi-hole collector as its own job."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from balupi.devstack import pihole_demo
from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config
from tests.monitoring_stack import wait_reads

BIN = Path(sys.executable).parent
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="run make system-deps"),
]


def sim_state(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sim/state", timeout=5) as answer:
        return json.load(answer)


def test_prometheus_scrapes_pihole_as_its_own_job(tmp_path):
    api_port, dns_port, exporter_port, prom_port = (free_port() for _ in range(4))
    config = tmp_path / "balupi.toml"
    config.write_text(
        f'[exporter]\nlisten_host = "127.0.0.1"\nlisten_port = {exporter_port}\n'
        + pihole_demo.pihole_config(api_port)
    )
    targets = {
        "localhost:9877": f"127.0.0.1:{exporter_port}",
        "localhost:9090": f"127.0.0.1:{prom_port}",
    }
    # A 1 s interval needs a timeout no longer than it (Prometheus refuses the file otherwise).
    prom_config = render_config(targets, scrape_interval="1s").replace(
        "scrape_timeout: 10s", "scrape_timeout: 1s"
    )
    with contextlib.ExitStack() as running:  # every child stops, whatever fails
        pihole = pihole_demo.pihole_process(
            BIN, tmp_path, tmp_path / "pihole", api_port=api_port, dns_port=dns_port
        ).start()
        running.callback(pihole.stop)
        pihole.wait_http(f"http://127.0.0.1:{api_port}/sim/state")
        exporter = ManagedProcess(
            "exporter",
            [str(BIN / "balupi-exporter"), "--config", str(config)],
            log_path=tmp_path / "exporter.log",
            env=pihole_demo.ENV,
        ).start()
        running.callback(exporter.stop)
        exporter.wait_http(f"http://127.0.0.1:{exporter_port}/")
        prometheus = Prometheus(tmp_path / "prom", prom_config, port=prom_port).start()
        running.callback(prometheus.stop)
        prometheus.wait_ready()
        wait_reads(prometheus, 'up{job="pihole"}', 1)
        wait_reads(prometheus, 'pihole_up{job="pihole"}', 1)
        assert prometheus.query('pihole_dns_queries_today{job="pihole"}')
        assert not prometheus.query('pihole_up{job="tapo"}')  # each source in its own job
        assert sim_state(api_port)["open_sessions"] == 1
        assert exporter.stop() == 0, exporter.log_tail()
        assert sim_state(api_port)["open_sessions"] == 0  # the stopped exporter logged out
