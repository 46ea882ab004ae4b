"""The dashboard's whole stack on free loopback ports, for the nginx and browser tests and benches.

The demo's parts (simulated plug, Pi-hole and NAS, balupi-exporter, balupi-handshake with an
inbox that rsync moves to Debian's sshd standing in for the NAS's disk, node_exporter,
Prometheus with BaluPi's rules) plus Debian's nginx serving the site, with short timings
(scrapes, rules and heartbeats each second or faster) so that a change shows within seconds.
Each part can be stopped and started again on its port, as a test needs.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from balupi.devstack import pihole_demo
from balupi.devstack.demo import node_exporter_binary, tapo_config
from balupi.devstack.demo_handshake import NAS_MAC, handshake_config
from balupi.devstack.history import backfill_house
from balupi.devstack.history_series import Targets
from balupi.devstack.nginx import FRONTEND_DIST, Nginx, SiteValues
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config, render_rules
from balupi.devstack.sshd import SshServer

BIN = Path(sys.executable).parent
PLUG_USER, PLUG_PASSWORD = "dashboard@balupi.local", "dashboard-test-password"
SECRET = "dashboard-test-handshake-secret-0123456789"  # noqa: S105 - a test secret
ENV = {
    "BALUPI_SIM_TAPO_PASSWORD": PLUG_PASSWORD,
    "BALUPI_TAPO_PASSWORD": PLUG_PASSWORD,
    "BALUPI_HANDSHAKE_SECRET": SECRET,
    **pihole_demo.ENV,
}
ONLINE_WATTS = 40.0  # whole watts: the plug's get_current_power rounds
PORT_NAMES = ("plug", "pihole_api", "pihole_dns", "nas", "nas_control", "nas_ssh", "handshake",
              "exporter", "node", "prometheus", "nginx")  # fmt: skip
# Faster than the demo's: a killed NAS is "unreachable" after about a second.
FAST_HEARTBEAT = """heartbeat_interval_seconds = 0.5
heartbeat_retry_seconds = 0.2
heartbeat_timeout_seconds = 1.0
wake_poll_seconds = 0.2
"""


@dataclass
class DashboardStack:
    work: Path
    ports: dict[str, int]
    parts: dict[str, ManagedProcess] = field(default_factory=dict)
    ready_urls: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The dashboard, as a browser opens it."""
        return f"http://127.0.0.1:{self.ports['nginx']}"

    @property
    def prometheus(self) -> Prometheus:
        prometheus = self.parts["prometheus"]
        assert isinstance(prometheus, Prometheus)
        return prometheus

    @property
    def nginx(self) -> Nginx:
        nginx = self.parts["nginx"]
        assert isinstance(nginx, Nginx)
        return nginx

    @property
    def snapshot_dir(self) -> Path:
        return self.work / "handshake" / "snapshot"

    @property
    def inbox(self) -> Path:
        """The inbox folder (Samba's on the Pi): a file put here waits for the NAS."""
        return self.work / "handshake" / "inbox"

    @property
    def nas_disk(self) -> Path:
        """Where the inbox's files arrive on the NAS side (over the NAS's sshd)."""
        return self.work / "nas-disk" / "inbox-from-pi"

    def start(self, name: str, timeout: float = 60) -> None:
        part = self.parts[name]
        part.start()
        if isinstance(part, Nginx | SshServer):
            part.wait_ready(timeout)
        else:
            part.wait_http(self.ready_urls[name], timeout=timeout)

    def stop(self, name: str) -> None:
        part = self.parts[name]
        if isinstance(part, SshServer):
            part.stop_all()  # the NAS goes away: its SSH sessions too
        else:
            part.stop()

    def set_plug_watts(self, watts: float) -> None:
        _post(f"http://127.0.0.1:{self.ports['plug']}/sim/control", {"power_watts": watts})

    def nas_control(self, action: str) -> dict:
        """``shutdown`` (announced, with BaluHost's snapshot), ``kill``, ``hang``, ``revive``."""
        return _post(f"http://127.0.0.1:{self.ports['nas_control']}/sim/control",
                     {"action": action})  # fmt: skip

    def nas_state(self) -> str:
        url = f"http://127.0.0.1:{self.ports['nas_control']}/sim/state"
        with urllib.request.urlopen(url, timeout=5) as answer:
            return str(json.load(answer)["state"])


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode())  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return dict(json.load(answer))


def _build(stack: DashboardStack, frontend_dist: Path) -> None:
    """Every part in start order, each with the URL that answers once it is ready."""
    work, p = stack.work, stack.ports
    logs = work / "logs"
    config = work / "balupi.toml"
    handshake = handshake_config(
        work / "handshake", handshake_port=p["handshake"], nas_port=p["nas"], wol_port=p["wol"],
        heartbeat_interval=0.5, wake_min_interval=0,
    ).replace("heartbeat_interval_seconds = 0.5\n", FAST_HEARTBEAT)  # fmt: skip
    nas_ssh = SshServer(work / "nas-ssh", port=p["nas_ssh"])
    for folder in (stack.inbox, stack.nas_disk):
        folder.mkdir(parents=True, exist_ok=True)
    config.write_text(
        tapo_config(exporter_port=p["exporter"], plug_port=p["plug"], user=PLUG_USER)
        + pihole_demo.pihole_config(p["pihole_api"])
        + handshake
        + _inbox_config(stack, nas_ssh)
    )
    handshake_url = f"http://127.0.0.1:{p['handshake']}"

    def add(name: str, proc: ManagedProcess, ready_url: str = "") -> None:
        stack.parts[name] = proc
        stack.ready_urls[name] = ready_url

    def proc(name: str, argv: list[str]) -> ManagedProcess:
        return ManagedProcess(name, argv, log_path=logs / f"{name}.log", env=ENV)

    add("plug", proc("sim-tapo", [str(BIN / "balupi-sim"), "tapo", "--host", "127.0.0.1",
                                  "--port", str(p["plug"]), "--power", str(ONLINE_WATTS),
                                  "--username", PLUG_USER]),
        f"http://127.0.0.1:{p['plug']}/sim/state")  # fmt: skip
    add("pihole", pihole_demo.pihole_process(BIN, logs, work / "pihole", api_port=p["pihole_api"],
                                             dns_port=p["pihole_dns"]),
        f"http://127.0.0.1:{p['pihole_api']}/sim/state")  # fmt: skip
    add("nas", proc("sim-nas", [str(BIN / "balupi-sim"), "nas", "--port", str(p["nas"]),
                                "--control-port", str(p["nas_control"]), "--wol-port",
                                str(p["wol"]), "--mac", NAS_MAC, "--boot-seconds", "2",
                                "--pi-url", f"http://127.0.0.1:{p['nginx']}",
                                # the plug reads what the NAS draws (2 W asleep)
                                "--plug-control", f"http://127.0.0.1:{p['plug']}/sim/control",
                                "--online-watts", str(ONLINE_WATTS)]),
        f"http://127.0.0.1:{p['nas_control']}/sim/state")  # fmt: skip
    add("nas_ssh", nas_ssh)
    add("handshake", proc("handshake", [str(BIN / "balupi-handshake"), "--config", str(config)]),
        f"{handshake_url}/api/health")  # fmt: skip
    add("exporter", proc("exporter", [str(BIN / "balupi-exporter"), "--config", str(config)]),
        f"http://127.0.0.1:{p['exporter']}/")  # fmt: skip
    add("node", proc("node-exporter", [node_exporter_binary(),
                                       f"--web.listen-address=127.0.0.1:{p['node']}"]),
        f"http://127.0.0.1:{p['node']}/metrics")  # fmt: skip
    targets = {
        "localhost:9877": f"127.0.0.1:{p['exporter']}",
        "localhost:8000": f"127.0.0.1:{p['handshake']}",
        "localhost:9090": f"127.0.0.1:{p['prometheus']}",
        "localhost:9100": f"127.0.0.1:{p['node']}",
        "localhost:9093": f"127.0.0.1:{free_port()}",  # no Alertmanager: no alert leaves
    }
    rules = render_rules(work / "rules", interval="1s")
    prometheus = Prometheus(
        work / "prometheus",
        render_config(targets, scrape_interval="1s", evaluation_interval="1s", rules_dir=rules),
        port=p["prometheus"],
        retention="90d",  # the Pi's: keeps a backfilled month
    )
    add("prometheus", prometheus, f"{prometheus.url}/-/ready")
    values = SiteValues(port=p["nginx"], handshake_port=p["handshake"],
                        prometheus_port=p["prometheus"], frontend_dist=frontend_dist,
                        snapshot_dir=stack.snapshot_dir)  # fmt: skip
    add("nginx", Nginx(work / "nginx", values))


def _inbox_config(stack: DashboardStack, nas: SshServer) -> str:
    """[inbox]: files move when the NAS comes online or a person presses "move now", never on
    a timer during a test (a day's interval), and as soon as they are there (no settle time)."""
    return f"""
[inbox]
nas_host = "127.0.0.1"
nas_port = {nas.port}
nas_user = "{nas.user}"
nas_path = "{stack.nas_disk}"
ssh_key_file = "{nas.client_key}"
known_hosts_file = "{nas.known_hosts}"
path = "{stack.inbox}"
staging_path = "{stack.work / "handshake" / ".inbox-staging"}"
settle_seconds = 0
interval_seconds = 86400
connect_timeout_seconds = 5
"""


def history_targets(stack: DashboardStack) -> Targets:
    """The labels of this stack's live series, for a history that goes on as them."""
    return Targets(
        handshake=f'instance="127.0.0.1:{stack.ports["handshake"]}",job="handshake"',
        tapo=f'instance="127.0.0.1:{stack.ports["exporter"]}",job="tapo"',
        # balupi-exporter names Pi-hole by the host it reads ([pihole] url: the simulator's).
        pihole=f'hostname="127.0.0.1",instance="127.0.0.1:{stack.ports["exporter"]}",job="pihole"',
        plugs=("nas",),  # the stack's one plug
    )


@contextlib.contextmanager
def running_stack(
    work: Path, *, frontend_dist: Path = FRONTEND_DIST, history_days: int = 0
) -> Iterator[DashboardStack]:
    """Starts every part; the NAS first, running (it announces itself through nginx's /api/).
    With ``history_days``, Prometheus starts with that much simulated history up to now."""
    ports = {name: free_port() for name in PORT_NAMES} | {"wol": free_udp_port()}
    stack = DashboardStack(work, ports)
    _build(stack, frontend_dist)
    if history_days:
        backfill_house(stack.prometheus.data_dir, history_targets(stack), days=history_days,
                       workdir=work / "history")  # fmt: skip
    order = ["plug", "pihole", "nas", "nas_ssh", "handshake", "nginx", "exporter", "node",
             "prometheus"]  # fmt: skip
    with contextlib.ExitStack() as running:  # every child stops, whatever fails
        for name in order:
            running.callback(stack.stop, name)
            stack.start(name)
        yield stack
