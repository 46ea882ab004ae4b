"""The simulated Pi-hole's part of ``make demo``: its ports, its process, its config section.

The demo starts ``balupi-sim pihole`` (the v6 API on 127.0.0.1:8080, with a real dnsmasq
answering the local records on 127.0.0.1:8053) before the exporter, and adds ``[pihole]`` to
the demo config so Prometheus's ``pihole`` job has something to scrape.
"""

from __future__ import annotations

from pathlib import Path

from balupi.devstack.demo_ports import DemoPorts
from balupi.devstack.process import ManagedProcess

PIHOLE_API_PORT = DemoPorts.pihole_api  # Pi-hole's own web server port
PIHOLE_DNS_PORT = DemoPorts.pihole_dns  # not 53 (root) nor 5353 (mDNS, avahi)
# The simulator's web password; a demo secret, handed over in the environment as on a Pi.
PIHOLE_PASSWORD = "demo-pihole-password"  # noqa: S105 - a simulator's password, not a real one
ENV = {"BALUPI_SIM_PIHOLE_PASSWORD": PIHOLE_PASSWORD, "BALUPI_PIHOLE_PASSWORD": PIHOLE_PASSWORD}


def pihole_config(api_port: int = PIHOLE_API_PORT) -> str:
    """The demo config's [pihole] section."""
    return f"""
[pihole]
url = "http://127.0.0.1:{api_port}"
password_env = "BALUPI_PIHOLE_PASSWORD"
top_items = 5
"""


def pihole_process(
    bin_dir: Path,
    logs: Path,
    workdir: Path,
    *,
    api_port: int = PIHOLE_API_PORT,
    dns_port: int = PIHOLE_DNS_PORT,
) -> ManagedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        "simulated Pi-hole",
        [str(bin_dir / "balupi-sim"), "pihole", "--host", "127.0.0.1",
         "--port", str(api_port), "--dns-port", str(dns_port), "--workdir", str(workdir),
         "--record", "192.168.1.20 baluhost.local", "--record", "192.168.1.1 router.lan"],
        log_path=logs / "sim-pihole.log",
        env=ENV,
    )  # fmt: skip


def where_to_look(
    prom_url: str, api_port: int = PIHOLE_API_PORT, dns_port: int = PIHOLE_DNS_PORT
) -> str:
    return f"""  Pi-hole in Prometheus: {prom_url}/graph?g0.expr=pihole_dns_queries_today&g0.tab=0
  Simulated Pi-hole:     http://127.0.0.1:{api_port}/sim/state
  Its DNS (dnsmasq):     dig +short -p {dns_port} @127.0.0.1 baluhost.local"""
