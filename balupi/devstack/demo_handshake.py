"""The handshake part of ``make demo``: a simulated NAS and balupi-handshake.

balupi-handshake switches baluhost.local through the demo's simulated Pi-hole (backend
``pihole``), whose dnsmasq answers on 127.0.0.1:8053. Fixed loopback ports, listed in docs/demo.md:

  balupi-handshake      http://127.0.0.1:8000  (/api/status, /api/wake-nas, /metrics)
  simulated NAS         http://127.0.0.1:8090/api/health, control on :8091, WoL on udp :8009
"""

from __future__ import annotations

import sys
from pathlib import Path

from balupi.devstack.process import ManagedProcess

PORTS = {"balupi-handshake": 8000, "simulated NAS": 8090, "simulated NAS control": 8091}
WOL_PORT = 8009
NAS_IP, PI_IP, NAS_MAC = "192.168.1.10", "192.168.1.20", "02:00:00:00:00:10"
# The demo's shared secret, handed over in the environment as on a NAS; not a real one.
ENV = {"BALUPI_HANDSHAKE_SECRET": "demo-handshake-secret-0123456789"}
API_URL = f"http://127.0.0.1:{PORTS['balupi-handshake']}"
CONTROL_URL = f"http://127.0.0.1:{PORTS['simulated NAS control']}/sim/control"


def handshake_config(
    work: Path,
    *,
    handshake_port: int = PORTS["balupi-handshake"],
    nas_port: int = PORTS["simulated NAS"],
    wol_port: int = WOL_PORT,
    heartbeat_interval: float = 10,
    wake_min_interval: float = 2,
) -> str:
    """The demo config's [handshake], [nas] and [dns] sections; state and snapshots in ``work``."""
    return f"""
[handshake]
secret_env = "BALUPI_HANDSHAKE_SECRET"
listen_host = "127.0.0.1"
listen_port = {handshake_port}
state_file = "{work / "state.json"}"
snapshot_dir = "{work / "snapshot"}"
inbox_dir = "{work / "inbox"}"
wake_min_interval_seconds = {wake_min_interval}

[nas]
url = "http://127.0.0.1:{nas_port}"
ip = "{NAS_IP}"
mac = "{NAS_MAC}"
wol_broadcast = "127.0.0.1"
wol_port = {wol_port}
heartbeat_interval_seconds = {heartbeat_interval}

[dns]
backend = "pihole"
pi_ip = "{PI_IP}"
"""


def handshake_parts(
    config: Path, logs: Path, env: dict[str, str]
) -> list[tuple[ManagedProcess, str]]:
    """The simulated NAS, then the service: each with the URL that answers once it is ready."""
    bin_dir = Path(sys.executable).parent
    nas = ManagedProcess(
        "simulated NAS",
        [str(bin_dir / "balupi-sim"), "nas", "--port", str(PORTS["simulated NAS"]),
         "--control-port", str(PORTS["simulated NAS control"]), "--wol-port", str(WOL_PORT),
         "--mac", NAS_MAC, "--boot-seconds", "5", "--pi-url", API_URL],
        log_path=logs / "sim-nas.log", env=env,
    )  # fmt: skip
    service = ManagedProcess(
        "balupi-handshake",
        [str(bin_dir / "balupi-handshake"), "--config", str(config)],
        log_path=logs / "handshake.log", env=env,
    )  # fmt: skip
    control = f"http://127.0.0.1:{PORTS['simulated NAS control']}/sim/state"
    return [(nas, control), (service, f"{API_URL}/api/health")]


def where_to_look(dns_port: int) -> str:
    dig = f"dig @127.0.0.1 -p {dns_port} +short baluhost.local"
    return f"""\
  Handshake status:     curl {API_URL}/api/status
  Where DNS points:     {dig}   ({NAS_IP} = NAS, {PI_IP} = Pi)
  Shut the NAS down:    curl -X POST {CONTROL_URL} -d '{{"action": "shutdown"}}'
  Wake it again:        curl -X POST {API_URL}/api/wake-nas
  Kill it (takeover):   curl -X POST {CONTROL_URL} -d '{{"action": "kill"}}'
  Handshake metrics:    {API_URL}/metrics"""
