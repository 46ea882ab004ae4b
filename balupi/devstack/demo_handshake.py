"""The handshake part of ``make demo``: a simulated NAS and balupi-handshake.

balupi-handshake switches baluhost.local through the demo's simulated Pi-hole (backend
``pihole``), whose dnsmasq answers on the demo's DNS port. Its ports (demo_ports.py, listed in
docs/demo.md): balupi-handshake on 8000 (/api/status, /api/wake-nas, /metrics), the simulated
NAS's health on 8090, its control on 8091 and its Wake-on-LAN on udp 8009.
"""

from __future__ import annotations

import sys
from pathlib import Path

from balupi.devstack.demo_ports import DemoPorts
from balupi.devstack.process import ManagedProcess

DEFAULT = DemoPorts()
NAS_IP, PI_IP, NAS_MAC = "192.168.1.10", "192.168.1.20", "02:00:00:00:00:10"
# The demo's shared secret, handed over in the environment as on a NAS; not a real one.
ENV = {"BALUPI_HANDSHAKE_SECRET": "demo-handshake-secret-0123456789"}
# What the simulated NAS draws while it runs (whole watts, as the plug reports them).
ONLINE_WATTS = 38.0


def handshake_config(
    work: Path,
    *,
    handshake_port: int = DEFAULT.handshake,
    nas_port: int = DEFAULT.nas,
    wol_port: int = DEFAULT.wol,
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
    config: Path, logs: Path, env: dict[str, str], ports: DemoPorts
) -> list[tuple[ManagedProcess, str]]:
    """The simulated NAS, then the service: each with the URL that answers once it is ready."""
    bin_dir = Path(sys.executable).parent
    nas = ManagedProcess(
        "simulated NAS",
        [str(bin_dir / "balupi-sim"), "nas", "--port", str(ports.nas),
         "--control-port", str(ports.nas_control), "--wol-port", str(ports.wol),
         "--mac", NAS_MAC, "--boot-seconds", "5", "--pi-url", ports.handshake_url,
         # The plug it hangs on reads what it draws: the standby draw while it sleeps.
         "--plug-control", f"http://127.0.0.1:{ports.plug}/sim/control",
         "--online-watts", str(ONLINE_WATTS)],
        log_path=logs / "sim-nas.log", env=env,
    )  # fmt: skip
    service = ManagedProcess(
        "balupi-handshake",
        [str(bin_dir / "balupi-handshake"), "--config", str(config)],
        log_path=logs / "handshake.log", env=env,
    )  # fmt: skip
    control = f"http://127.0.0.1:{ports.nas_control}/sim/state"
    return [(nas, control), (service, f"{ports.handshake_url}/api/health")]


def where_to_look(ports: DemoPorts) -> str:
    dig = f"dig @127.0.0.1 -p {ports.pihole_dns} +short baluhost.local"
    api, control = ports.handshake_url, ports.nas_control_url
    return f"""\
  Handshake status:     curl {api}/api/status
  Where DNS points:     {dig}   ({NAS_IP} = NAS, {PI_IP} = Pi)
  Shut the NAS down:    curl -X POST {control} -d '{{"action": "shutdown"}}'
  Wake it again:        curl -X POST -H 'X-Requested-With: balupi-dashboard' {api}/api/wake-nas
  Kill it (takeover):   curl -X POST {control} -d '{{"action": "kill"}}'
  Handshake metrics:    {api}/metrics"""
