"""`make demo` as a new user runs it: every part starts on its documented port, the plug's power
reaches Prometheus, the NAS sleeps and wakes through the handshake with `dig` following, and
Ctrl-C (SIGTERM) stops everything."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from balupi.devstack import demo, demo_handshake, pihole_demo
from balupi.devstack.dnsmasq import dig
from balupi.devstack.ports import port_in_use

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


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)  # polling a condition with a bound
    raise AssertionError(f"not within {timeout} s: {what}")


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


def test_demo_end_to_end():
    if taken := demo.ports_taken():
        pytest.skip(f"the demo's fixed ports are in use by something else here: {taken}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "balupi.devstack.demo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=demo.REPO,
    )  # fmt: skip
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "seen after" in output, output
        assert "http://127.0.0.1:9090/graph" in output and "/api/wake-nas" in output
        wait_for(lambda: prometheus_has('pihole_up{job="pihole"} == 1'), 60, "Pi-hole scraped")

        # The simulated NAS is up: the handshake points baluhost.local at it.
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.NAS_IP, 30, "NAS")
        assert post(demo_handshake.CONTROL_URL, {"action": "shutdown"})["state"] == "sleeping"
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.PI_IP, 10, "Pi")
        assert post(f"{demo_handshake.API_URL}/api/wake-nas")["wol_sent"] is True
        wait_for(lambda: dig(DNS_PORT, "baluhost.local") == demo_handshake.NAS_IP, 30, "woken")

        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(lines) + rest
    assert "Stopped." in rest
    assert not demo.ports_taken()  # every child is gone
    for log in (demo.REPO / ".demo" / "logs").glob("*.log"):
        text = log.read_text()
        for secret in demo.ENV.values():
            assert secret not in text, (log, "a secret reached a log")
