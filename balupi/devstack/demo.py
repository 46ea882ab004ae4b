"""``make demo``: the whole BaluPi stack on this machine, with simulated hardware.

Starts a simulated Tapo P110 (speaking KLAP like a real one), a simulated Pi-hole v6 with a real
dnsmasq, a simulated NAS, balupi-exporter, balupi-handshake, and Debian's node_exporter,
Alertmanager and Prometheus (with BaluPi's rules), Debian's smbd serving the SMB inbox and
Debian's sshd standing in for the NAS's disk, and Debian's nginx serving the dashboard in front
of them (nginx/balupi.conf), on the documented loopback ports, all from one config file as on a
Pi; prints the dashboard's link first, then where else to look, and stops everything on Ctrl-C
or SIGTERM.

On its first start (no history kept in the state folder yet) Prometheus starts with a month
of simulated history under the demo's own labels (``--history-days``), so the charts, today's
and this month's energy and the per-day usage have a past; later starts keep what the demo
recorded. ``--state-dir`` and ``--port-base`` run a second demo beside the first (the demo's
test does), with its own state and its own ports.
"""

from __future__ import annotations

import argparse
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
from balupi.devstack.demo_ports import SPAN, DemoPorts
from balupi.devstack.history import backfill_house
from balupi.devstack.history_series import Targets
from balupi.devstack.nginx import FRONTEND_DIST, Nginx, SiteValues
from balupi.devstack.process import ManagedProcess, StartError
from balupi.devstack.prometheus import REPO, Prometheus, render_config

DEMO_DIR = REPO / ".demo"  # the demo's state, unless --state-dir
HISTORY_DAYS = 30  # a month: the 30-day chart and "this month" have a past
PI_RETENTION = "90d"  # systemd/prometheus drop-in on the Pi
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


def prometheus_targets(ports: DemoPorts) -> dict[str, str]:
    """prometheus.yml's addresses (the documented ports) -> this demo's."""
    default = DemoPorts()
    return {
        f"localhost:{getattr(default, name)}": f"localhost:{getattr(ports, name)}"
        for name in ("exporter", "handshake", "prometheus", "node_exporter", "alertmanager")
    }


def _parts(
    state: Path, config: Path, ports: DemoPorts, webhook: str
) -> list[tuple[ManagedProcess, str]]:
    """Every process in start order, each with the URL that answers once it is ready."""
    bin_dir = Path(sys.executable).parent
    logs = state / "logs"
    plug = ManagedProcess(
        "simulated plug",
        [str(bin_dir / "balupi-sim"), "tapo", "--host", "127.0.0.1",
         "--port", str(ports.plug), "--power", str(demo_handshake.ONLINE_WATTS),
         "--username", PLUG_USER],
        log_path=logs / "sim-tapo.log", env=ENV,
    )  # fmt: skip
    pihole = pihole_demo.pihole_process(
        bin_dir, logs, state / "pihole", api_port=ports.pihole_api, dns_port=ports.pihole_dns
    )
    exporter = ManagedProcess(
        "balupi-exporter",
        [str(bin_dir / "balupi-exporter"), "--config", str(config)],
        log_path=logs / "exporter.log", env=ENV,
    )  # fmt: skip
    node = ManagedProcess(
        "node_exporter",
        [node_exporter_binary(), f"--web.listen-address=127.0.0.1:{ports.node_exporter}"],
        log_path=logs / "node-exporter.log",
    )
    # Alertmanager remembers what it already notified (for repeat_interval, hours): a demo
    # started again would stay silent about an outage it reported last time.
    shutil.rmtree(state / "alertmanager" / "data", ignore_errors=True)
    alertmanager = Alertmanager(
        state / "alertmanager", render_alertmanager(webhook), port=ports.alertmanager
    )
    # The Pi's retention, so a backfilled month (and what the demo records) is kept.
    prometheus = Prometheus(
        state / "prometheus",
        render_config(prometheus_targets(ports)),
        port=ports.prometheus,
        retention=PI_RETENTION,
    )
    nginx = Nginx(
        state / "nginx",
        SiteValues(port=ports.dashboard, handshake_port=ports.handshake,
                   prometheus_port=ports.prometheus, frontend_dist=FRONTEND_DIST,
                   snapshot_dir=state / "handshake" / "snapshot"),
    )  # fmt: skip
    return [
        (plug, f"http://127.0.0.1:{ports.plug}/sim/state"),
        (pihole, f"http://127.0.0.1:{ports.pihole_api}/sim/state"),
        # After Pi-hole: the handshake sets its record.
        *demo_handshake.handshake_parts(config, logs, ENV, ports),
        (exporter, f"http://127.0.0.1:{ports.exporter}/"),
        (node, f"http://127.0.0.1:{ports.node_exporter}/metrics"),
        (alertmanager, f"{alertmanager.url}/-/ready"),
        (prometheus, f"{prometheus.url}/-/ready"),
        (nginx, f"{nginx.url}/api/health"),  # the dashboard, in front of all of them
    ]


def history_targets(ports: DemoPorts) -> Targets:
    """The labels of the demo's live series, for a history that goes on as them."""
    return Targets(
        handshake=f'instance="localhost:{ports.handshake}",job="handshake"',
        tapo=f'instance="localhost:{ports.exporter}",job="tapo"',
        # balupi-exporter names Pi-hole by the host it reads ([pihole] url: the simulator's).
        pihole=f'hostname="127.0.0.1",instance="localhost:{ports.exporter}",job="pihole"',
        plugs=("nas",),  # tapo_config's one plug
    )


def _backfill_first_start(prometheus: Prometheus, state: Path, ports: DemoPorts, days: int) -> None:
    """A month of the house before the first start; later starts keep their own history."""
    if days <= 0 or any(prometheus.data_dir.glob("*")):
        return
    backfill_house(prometheus.data_dir, history_targets(ports), days=days,
                   workdir=state / "history-backfill")  # fmt: skip
    shutil.rmtree(state / "history-backfill", ignore_errors=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m balupi.devstack.demo", description=__doc__)
    parser.add_argument(
        "--state-dir", type=Path, default=DEMO_DIR,
        help="where the demo keeps its config, state, history and logs (default: .demo/)",
    )  # fmt: skip
    parser.add_argument(
        "--history-days", type=int, default=HISTORY_DAYS,
        help="on the first start (no history kept yet), backfill this many days of simulated "
             f"history so the charts and figures have a past (default: {HISTORY_DAYS}; 0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--port-base", type=int, default=None,
        help=f"listen on PORT_BASE .. PORT_BASE+{SPAN - 1} instead of the documented ports",
    )  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        ports = DemoPorts() if args.port_base is None else DemoPorts.from_base(args.port_base)
    except ValueError as err:
        print(f"--port-base: {err}", file=sys.stderr)
        return 2
    state: Path = args.state_dir.resolve()
    if taken := ports.taken():
        print("The demo cannot start, these ports are already in use:", file=sys.stderr)
        for line in taken:
            print(f"  - {line}", file=sys.stderr)
        print("Stop what holds them (`ss -ltnp` shows it), then run `make demo` again; or run a "
              "second demo beside it with --state-dir DIR --port-base PORT.",
              file=sys.stderr)  # fmt: skip
        return 2

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    state.mkdir(parents=True, exist_ok=True)
    config = state / "balupi.toml"
    try:
        inbox = demo_inbox.InboxDemo(state, ports)
    except FileNotFoundError as err:  # smbd or sshd not installed
        print(f"\nThe demo could not start: {err}", file=sys.stderr)
        return 1
    config.write_text(
        tapo_config(exporter_port=ports.exporter, plug_port=ports.plug)
        + pihole_demo.pihole_config(ports.pihole_api)
        + demo_handshake.handshake_config(
            state / "handshake", handshake_port=ports.handshake, nas_port=ports.nas,
            wol_port=ports.wol,
        )
        + inbox.config()
    )  # fmt: skip
    started: list[ManagedProcess] = []
    alerts = AlertPrinter(ports.webhook)
    alerts.start()
    logs = state / "logs"
    try:
        parts = _parts(state, config, ports, alerts.url)
        _backfill_first_start(next(p for p, _ in parts if isinstance(p, Prometheus)), state,
                              ports, args.history_days)  # fmt: skip
        for proc, ready_url in parts:
            _start(proc, started, ready_url)
        prometheus = next(p for p in started if isinstance(p, Prometheus))
        inbox.start(started)
        _wait_for_power(prometheus, stop, logs)
        print(f"\nThe dashboard (open it in a browser): {ports.dashboard_url}/", flush=True)
        print(f"\n{inbox.where_to_look()}", flush=True)
        _print_where_to_look(ports)
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
        print(f"Stopped. Logs are in {_shown(logs)}/.")


def _start(proc: ManagedProcess, started: list[ManagedProcess], ready_url: str) -> None:
    print(f"Starting {proc.name} ...", end=" ", flush=True)
    t0 = time.monotonic()
    started.append(proc.start())
    proc.wait_http(ready_url, timeout=60)
    print(f"ready ({time.monotonic() - t0:.1f} s)", flush=True)


def _wait_for_power(prometheus: Prometheus, stop: threading.Event, logs: Path) -> None:
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
    print(f" (not yet: see {_shown(logs)}/)", flush=True)


def _shown(path: Path) -> str:
    """A path as the user typed it: relative to the checkout where it lies inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _print_where_to_look(ports: DemoPorts) -> None:
    prom_url = ports.prometheus_url
    plug = f"http://127.0.0.1:{ports.plug}"
    exporter = f"http://127.0.0.1:{ports.exporter}"
    graph = f"{prom_url}/graph?g0.expr=tapo_power_watts&g0.tab=0&g0.range_input=15m"
    print(
        f"""
BaluPi demo is running (simulated hardware, loopback only):
  Power in Prometheus:  {graph}
  Exporter metrics:     {exporter}/metrics?collect[]=tapo
  Simulated plug state: {plug}/sim/state
The plug reads what the simulated NAS draws (38 W running, 2 W asleep, more while it boots);
change the draw and watch the graph follow (until the NAS's next change of state):
  curl -X POST {plug}/sim/control -d '{{"power_watts": 45}}'
{pihole_demo.where_to_look(prom_url, ports.pihole_api, ports.pihole_dns)}
{demo_handshake.where_to_look(ports)}
Press Ctrl-C to stop everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
