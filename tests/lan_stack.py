"""The Pi, the NAS and a client on a LAN of network namespaces, for tests/test_lan_faults.py.

On ``pi``: the simulated Pi-hole (its API on the Pi's loopback, its real dnsmasq on the Pi's
address, port 53), balupi-handshake on port 80 (nginx's place: a person's browser reaches
the Pi there) and balupi-exporter reading a simulated plug, both limited to 1024 open files.
On ``nas``: the simulated NAS with its
health API on port 80 of its address and the Wake-on-LAN listener on UDP 9. On ``client``: the
test's view of the house, and a flood of idle connections to the Pi.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from balupi.devstack.lan import Lan
from balupi.devstack.process import ManagedProcess
from balupi.handshake.cross_site import DASHBOARD_HEADERS
from tests.handshake_helpers import HOSTNAME, NAS_MAC, SECRET

BIN = Path(sys.executable).parent
WEB_PORT = 80  # the NAS's web UI and the Pi's (nginx) on the same port, as a browser sees them
CONTROL_PORT = 8091  # the simulated NAS's control channel, on the NAS's loopback
PIHOLE_API_PORT = 8080  # on the Pi's loopback, as on a Pi
EXPORTER_PORT = 9877  # balupi-exporter on the Pi (Prometheus scrapes it there)
PLUG_PORT = 9999  # the simulated Tapo plug, on the Pi's loopback (it is the NAS's plug)
PLUG_USER = "lan@balupi.local"
SIM_PASSWORD = "lan-sim-password"  # the simulated Pi-hole's and plug's, not a real one
TTL = 1  # baluhost.local's TTL in the LAN (5 s on a Pi): short, so the suite is fast
SERVICE_ENV = {
    "BALUPI_PIHOLE_PASSWORD": SIM_PASSWORD,
    "BALUPI_TAPO_PASSWORD": SIM_PASSWORD,
    "BALUPI_SIM_TAPO_PASSWORD": SIM_PASSWORD,
}
# A unit's LimitNOFILE=1024 (soft and hard, so the service cannot raise it): the flood below
# goes past it, as a thousand connections go past systemd's default soft limit on a Pi.
NOFILE = "1024:1024"
FLOOD = int(os.environ.get("BALUPI_LAN_FLOOD", "1100"))  # idle connections: past 1024 fds
# Short timings: a takeover after 3 misses takes at most interval + 3 x (timeout + retry).
NAS_TIMINGS = {
    "heartbeat_interval_seconds": 0.5,
    "heartbeat_retry_seconds": 0.2,
    "heartbeat_timeout_seconds": 0.5,
    "misses_before_takeover": 3,
    "successes_to_recover": 2,
    "wake_poll_seconds": 0.2,
    "wake_timeout_seconds": 20,
    "health_grace_seconds": 3,
}
TAKEOVER = 0.5 + 3 * (0.5 + 0.2)


def faketime_library() -> Path | None:
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    return found[0] if found else None


@dataclass
class LanStack:
    lan: Lan
    work: Path
    procs: dict[str, ManagedProcess] = field(default_factory=dict)
    flood: list[socket.socket] = field(default_factory=list)
    handshake_env: dict[str, str] = field(default_factory=dict)
    _restarts: int = 0

    @property
    def pi(self) -> str:
        return self.lan.ip["pi"]

    @property
    def nas(self) -> str:
        return self.lan.ip["nas"]

    # -- the stack ---------------------------------------------------------------------------

    def write_config(self) -> Path:
        secret = self.work / "handshake-secret"
        secret.write_text(SECRET + "\n")
        timings = "".join(f"{k} = {v}\n" for k, v in NAS_TIMINGS.items())
        config = self.work / "balupi.toml"
        config.write_text(f"""\
[handshake]
secret_file = "{secret}"
listen_host = "0.0.0.0"
listen_port = {WEB_PORT}
state_file = "{self.work / "state" / "state.json"}"
snapshot_dir = "{self.work / "snapshot"}"
inbox_dir = "{self.work / "inbox"}"
wake_min_interval_seconds = 0.5

[nas]
url = "http://{self.nas}:{WEB_PORT}"
ip = "{self.nas}"
mac = "{NAS_MAC}"
wol_broadcast = "{self.lan.broadcast}"
wol_port = 9
{timings}
[dns]
backend = "pihole"
hostname = "{HOSTNAME}"
pi_ip = "{self.pi}"

[pihole]
url = "http://127.0.0.1:{PIHOLE_API_PORT}"
password_env = "BALUPI_PIHOLE_PASSWORD"

[exporter]
listen_host = "0.0.0.0"
listen_port = {EXPORTER_PORT}

[tapo]
username = "{PLUG_USER}"
password_env = "BALUPI_TAPO_PASSWORD"

[[tapo.plugs]]
name = "nas"
host = "127.0.0.1"
port = {PLUG_PORT}
""")
        return config

    def start(self) -> None:
        self.write_config()
        env = {"BALUPI_SIM_PIHOLE_PASSWORD": SIM_PASSWORD, **SERVICE_ENV}
        self.procs["pihole"] = ManagedProcess(
            "pihole",
            self.lan.argv("pi", [
                str(BIN / "balupi-sim"), "pihole", "--host", "127.0.0.1",
                "--port", str(PIHOLE_API_PORT), "--dns-port", "53", "--dns-address", self.pi,
                "--workdir", str(self.work / "pihole"), "--local-ttl", str(TTL),
                "--record", f"{self.pi} {HOSTNAME}",
            ]),
            log_path=self.work / "pihole.log", env=env,
        ).start()  # fmt: skip
        self.wait(lambda: self.lan.dig("client", self.pi, HOSTNAME) == self.pi, 20,
                  "the Pi's DNS answering on port 53")  # fmt: skip
        self.procs["nas"] = ManagedProcess(
            "nas",
            self.lan.argv("nas", [
                str(BIN / "balupi-sim"), "nas", "--host", self.nas, "--port", str(WEB_PORT),
                "--control-port", str(CONTROL_PORT), "--wol-port", "9", "--wol-host", "0.0.0.0",
                "--mac", NAS_MAC, "--boot-seconds", "0.5", "--pi-url", f"http://{self.pi}",
            ]),
            log_path=self.work / "nas.log", env={"BALUPI_HANDSHAKE_SECRET": SECRET},
        ).start()  # fmt: skip
        self.wait(lambda: self.nas_state() == "running", 20, "the simulated NAS running")
        self.start_handshake()
        self.procs["plug"] = ManagedProcess(
            "plug",
            self.lan.argv("pi", [
                str(BIN / "balupi-sim"), "tapo", "--host", "127.0.0.1", "--port", str(PLUG_PORT),
                "--username", PLUG_USER,
            ]),
            log_path=self.work / "plug.log", env=SERVICE_ENV,
        ).start()  # fmt: skip
        self.procs["exporter"] = ManagedProcess(
            "exporter",
            self.lan.argv("pi", [
                "prlimit", f"--nofile={NOFILE}", "--",
                str(BIN / "balupi-exporter"), "--config", str(self.work / "balupi.toml"),
            ]),
            log_path=self.work / "exporter.log", env=SERVICE_ENV,
        ).start()  # fmt: skip
        self.procs["exporter"].wait_until(
            lambda: "tapo_power_watts" in self.scrape_exporter(), timeout=20,
            what="balupi-exporter reading the plug",
        )  # fmt: skip

    def start_handshake(self, env: dict[str, str] | None = None) -> None:
        """(Re)starts balupi-handshake on the Pi, on the same state file; ``env`` adds to its
        environment (faketime's)."""
        self._restarts += 1
        self.procs["handshake"] = ManagedProcess(
            "handshake",
            self.lan.argv("pi", [
                "prlimit", f"--nofile={NOFILE}", "--",
                str(BIN / "balupi-handshake"), "--config", str(self.work / "balupi.toml"),
            ]),
            log_path=self.work / f"handshake-{self._restarts}.log",
            env={**SERVICE_ENV, **(env or {})},
        ).start()  # fmt: skip
        self.procs["handshake"].wait_until(
            lambda: self.status() is not None, timeout=20, what="balupi-handshake answering"
        )

    def kill_handshake(self) -> None:
        proc = self.procs["handshake"]
        assert proc.proc is not None
        proc.proc.kill()  # SIGKILL: no shutdown code runs
        proc.proc.wait()

    def stop(self) -> None:
        self.stop_flood()
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{proc.log_tail(25)}" for name, proc in self.procs.items())

    def wait(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        from tests.waiting import wait_for

        try:
            wait_for(condition, what=what, timeout=timeout)
        except AssertionError as err:
            raise AssertionError(f"{err}\n{self.logs()}") from None

    # -- what the test reaches inside the LAN ------------------------------------------------

    def http(self, host: str, url: str, body: dict | None = None, timeout: float = 3,
             headers: dict[str, str] | None = None) -> dict:  # fmt: skip
        def request() -> dict:
            data = None if body is None else json.dumps(body).encode()
            asked = urllib.request.Request(url, data=data, headers=headers or {})
            with urllib.request.urlopen(asked, timeout=timeout) as answer:
                return json.load(answer)

        return self.lan.call(host, request)

    def press_wake(self) -> dict:
        """The dashboard's wake button, pressed on the client (with the dashboard's header)."""
        return self.http("client", f"http://{self.pi}/api/wake-nas", {},
                         headers=DASHBOARD_HEADERS)  # fmt: skip

    def status(self) -> dict | None:
        """balupi-handshake's /api/status, asked on the Pi itself (where nginx and Prometheus
        reach it); None while it does not answer."""
        try:
            return self.http("pi", f"http://127.0.0.1:{WEB_PORT}/api/status")
        except (OSError, ValueError):
            return None

    def scrape_exporter(self) -> str:
        """The exporter's plug metrics as Prometheus on the Pi gets them; "" without an answer."""

        def scrape() -> str:
            url = f"http://127.0.0.1:{EXPORTER_PORT}/metrics?collect[]=tapo"
            try:
                with urllib.request.urlopen(url, timeout=3) as answer:
                    return answer.read().decode()
            except OSError:
                return ""

        return self.lan.call("pi", scrape)

    def state(self) -> str | None:
        """The NAS's state as the Pi's service sees it; None while the service does not answer."""
        status = self.status()
        return None if status is None else status["nas_state"]

    def dns_status(self) -> dict:
        return (self.status() or {}).get("dns", {})

    def nas_state(self) -> str | None:
        try:
            return self.http("nas", f"http://{self.nas}:{CONTROL_PORT}/sim/state")["state"]
        except (OSError, ValueError):
            return None

    def control_nas(self, action: str, timeout: float = 40) -> dict:
        return self.http("nas", f"http://{self.nas}:{CONTROL_PORT}/sim/control",
                         {"action": action}, timeout=timeout)  # fmt: skip

    def metric(self, name: str) -> float:
        """One sample of the handshake's /metrics (``name`` with labels), as Prometheus on the
        Pi scrapes it."""

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{WEB_PORT}/metrics", timeout=3) as a:
                return a.read().decode()

        text = self.lan.call("pi", scrape)
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
        if not found:
            raise AssertionError(f"no {name} in /metrics")
        return float(found.group(1))

    # -- a person's laptop -------------------------------------------------------------------

    def resolves(self) -> str | None:
        """What baluhost.local resolves to for the client: dig @Pi, port 53."""
        return self.lan.dig("client", self.pi, HOSTNAME)

    def answers(self, address: str | None) -> bool:
        """Whether the web service at ``address`` (the NAS's or the Pi's, port 80) answers."""
        if address is None:
            return False

        def get() -> bool:
            try:
                with urllib.request.urlopen(f"http://{address}/api/health", timeout=1) as a:
                    return a.status == 200
            except (urllib.error.URLError, OSError):
                return False

        return self.lan.call("client", get)

    def client_sees(self, address: str) -> bool:
        """baluhost.local resolves to ``address`` and the service there answers."""
        return self.resolves() == address and self.answers(address)

    # -- the flood ---------------------------------------------------------------------------

    def start_flood(self, count: int = FLOOD) -> None:
        """``count`` idle connections from the client to each of the Pi's services (the web
        port and the exporter), each having sent half a request: what a broken or hostile
        device on the LAN does."""

        def connect() -> list[socket.socket]:
            made = []
            for port in [WEB_PORT] * count + [EXPORTER_PORT] * count:
                sock = socket.socket()
                sock.settimeout(2)
                try:
                    sock.connect((self.pi, port))
                    sock.sendall(b"GET /api/status HTTP/1.1\r\nHost: baluhost.local\r\n")
                except OSError:
                    sock.close()  # refused or backlog full: the Pi bounds what it accepts
                    continue
                made.append(sock)
            return made

        self.flood = self.lan.call("client", connect)

    def stop_flood(self) -> None:
        for sock in self.flood:
            sock.close()
        self.flood = []


class StateWatch:
    """Polls the handshake's state on a thread and keeps every state it saw, in order."""

    def __init__(self, stack: LanStack) -> None:
        self.stack = stack
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StateWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            status = self.stack.status()
            if status is not None and (not self.seen or self.seen[-1] != status["nas_state"]):
                self.seen.append(status["nas_state"])
            self._stop.wait(0.05)  # the polling period of the watcher
