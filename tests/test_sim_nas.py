"""`balupi-sim nas` as the demo runs it: asleep after a shutdown, awake after a magic packet for
its MAC (and only its MAC) reaches its UDP port."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import wakeonlan

from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess, http_ok
from balupi.sim.nas.magic_packet import is_magic_packet_for
from tests.waiting import wait_for

BIN = Path(sys.executable).parent
MAC = "02:00:00:00:00:42"


def control(port: int, action: str | None = None) -> dict:
    url = f"http://127.0.0.1:{port}/sim/" + ("control" if action else "state")
    data = json.dumps({"action": action}).encode() if action else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as answer:
        return json.load(answer)


def test_magic_packet_recognition():
    packet = wakeonlan.create_magic_packet(MAC)
    assert is_magic_packet_for(packet, MAC)
    assert not is_magic_packet_for(packet, "02:00:00:00:00:43")
    assert not is_magic_packet_for(packet[:-1], MAC)


def test_sleeps_and_wakes_on_its_magic_packet(tmp_path):
    api, ctl, wol = free_port(), free_port(), free_udp_port()
    sim = ManagedProcess(
        "sim-nas",
        [str(BIN / "balupi-sim"), "nas", "--port", str(api), "--control-port", str(ctl),
         "--wol-port", str(wol), "--mac", MAC, "--boot-seconds", "0.2"],
        log_path=tmp_path / "sim.log",
    ).start()  # fmt: skip
    health = f"http://127.0.0.1:{api}/api/health"
    try:
        sim.wait_http(health, timeout=20)
        assert control(ctl, "shutdown")["state"] == "sleeping"
        assert not http_ok(health)
        wakeonlan.wake("02:00:00:00:00:43", host="127.0.0.1", port=wol)  # someone else's
        wakeonlan.wake(MAC, host="127.0.0.1", port=wol)
        wait_for(lambda: http_ok(health), what="the NAS awake after the magic packet")
        state = control(ctl)
        assert state["state"] == "running" and state["magic_packets"] == 1
        assert control(ctl, "kill")["state"] == "dead" and not http_ok(health)
        control(ctl, "revive")
        wait_for(lambda: http_ok(health), what="the NAS revived")
    finally:
        sim.stop()
