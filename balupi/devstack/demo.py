"""``make demo``: the whole BaluPi stack on this machine, with simulated hardware.

Starts a simulated Tapo P110 (speaking KLAP like a real one), balupi-exporter, Debian's
Prometheus, Debian's smbd serving the share and the inbox, and Debian's sshd standing in for the
NAS's disk, on the documented loopback ports; prints where to look, and stops everything on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import getpass
import signal
import sys
import threading
import time
from pathlib import Path

from balupi.devstack.ports import port_in_use
from balupi.devstack.process import ManagedProcess, StartError
from balupi.devstack.prometheus import PROMETHEUS_YML, REPO, Prometheus
from balupi.devstack.samba import SambaServer
from balupi.devstack.sshd import SshServer

PORTS = {
    "balupi-exporter": 9877,
    "prometheus": 9090,
    "simulated plug": 9999,
    "smbd (share and inbox)": 4450,
    "sshd (the NAS's disk)": 2222,
}
SMB_PASSWORD = "demo-password"  # noqa: S105 - the demo's own Samba account, loopback only
DEMO_DIR = REPO / ".demo"
# The simulated plug's account; a demo secret, handed over in the environment as on a Pi.
PLUG_USER = "demo@balupi.local"
PLUG_PASSWORD = "demo-password"  # noqa: S105 - a simulator's password, not a real one


def _config(plug_port: int, exporter_port: int) -> str:
    return f"""\
[exporter]
listen_host = "127.0.0.1"
listen_port = {exporter_port}

[tapo]
username = "{PLUG_USER}"
password_env = "BALUPI_TAPO_PASSWORD"

[[tapo.plugs]]
name = "nas"
host = "127.0.0.1"
port = {plug_port}
"""


def main() -> int:
    taken = [f"{name} needs 127.0.0.1:{port}" for name, port in PORTS.items() if port_in_use(port)]
    if taken:
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
    config.write_text(_config(PORTS["simulated plug"], PORTS["balupi-exporter"]))
    nas = SshServer(DEMO_DIR / "sshd", port=PORTS["sshd (the NAS's disk)"])
    smb = _samba()
    inbox = _inbox_config(nas)
    with config.open("a") as out:
        out.write(inbox)
    # The same [inbox] alone, for `balupi inbox ...` by hand (no plug password needed).
    inbox_config = DEMO_DIR / "inbox.toml"
    inbox_config.write_text(inbox)
    bin_dir = Path(sys.executable).parent
    secret = {"BALUPI_SIM_TAPO_PASSWORD": PLUG_PASSWORD, "BALUPI_TAPO_PASSWORD": PLUG_PASSWORD}

    plug = ManagedProcess(
        "simulated plug",
        [str(bin_dir / "balupi-sim"), "tapo", "--host", "127.0.0.1",
         "--port", str(PORTS["simulated plug"]), "--power", "38.5", "--username", PLUG_USER],
        log_path=logs / "sim-tapo.log", env=secret,
    )  # fmt: skip
    exporter = ManagedProcess(
        "balupi-exporter",
        [str(bin_dir / "balupi-exporter"), "--config", str(config)],
        log_path=logs / "exporter.log", env=secret,
    )  # fmt: skip
    prometheus = Prometheus(
        DEMO_DIR / "prometheus", PROMETHEUS_YML.read_text(), port=PORTS["prometheus"]
    )
    started: list[ManagedProcess] = []
    try:
        _start(plug, started, f"http://127.0.0.1:{PORTS['simulated plug']}/sim/state")
        _start(exporter, started, f"http://127.0.0.1:{PORTS['balupi-exporter']}/")
        _start(prometheus, started, f"{prometheus.url}/-/ready")
        for server in (smb, nas):
            print(f"Starting {server.name} ...", end=" ", flush=True)
            started.append(server.start())
            server.wait_ready()
            print("ready", flush=True)
        _wait_for_power(prometheus, stop)
        _print_inbox(smb, inbox_config)
        _print_where_to_look(prometheus.url)
        while not stop.wait(1):
            for proc in started:
                if not proc.running:
                    print(f"\n{proc.name} stopped unexpectedly:\n{proc.log_tail()}",
                          file=sys.stderr)  # fmt: skip
                    return 1
        return 0
    except StartError as err:
        print(f"\nThe demo could not start: {err}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping the demo ...", flush=True)
        for proc in reversed(started):
            proc.stop()
        print("Stopped. Logs are in .demo/logs/.")


def _samba() -> SambaServer:
    smb_dir = DEMO_DIR / "smb"
    for share in ("share", "inbox"):
        (smb_dir / share).mkdir(parents=True, exist_ok=True)
    return SambaServer(
        DEMO_DIR / "smbd", port=PORTS["smbd (share and inbox)"], share=smb_dir / "share",
        inbox=smb_dir / "inbox", user=getpass.getuser(), password=SMB_PASSWORD,
    )  # fmt: skip


def _inbox_config(nas: SshServer) -> str:
    disk = DEMO_DIR / "nas-disk" / "inbox-from-pi"
    disk.mkdir(parents=True, exist_ok=True)
    return f"""
[inbox]
nas_host = "127.0.0.1"
nas_port = {nas.port}
nas_user = "{nas.user}"
nas_path = "{disk}"
ssh_key_file = "{nas.client_key}"
known_hosts_file = "{nas.known_hosts}"
path = "{DEMO_DIR / "smb" / "inbox"}"
staging_path = "{DEMO_DIR / "smb" / ".inbox-staging"}"
settle_seconds = 2
"""


def _print_inbox(smb: SambaServer, config: Path) -> None:
    smbclient = f"smbclient -p {smb.port} //127.0.0.1/inbox -A {smb.auth_file}"
    balupi = Path(sys.executable).parent / "balupi"
    print(
        f"""
The SMB inbox (Debian's smbd) and the NAS's disk (Debian's sshd, files land in
.demo/nas-disk/inbox-from-pi/):
  Drop a file:     {smbclient} -c 'put README.md'
  Waiting:         {balupi} inbox status --config {config}
  Move it to NAS:  {balupi} inbox flush --config {config}""",
        flush=True,
    )


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
        if prometheus.query("tapo_power_watts"):
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
Press Ctrl-C to stop everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
