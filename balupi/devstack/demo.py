"""``make demo``: the whole BaluPi stack on this machine, with simulated hardware.

Starts a simulated Tapo P110 (speaking KLAP like a real one), a simulated Pi-hole v6 with a real
dnsmasq, a simulated NAS, balupi-exporter, balupi-handshake, and Debian's node_exporter,
Alertmanager and Prometheus (with BaluPi's rules), Debian's smbd serving the SMB inbox and
Debian's sshd standing in for the NAS's disk, and Debian's nginx serving the dashboard in front
of them (nginx/balupi.conf), on the documented loopback ports, all from one config file as on a
Pi; prints the dashboard's link first, then where else to look, and
stops everything on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from balupi.devstack import demo_handshake, demo_inbox, pihole_demo
from balupi.devstack.alert_printer import AlertPrinter
from balupi.devstack.alertmanager import Alertmanager
from balupi.devstack.alertmanager import render_config as render_alertmanager
from balupi.devstack.nginx import FRONTEND_DIST, Nginx, SiteValues
from balupi.devstack.ports import port_in_use
from balupi.devstack.process import ManagedProcess, StartError
from balupi.devstack.prometheus import REPO, Prometheus, render_config

PORTS = {
    "balupi-exporter": 9877,
    "prometheus": 9090,
    "alertmanager": 9093,
    "node_exporter": 9100,
    "alert webhook": 8123,
    "simulated plug": 9999,
    "dashboard (nginx)": 8088,  # port 80 on a Pi
    **pihole_demo.PORTS,
    **demo_handshake.PORTS,
    **demo_inbox.PORTS,
}
DEMO_DIR = REPO / ".demo"
DASHBOARD_URL = f"http://127.0.0.1:{PORTS['dashboard (nginx)']}"
# The simulated plug's account; a demo secret, handed over in the environment as on a Pi.
PLUG_USER = "demo@balupi.local"
PLUG_PASSWORD = "demo-password"  # noqa: S105 - a simulator's password, not a real one
ENV = {
    "BALUPI_SIM_TAPO_PASSWORD": PLUG_PASSWORD,
    "BALUPI_TAPO_PASSWORD": PLUG_PASSWORD,
    **pihole_demo.ENV,
    **demo_handshake.ENV,
}


def tapo_config(*, exporter_port: int, plug_port: int, user: str = PLUG_USER) -> str:
    """The demo config's [exporter] and [tapo] sections (one simulated plug, the NAS's)."""
    return f"""\
[exporter]
listen_host = "127.0.0.1"
listen_port = {exporter_port}

[tapo]
username = "{user}"
password_env = "BALUPI_TAPO_PASSWORD"
price_per_kwh = 0.32

[[tapo.plugs]]
name = "nas"
host = "127.0.0.1"
port = {plug_port}
"""


def node_exporter_binary() -> str:
    found = shutil.which("prometheus-node-exporter")
    if not found:
        raise FileNotFoundError("prometheus-node-exporter is not installed: run `make system-deps`")
    return found


def ports_taken() -> list[str]:
    return [f"{name} needs 127.0.0.1:{port}" for name, port in PORTS.items() if port_in_use(port)]


def _parts(config: Path, logs: Path, webhook: str) -> list[tuple[ManagedProcess, str]]:
    """Every process in start order, each with the URL that answers once it is ready."""
    bin_dir = Path(sys.executable).parent
    plug = ManagedProcess(
        "simulated plug",
        [str(bin_dir / "balupi-sim"), "tapo", "--host", "127.0.0.1",
         "--port", str(PORTS["simulated plug"]), "--power", "38.5", "--username", PLUG_USER],
        log_path=logs / "sim-tapo.log", env=ENV,
    )  # fmt: skip
    pihole = pihole_demo.pihole_process(bin_dir, logs, DEMO_DIR / "pihole")
    exporter = ManagedProcess(
        "balupi-exporter",
        [str(bin_dir / "balupi-exporter"), "--config", str(config)],
        log_path=logs / "exporter.log", env=ENV,
    )  # fmt: skip
    node = ManagedProcess(
        "node_exporter",
        [node_exporter_binary(), f"--web.listen-address=127.0.0.1:{PORTS['node_exporter']}"],
        log_path=logs / "node-exporter.log",
    )
    # Alertmanager remembers what it already notified (for repeat_interval, hours): a demo
    # started again would stay silent about an outage it reported last time.
    shutil.rmtree(DEMO_DIR / "alertmanager" / "data", ignore_errors=True)
    alertmanager = Alertmanager(
        DEMO_DIR / "alertmanager", render_alertmanager(webhook), port=PORTS["alertmanager"]
    )
    prometheus = Prometheus(DEMO_DIR / "prometheus", render_config({}), port=PORTS["prometheus"])
    nginx = Nginx(
        DEMO_DIR / "nginx",
        SiteValues(port=PORTS["dashboard (nginx)"], handshake_port=PORTS["balupi-handshake"],
                   prometheus_port=PORTS["prometheus"], frontend_dist=FRONTEND_DIST,
                   snapshot_dir=DEMO_DIR / "handshake" / "snapshot"),
    )  # fmt: skip
    return [
        (plug, f"http://127.0.0.1:{PORTS['simulated plug']}/sim/state"),
        (pihole, pihole_demo.READY_URL),
        *demo_handshake.handshake_parts(config, logs, ENV),  # after Pi-hole: it sets the record
        (exporter, f"http://127.0.0.1:{PORTS['balupi-exporter']}/"),
        (node, f"http://127.0.0.1:{PORTS['node_exporter']}/metrics"),
        (alertmanager, f"{alertmanager.url}/-/ready"),
        (prometheus, f"{prometheus.url}/-/ready"),
        (nginx, f"{nginx.url}/api/health"),  # the dashboard, in front of all of them
    ]


def main() -> int:
    if taken := ports_taken():
        print("The demo cannot start, these ports are already in use:", file=sys.stderr)
        for line in taken:
            print(f"  - {line}", file=sys.stderr)
        print("Stop what holds them (`ss -ltnp` shows it), then run `make demo` again.",
              file=sys.stderr)  # fmt: skip
        return 2

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    DEMO_DIR.mkdir(exist_ok=True)
    logs = DEMO_DIR / "logs"
    config = DEMO_DIR / "balupi.toml"
    try:
        inbox = demo_inbox.InboxDemo(DEMO_DIR)
    except FileNotFoundError as err:  # smbd or sshd not installed
        print(f"\nThe demo could not start: {err}", file=sys.stderr)
        return 1
    config.write_text(
        tapo_config(exporter_port=PORTS["balupi-exporter"], plug_port=PORTS["simulated plug"])
        + pihole_demo.pihole_config()
        + demo_handshake.handshake_config(DEMO_DIR / "handshake")
        + inbox.config()
    )
    started: list[ManagedProcess] = []
    alerts = AlertPrinter(PORTS["alert webhook"])
    alerts.start()
    try:
        for proc, ready_url in _parts(config, logs, alerts.url):
            _start(proc, started, ready_url)
        prometheus = next(p for p in started if isinstance(p, Prometheus))
        inbox.start(started)
        _wait_for_power(prometheus, stop)
        print(f"\nThe dashboard (open it in a browser): {DASHBOARD_URL}/", flush=True)
        print(f"\n{inbox.where_to_look()}", flush=True)
        _print_where_to_look(prometheus.url)
        while not stop.wait(1):
            for proc in started:
                if not proc.running:
                    print(f"\n{proc.name} stopped unexpectedly:\n{proc.log_tail()}",
                          file=sys.stderr)  # fmt: skip
                    return 1
        return 0
    except (StartError, FileNotFoundError) as err:
        print(f"\nThe demo could not start: {err}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping the demo ...", flush=True)
        for proc in reversed(started):
            proc.stop()
        alerts.stop()
        print("Stopped. Logs are in .demo/logs/.")


def _start(proc: ManagedProcess, started: list[ManagedProcess], ready_url: str) -> None:
    print(f"Starting {proc.name} ...", end=" ", flush=True)
    t0 = time.monotonic()
    started.append(proc.start())
    proc.wait_http(ready_url, timeout=60)
    print(f"ready ({time.monotonic() - t0:.1f} s)", flush=True)


def _wait_for_power(prometheus: Prometheus, stop: threading.Event) -> None:
    """Show progress until Prometheus has scraped the plug's power for the first time."""
    print("Waiting for Prometheus's first scrape of the plug ", end="", flush=True)
    t0 = time.monotonic()
    while not stop.is_set() and time.monotonic() - t0 < 60:
        # A fresh sample: the demo's TSDB keeps earlier runs' history.
        if prometheus.query("tapo_power_watts and (time() - timestamp(tapo_power_watts) < 20)"):
            print(f" seen after {time.monotonic() - t0:.0f} s", flush=True)
            return
        print(".", end="", flush=True)
        stop.wait(1)
    print(" (not yet: see .demo/logs/)", flush=True)


def _print_where_to_look(prom_url: str) -> None:
    plug = f"http://127.0.0.1:{PORTS['simulated plug']}"
    exporter = f"http://127.0.0.1:{PORTS['balupi-exporter']}"
    graph = f"{prom_url}/graph?g0.expr=tapo_power_watts&g0.tab=0&g0.range_input=15m"
    print(
        f"""
BaluPi demo is running (simulated hardware, loopback only):
  Power in Prometheus:  {graph}
  Exporter metrics:     {exporter}/metrics?collect[]=tapo
  Simulated plug state: {plug}/sim/state
Change the simulated NAS's draw and watch the graph follow:
  curl -X POST {plug}/sim/control -d '{{"power_watts": 45}}'
{pihole_demo.where_to_look(prom_url)}
{demo_handshake.where_to_look(pihole_demo.PIHOLE_DNS_PORT)}
Press Ctrl-C to stop everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
