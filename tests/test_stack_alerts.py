"""The outage alert for real: simulated NAS -> balupi-handshake -> Debian's Prometheus with the
repository's rules -> Debian's Alertmanager with the repository's alertmanager.yml -> a webhook
of this test. An announced shutdown notifies nobody; a killed NAS does."""

from __future__ import annotations

import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from balupi.devstack.alertmanager import Alertmanager
from balupi.devstack.alertmanager import render_config as render_alertmanager
from balupi.devstack.dnsmasq import Dnsmasq
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config
from tests.handshake_helpers import NAS_MAC, SECRET, write_config
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


class Webhook:
    """Alertmanager's webhook receiver: keeps every notification it is sent."""

    def __init__(self) -> None:
        received: list[dict] = []  # Alertmanager's JSON notifications
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/balupi-alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, name: str, status: str = "firing") -> list[dict]:
        return [
            alert
            for note in self.received
            for alert in note["alerts"]
            if alert["labels"]["alertname"] == name and alert["status"] == status
        ]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def post(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
        return json.load(answer)


@pytest.fixture
def stack(tmp_path):
    procs: list[ManagedProcess] = []
    webhook = Webhook()
    try:
        dnsmasq = Dnsmasq(tmp_path / "dnsmasq", port=free_port(), hosts_file=tmp_path / "hosts")
        procs.append(dnsmasq.start())
        dnsmasq.wait_ready()
        nas_port, control_port, wol_port = free_port(), free_port(), free_udp_port()
        handshake_port, prom_port, am_port = free_port(), free_port(), free_port()
        config = write_config(
            tmp_path, nas_port=nas_port, wol_port=wol_port, hosts_file=dnsmasq.hosts_file,
            pid_file=dnsmasq.pid_file, handshake=f"listen_port = {handshake_port}",
            nas="heartbeat_interval_seconds = 0.2\nheartbeat_retry_seconds = 0.1",
        )  # fmt: skip
        api = f"http://127.0.0.1:{handshake_port}"
        nas = ManagedProcess(
            "sim-nas",
            [str(BIN / "balupi-sim"), "nas", "--port", str(nas_port), "--control-port",
             str(control_port), "--wol-port", str(wol_port), "--mac", NAS_MAC,
             "--boot-seconds", "0.5", "--pi-url", api],
            log_path=tmp_path / "nas.log", env={"BALUPI_HANDSHAKE_SECRET": SECRET},
        )  # fmt: skip
        procs.append(nas.start())
        nas.wait_http(f"http://127.0.0.1:{control_port}/sim/state")  # up before the first probe
        handshake = ManagedProcess(
            "handshake", [str(BIN / "balupi-handshake"), "--config", str(config)],
            log_path=tmp_path / "handshake.log",
        )  # fmt: skip
        procs.append(handshake.start())
        alertmanager = Alertmanager(tmp_path / "am", render_alertmanager(webhook.url), port=am_port)
        procs.append(alertmanager.start())
        targets = {
            "localhost:8000": f"127.0.0.1:{handshake_port}",
            "localhost:9093": f"127.0.0.1:{am_port}",
            "localhost:9090": f"127.0.0.1:{prom_port}",
        }
        prom_config = render_config(targets, scrape_interval="1s", evaluation_interval="1s")
        prometheus = Prometheus(tmp_path / "prom", prom_config, port=prom_port)
        procs.append(prometheus.start())
        handshake.wait_http(f"{api}/api/health")
        alertmanager.wait_ready()
        prometheus.wait_ready()
        yield {
            "api": api,
            "control": f"http://127.0.0.1:{control_port}/sim/control",
            "prometheus": prometheus,
            "webhook": webhook,
        }
    finally:
        for proc in reversed(procs):
            proc.stop()
        webhook.server.shutdown()


def state(api: str) -> str:
    return get_json(f"{api}/api/status")["nas_state"]


def scraped_state(prometheus: Prometheus, name: str) -> bool:
    return bool(prometheus.query(f'balupi_nas_state{{job="handshake",state="{name}"}} == 1'))


def evaluations(prometheus: Prometheus) -> float:
    result = prometheus.query(
        'sum(prometheus_rule_group_iterations_total{rule_group=~".*balupi-nas"})'
    )
    return float(result[0]["value"][1]) if result else 0.0


def test_unannounced_outage_notifies_and_planned_sleep_does_not(stack):
    api, prometheus, webhook = stack["api"], stack["prometheus"], stack["webhook"]
    wait_for(lambda: state(api) == "online", timeout=20, what="the NAS online")

    # A planned sleep: BaluHost's shutdown hook announces it, then the NAS powers off.
    assert post(stack["control"], {"action": "shutdown"})["state"] == "sleeping"
    wait_for(lambda: state(api) == "offline", timeout=20, what="offline after the announcement")
    wait_for(
        lambda: scraped_state(prometheus, "offline"), timeout=20, what="Prometheus sees offline"
    )
    # Let the alert rules run on the sleeping NAS for a while (counted, not slept).
    seen = evaluations(prometheus)
    wait_for(
        lambda: evaluations(prometheus) >= seen + 5, timeout=30, what="five more rule evaluations"
    )
    assert not prometheus.query('ALERTS{alertname="NasDownUnannounced"}')
    assert webhook.alerts("NasDownUnannounced") == []

    # Wake it, then it dies without a word: the heartbeat takes over, the alert reaches us.
    assert post(f"{api}/api/wake-nas")["wol_sent"] is True
    wait_for(lambda: state(api) == "online", timeout=30, what="online after the wake")
    post(stack["control"], {"action": "kill"})
    wait_for(lambda: state(api) == "unreachable", timeout=20, what="the takeover")
    wait_for(
        lambda: webhook.alerts("NasDownUnannounced"), timeout=60, what="the outage notification"
    )
    (alert,) = webhook.alerts("NasDownUnannounced")[:1]
    assert alert["labels"]["severity"] == "critical"
    assert "without announcing" in alert["annotations"]["summary"]
