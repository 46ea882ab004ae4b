"""The handshake part of `make demo`, run as the README says: waking the NAS from the API works."""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import pytest

from balupi.devstack import demo_handshake
from balupi.devstack.dnsmasq import dig
from balupi.devstack.process import ManagedProcess

pytestmark = pytest.mark.integration


def post(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else b""
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as answer:
        return json.load(answer)


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)  # polling a condition with a bound
    raise AssertionError("condition not met")


def test_demo_wakes_the_simulated_nas(tmp_path):
    if demo_handshake.ports_taken():
        pytest.skip(f"demo ports in use: {demo_handshake.ports_taken()}")
    demo = ManagedProcess(
        "demo", [sys.executable, "-m", "balupi.devstack.demo_handshake"],
        log_path=tmp_path / "demo.log", cwd=demo_handshake.REPO,
    ).start()  # fmt: skip
    api = f"http://127.0.0.1:{demo_handshake.PORTS['balupi-handshake']}"
    control = f"http://127.0.0.1:{demo_handshake.PORTS['simulated NAS control']}/sim/control"
    port = demo_handshake.PORTS["dnsmasq"]
    try:
        demo.wait_until(lambda: "Press Ctrl-C" in demo.log_tail(30), timeout=60, what="ready")
        wait_for(lambda: dig(port, "baluhost.local") == demo_handshake.NAS_IP, 20)
        assert post(control, {"action": "shutdown"})["state"] == "sleeping"
        assert dig(port, "baluhost.local") == demo_handshake.PI_IP
        assert post(f"{api}/api/wake-nas")["wol_sent"] is True
        wait_for(lambda: dig(port, "baluhost.local") == demo_handshake.NAS_IP, 30)
    finally:
        assert demo.stop() == 0, demo.log_tail()
    assert "Stopped." in demo.log_tail()
    secret = demo_handshake.ENV["BALUPI_HANDSHAKE_SECRET"]
    for log in (demo_handshake.REPO / ".demo" / "logs").glob("*.log"):
        assert secret not in log.read_text(), log
