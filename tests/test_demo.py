"""`make demo` as a new user runs it: every part starts on its documented port, the plug's power
reaches Prometheus, the NAS sleeps and wakes through the handshake with `dig` following, and
Ctrl-C (SIGTERM) stops everything."""

from __future__ import annotations

import functools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from balupi.devstack import demo, demo_handshake, pihole_demo
from balupi.devstack.dnsmasq import dig
from balupi.devstack.ports import port_in_use
from balupi.devstack.prometheus import REPO
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
DNS_PORT = pihole_demo.PIHOLE_DNS_PORT


def post(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
        return json.load(answer)


def prometheus_has(expr: str) -> bool:
    url = f"http://127.0.0.1:{demo.PORTS['prometheus']}/api/v1/query?" + urllib.parse.urlencode(
        {"query": expr}
    )
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bool(json.load(answer)["data"]["result"])


class Output:
    """The demo's terminal, read in a thread so that every wait on it has a bound."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._new = threading.Condition()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None  # started with stdout=PIPE
        for line in proc.stdout:
            with self._new:
                self.lines.append(line)
                self._new.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        with self._new:
            if not self._new.wait_for(lambda: any(text in x for x in self.lines), timeout):
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.text}")

    @property
    def text(self) -> str:
        return "".join(self.lines)


def test_demo_names_a_taken_port():
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        if not port_in_use(9999):
            holder.bind(("127.0.0.1", 9999))
            holder.listen()
        run = subprocess.run(
            [sys.executable, "-m", "balupi.devstack.demo"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert run.returncode == 2
    assert "simulated plug needs 127.0.0.1:9999" in run.stderr
    assert "Traceback" not in run.stderr


def test_demo_end_to_end(tmp_path):
    if taken := demo.ports_taken():
        pytest.skip(f"the demo's fixed ports are in use by something else here: {taken}")
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "balupi.devstack.demo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    out = Output(proc)
    try:
        out.wait_for("Press Ctrl-C", 120)
        output = out.text
        assert "seen after" in output, output
        assert "http://127.0.0.1:9090/graph" in output and "/api/wake-nas" in output
        wait_for(lambda: prometheus_has('pihole_up{job="pihole"} == 1'), 60, "Pi-hole scraped")

        # The simulated NAS is up: the handshake points baluhost.local at it.
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.NAS_IP, 30, "NAS")
        # A user drops a file into the SMB inbox (as smbclient does it).
        name = "Grüße vom Laptop.txt"
        (tmp_path / name).write_text("hallo NAS\n")
        subprocess.run(
            ["smbclient", "-p", str(demo.PORTS["smbd (share and inbox)"]), "//127.0.0.1/inbox",
             "-A", str(demo.DEMO_DIR / "smbd" / "smbclient.auth"), "-c", f'put "{name}"'],
            cwd=tmp_path, check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        arrived = demo.DEMO_DIR / "nas-disk" / "inbox-from-pi" / name
        arrived.unlink(missing_ok=True)
        assert post(demo_handshake.CONTROL_URL, {"action": "shutdown"})["state"] == "sleeping"
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.PI_IP, 10, "Pi")
        assert post(f"{demo_handshake.API_URL}/api/wake-nas")["wol_sent"] is True
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.NAS_IP, 30, "woken")
        # The NAS announced itself: the handshake moved the inbox to its disk.
        wait_for(arrived.exists, 30, "the dropped file on the NAS's disk")
        assert arrived.read_text() == "hallo NAS\n"
        arrived.unlink()

        # It dies unannounced: the outage alert is printed in the terminal.
        post(demo_handshake.CONTROL_URL, {"action": "kill"})
        out.wait_for("ALERT firing: NasDownUnannounced", 120)
        # The recording rules answer the plan's questions (their groups run every minute).
        # Only a sample written by this run counts: .demo keeps earlier runs' history.
        for rule in ("balupi:energy_kwh:increase1d", "balupi:nas_online_seconds:increase1h"):
            fresh = f"{rule} and timestamp({rule}) > {started:.0f}"
            wait_for(functools.partial(prometheus_has, fresh), 150, f"{rule} recorded")

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        out.wait_for("Stopped.", 10)
    finally:
        if proc.poll() is None:  # a failed step: stop it as Ctrl-C would, so no child lingers
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert proc.returncode == 0, out.text
    assert not demo.ports_taken()  # every child is gone
    for log in (REPO / ".demo" / "logs").glob("*.log"):
        text = log.read_text()
        for secret in demo.ENV.values():
            assert secret not in text, (log, "a secret reached a log")
