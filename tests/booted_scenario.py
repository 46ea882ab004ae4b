"""What the booted-container test and benchmark do inside the container as a user would: the
simulated plug, Pi-hole and NAS (from a copy of this checkout, on Debian's python3), the
answers to `balupi setup`, and small probes of the installed services."""

from __future__ import annotations

import json
from functools import partial

from tests.booted_debian import REPO, Container
from tests.waiting import wait_for

OURS = ("balupi-exporter.service", "balupi-handshake.service")
THEIRS = (
    "prometheus.service",
    "prometheus-alertmanager.service",
    "prometheus-node-exporter.service",
    "nginx.service",
    "smbd.service",
)
SIM_ENV = "PYTHONPATH=/opt/balupi-sim:/usr/lib/balupi/vendor"
SETUP_FLAGS = [
    "--tapo-username",
    "nas@example.com",
    "--tapo-password-file",
    "/root/tapo-password",
    "--plug",
    "nas=127.0.0.1:9999",
    "--price-per-kwh",
    "0.3",
    "--nas-ip",
    "127.0.0.1",
    "--nas-url",
    "http://127.0.0.1:8090",
    "--nas-mac",
    "02:00:00:00:00:10",
    "--wol-broadcast",
    "127.0.0.1",
    "--wol-port",
    "8009",
    "--pi-ip",
    "127.0.0.2",
    "--pihole-url",
    "http://127.0.0.1:8080",
    "--pihole-password-file",
    "/root/pihole-app-password",
    "--inbox-user",
    "nas",
    "--inbox-path",
    "/home/nas/inbox-from-pi",
    "--alert-webhook",
    "http://127.0.0.1:8123/alerts",
]


def sim(box: Container, unit: str, *args: str) -> None:
    box.run(
        "systemd-run",
        f"--unit={unit}",
        f"--setenv={SIM_ENV}",
        "/usr/bin/python3",
        "-m",
        "balupi.sim.cli",
        *args,
    )


def http(box: Container, url: str, *curl: str) -> str:
    return box.run("curl", "-fsS", "--max-time", "10", *curl, url).stdout


def all_active(box: Container, units: tuple[str, ...]) -> bool:
    return all(box.unit_state(u) == "active" for u in units)


def start_plug(box: Container, unit: str) -> None:
    """The simulated NAS plug as the unit ``unit`` (a stopped unit's name cannot be reused)."""
    sim(
        box,
        unit,
        "tapo",
        "--port",
        "9999",
        "--username",
        "nas@example.com",
        "--password-file",
        "/root/tapo-password",
        "--power",
        "41.5",
    )


def start_simulators(box: Container) -> None:
    box.sh(
        "echo tapo-secret > /root/tapo-password; echo web-secret > /root/pihole-web-password;"
        "echo app-secret > /root/pihole-app-password; mkdir -p /var/tmp/pihole;"
        "id nas >/dev/null 2>&1 || useradd -m nas; install -d -o nas /home/nas/inbox-from-pi"
    )
    start_plug(box, "sim-tapo")
    sim(
        box,
        "sim-pihole",
        "pihole",
        "--port",
        "8080",
        "--dns-port",
        "5353",
        "--workdir",
        "/var/tmp/pihole",
        "--password-file",
        "/root/pihole-web-password",
        "--app-password-file",
        "/root/pihole-app-password",
        "--app-sudo",
    )
    box.run("systemctl", "start", "ssh.service")
    for unit, url in (
        ("sim-pihole", "http://127.0.0.1:8080/api/auth"),
        ("sim-tapo", "http://127.0.0.1:9999/sim/state"),
    ):
        try:
            wait_for(partial(answers, box, url), timeout=30, what=f"the simulator at {url}")
        except AssertionError:
            print(box.sh(f"journalctl -u {unit} --no-pager | tail -30", check=False))
            raise


def answers(box: Container, url: str) -> bool:
    """Anything listens and speaks HTTP there (an error status counts)."""
    return box.run("curl", "-s", "-o", "/dev/null", url, check=False).returncode == 0


def dns_answer(box: Container) -> str:
    return box.run(
        "dig", "@127.0.0.1", "-p", "5353", "+short", "baluhost.local", check=False
    ).stdout.strip()


def nas_state(box: Container) -> str:
    return str(json.loads(http(box, "http://127.0.0.1:8000/api/status"))["nas_state"])


def start_nas(box: Container) -> None:
    """The simulated NAS runs and announces itself as BaluHost does at boot (signed, with the
    secret `balupi setup` generated)."""
    wait_for(lambda: http_ok(box, "http://127.0.0.1:8000/api/health"), what="the handshake API")
    sim(
        box,
        "sim-nas",
        "nas",
        "--port",
        "8090",
        "--control-port",
        "8091",
        "--wol-port",
        "8009",
        "--pi-url",
        "http://127.0.0.1:8000",
        "--secret-file",
        "/etc/balupi/handshake-secret",
        "--boot-seconds",
        "2",
    )
    box.run(
        "env",
        SIM_ENV,
        "/usr/bin/python3",
        "-m",
        "balupi.nas.cli",
        "announce-online",
        "--pi-url",
        "http://127.0.0.1:8000",
        "--secret-file",
        "/etc/balupi/handshake-secret",
    )
    wait_for(lambda: nas_state(box) == "online", timeout=30, what="the NAS announced online")


def http_ok(box: Container, url: str) -> bool:
    return box.run("curl", "-fs", "-o", "/dev/null", url, check=False).returncode == 0


def authorize_pi_on_nas(box: Container) -> None:
    box.sh(
        "install -d -o nas -m 700 /home/nas/.ssh; "
        "install -o nas -m 600 /etc/balupi/nas-ssh-key.pub /home/nas/.ssh/authorized_keys"
    )


def copy_simulators(box: Container) -> None:
    """This checkout's package (links followed), for Debian's python3 to run the simulators."""
    box.copy_in(REPO / "balupi", "/opt/balupi-sim/balupi")


def install_and_configure(box: Container, deb_in_box: str) -> None:
    """Install, start the simulators, run setup (twice: the NAS learns the key in between)."""
    box.run("apt-get", "install", "-y", deb_in_box)
    start_simulators(box)
    box.run("balupi", "setup", "--non-interactive", *SETUP_FLAGS, check=False)
    authorize_pi_on_nas(box)
    box.run("balupi", "setup", "--non-interactive")
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=60, what="every unit active")
    start_nas(box)
