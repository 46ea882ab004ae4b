"""`make demo` as a new user runs it: every part starts, the plug's power reaches Prometheus, the
NAS sleeps and wakes through the handshake with `dig` following, and Ctrl-C (SIGTERM) stops
everything. The demo runs in a state folder and on ports of the test's own (``--state-dir``,
``--port-base``), so that whatever an earlier `make demo` left in .demo/, or a demo still
running, changes nothing."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path

import pytest

from balupi.devstack import demo, demo_handshake
from balupi.devstack.demo_ports import DemoPorts, free_base
from balupi.devstack.dnsmasq import dig
from balupi.devstack.prometheus import REPO
from balupi.handshake.cross_site import DASHBOARD_HEADERS
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def post(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    # The wake button's header (sent to the simulators too, who ignore it).
    request = urllib.request.Request(url, data=data, headers=DASHBOARD_HEADERS)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def prometheus_has(ports: DemoPorts, expr: str) -> bool:
    url = f"{ports.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
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

    def expect(self, text: str, timeout: float) -> None:
        """Wait until the demo has printed ``text`` (woken by each new line, not polled)."""
        with self._new:
            if not self._new.wait_for(lambda: any(text in x for x in self.lines), timeout):
                raise AssertionError(f"no {text!r} within {timeout} s:\n{self.text}")

    @property
    def text(self) -> str:
        return "".join(self.lines)


def demo_argv(state: Path, base: int) -> list[str]:
    # Three days of backfilled history instead of the default month: the same code, quicker.
    return [sys.executable, "-m", "balupi.devstack.demo",
            "--state-dir", str(state), "--port-base", str(base), "--history-days", "3"]  # fmt: skip


def test_demo_names_a_taken_port(tmp_path):
    base = free_base()
    plug = DemoPorts.from_base(base).plug
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", plug))
        holder.listen()
        run = subprocess.run(
            demo_argv(tmp_path / "demo", base),
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert run.returncode == 2
    assert f"simulated plug needs 127.0.0.1:{plug}" in run.stderr
    assert "Traceback" not in run.stderr


def test_demo_refuses_a_port_base_out_of_range(tmp_path):
    run = subprocess.run(
        demo_argv(tmp_path / "demo", 65530), capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--port-base: a port base must be 1024.." in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "demo").exists()


def test_demo_end_to_end(tmp_path):
    base = free_base()
    ports = DemoPorts.from_base(base)
    state = tmp_path / "demo"
    dns_port = ports.pihole_dns
    started = time.time()
    proc = subprocess.Popen(
        demo_argv(state, base),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    out = Output(proc)
    try:
        out.expect("Press Ctrl-C", 120)
        output = out.text
        assert "seen after" in output, output
        assert f"{ports.prometheus_url}/graph" in output and "/api/wake-nas" in output
        # The dashboard's link comes first, and nginx serves the app and its sources there.
        link = output.index(f"{ports.dashboard_url}/")
        assert link < output.index("SMB inbox") < output.index("Power in Prometheus")
        with urllib.request.urlopen(f"{ports.dashboard_url}/api/status", timeout=10) as answer:
            assert json.load(answer)["nas_state"] in ("online", "offline", "unreachable")
        power = f"{ports.dashboard_url}/prometheus/api/v1/query?query=tapo_power_watts"
        with urllib.request.urlopen(power, timeout=10) as answer:
            live = json.load(answer)["data"]["result"]
        assert live, "no power through the dashboard's nginx"
        # The first start backfilled a month of the house under the live series' labels: the
        # charts and this month's figures have a past that goes on as the live series.
        assert "days of simulated history" in output
        then_at = f"{started - 2 * 86400:.0f}"
        query = urllib.parse.urlencode({"query": "tapo_power_watts", "time": then_at})
        past = f"{ports.dashboard_url}/prometheus/api/v1/query?{query}"
        with urllib.request.urlopen(past, timeout=10) as answer:
            then = json.load(answer)["data"]["result"]
        assert [r["metric"] for r in then] == [r["metric"] for r in live], (then, live)
        wait_for(
            lambda: prometheus_has(ports, 'pihole_up{job="pihole"} == 1'),
            timeout=60,
            what="Pi-hole scraped",
        )

        # The simulated NAS is up: the handshake points baluhost.local at it.
        wait_for(
            lambda: dig(dns_port, "baluhost.local") == demo_handshake.NAS_IP, timeout=30, what="NAS"
        )
        # A user drops a file into the SMB inbox (as smbclient does it).
        name = "Grüße vom Laptop.txt"
        (tmp_path / name).write_text("hallo NAS\n")
        subprocess.run(
            ["smbclient", "-p", str(ports.smbd), "//127.0.0.1/inbox",
             "-A", str(state / "smbd" / "smbclient.auth"), "-c", f'put "{name}"'],
            cwd=tmp_path, check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        arrived = state / "nas-disk" / "inbox-from-pi" / name
        assert post(ports.nas_control_url, {"action": "shutdown"})["state"] == "sleeping"
        wait_for(
            lambda: dig(dns_port, "baluhost.local") == demo_handshake.PI_IP, timeout=10, what="Pi"
        )
        assert post(f"{ports.handshake_url}/api/wake-nas")["wol_sent"] is True
        wait_for(
            lambda: dig(dns_port, "baluhost.local") == demo_handshake.NAS_IP,
            timeout=30,
            what="woken",
        )
        # The NAS announced itself: the handshake moved the inbox to its disk.
        wait_for(arrived.exists, timeout=30, what="the dropped file on the NAS's disk")
        assert arrived.read_text() == "hallo NAS\n"
        arrived.unlink()

        # It dies unannounced: the outage alert is printed in the terminal.
        post(ports.nas_control_url, {"action": "kill"})
        out.expect("ALERT firing: NasDownUnannounced", 120)
        # The recording rules answer the plan's questions (their groups run every minute).
        for rule in ("balupi:energy_kwh:increase1d", "balupi:nas_online_seconds:increase1h"):
            fresh = f"{rule} and timestamp({rule}) > {started:.0f}"
            wait_for(partial(prometheus_has, ports, fresh), timeout=150, what=f"{rule} recorded")

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        out.expect("Stopped.", 10)
    finally:
        if proc.poll() is None:  # a failed step: stop it as Ctrl-C would, so no child lingers
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert proc.returncode == 0, out.text
    assert not ports.taken()  # every child is gone
    logs = list((state / "logs").glob("*.log"))
    assert logs, "the demo wrote no logs into its state folder"
    for log in logs:
        text = log.read_text()
        for secret in demo.ENV.values():
            assert secret not in text, (log, "a secret reached a log")
