"""The handshake part of ``make demo``: dnsmasq, a simulated NAS and balupi-handshake.

``demo.py`` starts these next to the Tapo parts; ``python -m balupi.devstack.demo_handshake``
runs them alone. Fixed loopback ports, listed in README.md:

  balupi-handshake      http://127.0.0.1:8000  (/api/status, /api/wake-nas, /metrics)
  simulated NAS         http://127.0.0.1:8090/api/health, control on :8091, WoL on udp :8009
  dnsmasq               127.0.0.1:8053 (dig @127.0.0.1 -p 8053 baluhost.local)
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from balupi.devstack.dnsmasq import Dnsmasq
from balupi.devstack.ports import port_in_use
from balupi.devstack.process import ManagedProcess, StartError

REPO = Path(__file__).resolve().parents[2]
PORTS = {"balupi-handshake": 8000, "simulated NAS": 8090, "simulated NAS control": 8091,
         "dnsmasq": 8053}  # fmt: skip
WOL_PORT = 8009
NAS_IP, PI_IP, NAS_MAC = "192.168.1.10", "192.168.1.20", "02:00:00:00:00:10"
# The demo's shared secret, handed over in the environment as on a NAS; not a real one.
ENV = {"BALUPI_HANDSHAKE_SECRET": "demo-handshake-secret-0123456789"}


def _config(demo_dir: Path, dnsmasq: Dnsmasq) -> str:
    return f"""\
[handshake]
secret_env = "BALUPI_HANDSHAKE_SECRET"
listen_host = "127.0.0.1"
listen_port = {PORTS["balupi-handshake"]}
state_file = "{demo_dir / "handshake" / "state.json"}"
snapshot_dir = "{demo_dir / "handshake" / "snapshot"}"
inbox_dir = "{demo_dir / "handshake" / "inbox"}"
wake_min_interval_seconds = 2

[nas]
url = "http://127.0.0.1:{PORTS["simulated NAS"]}"
ip = "{NAS_IP}"
mac = "{NAS_MAC}"
wol_broadcast = "127.0.0.1"
wol_port = {WOL_PORT}
heartbeat_interval_seconds = 10

[dns]
backend = "hostsfile"
pi_ip = "{PI_IP}"

[dns.hostsfile]
path = "{dnsmasq.hosts_file}"
pid_file = "{dnsmasq.pid_file}"
"""


def handshake_parts(demo_dir: Path) -> list[tuple[ManagedProcess, str | None]]:
    """The processes to start in order, each with the URL that answers once it is ready."""
    bin_dir = Path(sys.executable).parent
    logs = demo_dir / "logs"
    work = demo_dir / "handshake"
    work.mkdir(parents=True, exist_ok=True)
    dnsmasq = Dnsmasq(work / "dnsmasq", port=PORTS["dnsmasq"], hosts_file=work / "hosts")
    config = demo_dir / "balupi-handshake.toml"
    config.write_text(_config(demo_dir, dnsmasq))
    url = f"http://127.0.0.1:{PORTS['balupi-handshake']}"
    nas = ManagedProcess(
        "simulated NAS",
        [str(bin_dir / "balupi-sim"), "nas", "--port", str(PORTS["simulated NAS"]),
         "--control-port", str(PORTS["simulated NAS control"]), "--wol-port", str(WOL_PORT),
         "--mac", NAS_MAC, "--boot-seconds", "5", "--pi-url", url],
        log_path=logs / "sim-nas.log", env=ENV,
    )  # fmt: skip
    service = ManagedProcess(
        "balupi-handshake",
        [str(bin_dir / "balupi-handshake"), "--config", str(config)],
        log_path=logs / "handshake.log", env=ENV,
    )  # fmt: skip
    control = f"http://127.0.0.1:{PORTS['simulated NAS control']}/sim/state"
    return [(dnsmasq, None), (nas, control), (service, f"{url}/api/health")]


def ports_taken() -> list[str]:
    taken = [f"{n} needs 127.0.0.1:{p}" for n, p in PORTS.items() if port_in_use(p)]
    return taken


def where_to_look() -> str:
    api = f"http://127.0.0.1:{PORTS['balupi-handshake']}"
    control = f"http://127.0.0.1:{PORTS['simulated NAS control']}/sim/control"
    dig = f"dig @127.0.0.1 -p {PORTS['dnsmasq']} +short baluhost.local"
    return f"""\
  Handshake status:     curl {api}/api/status
  Where DNS points:     {dig}   ({NAS_IP} = NAS, {PI_IP} = Pi)
  Shut the NAS down:    curl -X POST {control} -d '{{"action": "shutdown"}}'
  Wake it again:        curl -X POST {api}/api/wake-nas
  Kill it (takeover):   curl -X POST {control} -d '{{"action": "kill"}}'
  Handshake metrics:    {api}/metrics"""


def start_part(proc: ManagedProcess, ready_url: str | None, started: list[ManagedProcess]) -> None:
    print(f"Starting {proc.name} ...", end=" ", flush=True)
    t0 = time.monotonic()
    started.append(proc.start())
    if isinstance(proc, Dnsmasq):
        proc.wait_ready()
    elif ready_url:
        proc.wait_http(ready_url, timeout=60)
    print(f"ready ({time.monotonic() - t0:.1f} s)", flush=True)


def main() -> int:
    taken = ports_taken()
    if taken:
        print("Cannot start, these ports are already in use:\n  - " + "\n  - ".join(taken),
              file=sys.stderr)  # fmt: skip
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    demo_dir = REPO / ".demo"
    started: list[ManagedProcess] = []
    try:
        for proc, url in handshake_parts(demo_dir):
            start_part(proc, url, started)
        print(f"\nBaluPi handshake demo is running (loopback only):\n{where_to_look()}\n"
              "Press Ctrl-C to stop.", flush=True)  # fmt: skip
        while not stop.wait(1):
            for proc in started:
                if not proc.running:
                    print(f"\n{proc.name} stopped:\n{proc.log_tail()}", file=sys.stderr)
                    return 1
        return 0
    except (StartError, FileNotFoundError) as err:
        print(f"\nThe demo could not start: {err}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(started):
            proc.stop()
        print("Stopped. Logs are in .demo/logs/.")


if __name__ == "__main__":
    sys.exit(main())
