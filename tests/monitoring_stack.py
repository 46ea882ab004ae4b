"""The demo's stack on free loopback ports, for the Grafana and federation tests.

Simulated plug, Pi-hole and NAS, balupi-exporter, balupi-handshake, Debian's node_exporter and
Prometheus, which scrapes every second and evaluates the rules every second. The NAS is put to
sleep and woken once, so the wake, asleep-power and snapshot series exist too.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from balupi.devstack import pihole_demo
from balupi.devstack.demo import node_exporter_binary, tapo_config
from balupi.devstack.demo_handshake import NAS_MAC, handshake_config
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config, render_rules
from balupi.handshake.cross_site import DASHBOARD_HEADERS
from tests.waiting import wait_for

BIN = Path(sys.executable).parent
PLUG_USER, PLUG_PASSWORD = "grafana@balupi.local", "grafana-test-password"
SECRET = "grafana-test-handshake-secret-0123456789"
ENV = {
    "BALUPI_SIM_TAPO_PASSWORD": PLUG_PASSWORD,
    "BALUPI_TAPO_PASSWORD": PLUG_PASSWORD,
    "BALUPI_HANDSHAKE_SECRET": SECRET,
    **pihole_demo.ENV,
}
ONLINE_WATTS, ASLEEP_WATTS = 40.0, 2.0


@dataclass
class MonitoringStack:
    prometheus: Prometheus
    workdir: Path
    started: float  # Unix time: range queries from here cover all the stack's data
    plug_control: str  # the simulated NAS plug's /sim/control

    @contextlib.contextmanager
    def drawing(self, watts: float) -> Iterator[None]:
        """The NAS plug draws ``watts`` meanwhile (its Wh counters move faster), then as before."""
        post(self.plug_control, {"power_watts": watts})
        try:
            yield
        finally:
            post(self.plug_control, {"power_watts": ONLINE_WATTS})


def _config(work: Path, p: dict[str, int]) -> str:
    """The demo's config sections, on this stack's free ports and with faster heartbeats."""
    return (
        tapo_config(exporter_port=p["exporter"], plug_port=p["plug"], user=PLUG_USER)
        + pihole_demo.pihole_config(p["pihole_api"])
        + handshake_config(
            work, handshake_port=p["handshake"], nas_port=p["nas"], wol_port=p["wol"],
            heartbeat_interval=0.5, wake_min_interval=0,
        )
    )  # fmt: skip


def _processes(work: Path, p: dict[str, int]) -> list[tuple[ManagedProcess, str]]:
    """Every child in start order, each with the URL that answers once it is ready."""
    config = work / "balupi.toml"
    config.write_text(_config(work, p))
    logs = work / "logs"
    handshake_url = f"http://127.0.0.1:{p['handshake']}"

    def proc(name: str, argv: list[str]) -> ManagedProcess:
        return ManagedProcess(name, argv, log_path=logs / f"{name}.log", env=ENV)

    rules = render_rules(work / "rules", interval="1s")
    targets = {
        "localhost:9877": f"127.0.0.1:{p['exporter']}",
        "localhost:8000": f"127.0.0.1:{p['handshake']}",
        "localhost:9090": f"127.0.0.1:{p['prometheus']}",
        "localhost:9100": f"127.0.0.1:{p['node']}",
        "localhost:9093": f"127.0.0.1:{p['alertmanager']}",  # nobody: no alert leaves the test
    }
    prom_config = render_config(
        targets, scrape_interval="1s", evaluation_interval="1s", rules_dir=rules
    )
    prometheus = Prometheus(work / "prometheus", prom_config, port=p["prometheus"])
    return [
        (proc("sim-tapo", [str(BIN / "balupi-sim"), "tapo", "--host", "127.0.0.1",
                           "--port", str(p["plug"]), "--power", str(ONLINE_WATTS),
                           "--username", PLUG_USER]),
         f"http://127.0.0.1:{p['plug']}/sim/state"),
        (pihole_demo.pihole_process(BIN, logs, work / "pihole", api_port=p["pihole_api"],
                                    dns_port=p["pihole_dns"]),
         f"http://127.0.0.1:{p['pihole_api']}/sim/state"),
        (proc("sim-nas", [str(BIN / "balupi-sim"), "nas", "--port", str(p["nas"]),
                          "--control-port", str(p["nas_control"]), "--wol-port", str(p["wol"]),
                          "--mac", NAS_MAC, "--boot-seconds", "0.5", "--pi-url", handshake_url]),
         f"http://127.0.0.1:{p['nas_control']}/sim/state"),
        (proc("handshake", [str(BIN / "balupi-handshake"), "--config", str(config)]),
         f"{handshake_url}/api/health"),
        (proc("exporter", [str(BIN / "balupi-exporter"), "--config", str(config)]),
         f"http://127.0.0.1:{p['exporter']}/"),
        (proc("node-exporter", [node_exporter_binary(),
                                f"--web.listen-address=127.0.0.1:{p['node']}"]),
         f"http://127.0.0.1:{p['node']}/metrics"),
        (prometheus, f"{prometheus.url}/-/ready"),
    ]  # fmt: skip


def post(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    # The wake button's header (sent to the simulators too, who ignore it).
    request = urllib.request.Request(url, data=data, headers=DASHBOARD_HEADERS)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _sleep_and_wake(prometheus: Prometheus, p: dict[str, int]) -> None:
    """One announced shutdown and one wake, each seen by Prometheus and its rules."""
    plug = f"http://127.0.0.1:{p['plug']}/sim/control"
    nas_control = f"http://127.0.0.1:{p['nas_control']}/sim/control"
    has = prometheus.query
    wait_for(
        lambda: has('balupi_nas_state{state="online"} == 1'), timeout=30, what="the NAS online"
    )
    wait_for(
        lambda: has("balupi:nas_power_watts:online"), timeout=30, what="power while online recorded"
    )
    post(nas_control, {"action": "shutdown"})
    post(plug, {"power_watts": ASLEEP_WATTS})
    wait_for(
        lambda: has("balupi:nas_power_watts:asleep"), timeout=30, what="power while asleep recorded"
    )
    post(plug, {"power_watts": ONLINE_WATTS})
    post(f"http://127.0.0.1:{p['handshake']}/api/wake-nas")
    wait_for(
        lambda: has('balupi_nas_wakes_total{result="success"} == 1'),
        timeout=30,
        what="the wake scraped",
    )
    wait_for(
        lambda: has('balupi_nas_state{state="online"} == 1'),
        timeout=30,
        what="the NAS online again",
    )
    # The rules built on other rules lag one evaluation behind; wait for the last of them.
    last = ("balupi:nas_wakes:increase1d", "balupi:energy_cost:increase30d",
            "balupi:nas_power_watts:avg_asleep_1d", "balupi:pihole_blocked:ratio")  # fmt: skip
    for rule in last:
        wait_for(functools.partial(has, rule), timeout=30, what=f"{rule} evaluated")


@contextlib.contextmanager
def running_stack(work: Path) -> Iterator[MonitoringStack]:
    names = ["plug", "pihole_api", "pihole_dns", "nas", "nas_control", "handshake", "exporter",
             "node", "prometheus", "alertmanager"]  # fmt: skip
    ports = {name: free_port() for name in names} | {"wol": free_udp_port()}
    (work / "inbox").mkdir(parents=True)
    (work / "inbox" / "scan-0001.pdf").write_bytes(b"%PDF-1.4 waiting for the NAS\n")
    started = time.time()
    with contextlib.ExitStack() as running:  # every child stops, whatever fails
        prometheus = None
        for proc, ready_url in _processes(work, ports):
            proc.start()
            running.callback(proc.stop)
            proc.wait_http(ready_url, timeout=30)
            prometheus = proc
        assert isinstance(prometheus, Prometheus)
        _sleep_and_wake(prometheus, ports)
        yield MonitoringStack(
            prometheus, work, started, f"http://127.0.0.1:{ports['plug']}/sim/control"
        )


@pytest.fixture(scope="session")
def monitoring_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoringStack]:
    for tool in ("prometheus", "prometheus-node-exporter"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: run make system-deps")
    with running_stack(tmp_path_factory.mktemp("monitoring")) as stack:
        yield stack


def reads(prometheus: Prometheus, expr: str, expected: float) -> bool:
    """Whether Prometheus answers ``expected`` (to 0.01) for ``expr`` now."""
    result = prometheus.query(expr)
    return bool(result) and abs(float(result[0]["value"][1]) - expected) < 0.01


def wait_reads(prometheus: Prometheus, expr: str, expected: float, timeout: float = 30) -> None:
    """Wait until Prometheus answers ``expected`` for ``expr`` (one query per poll)."""
    wait_for(
        lambda: reads(prometheus, expr, expected),
        what=f"{expr} == {expected}",
        timeout=timeout,
        interval=0.2,
    )
