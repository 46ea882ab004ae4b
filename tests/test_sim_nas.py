"""`balupi-sim nas` as the demo runs it: asleep after a shutdown, awake after a magic packet for
its MAC (and only its MAC) reaches its UDP port."""

from __future__ import annotations

import json
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import wakeonlan

from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess, http_ok
from balupi.handshake.snapshot import parse_snapshot
from balupi.sim.nas.magic_packet import is_magic_packet_for
from balupi.sim.nas.server import snapshot_at
from tests.waiting import wait_for

BIN = Path(sys.executable).parent
MAC = "02:00:00:00:00:42"


def control(port: int, action: str | None = None) -> dict:
    url = f"http://127.0.0.1:{port}/sim/" + ("control" if action else "state")
    data = json.dumps({"action": action}).encode() if action else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as answer:
        return json.load(answer)


def test_the_snapshot_it_sends_is_made_now_with_last_night_s_backup():
    zone = timezone(timedelta(hours=1))
    for now, backup in (
        (datetime(2026, 12, 2, 8, 30, tzinfo=zone), "2026-12-02T03:00:00+01:00"),
        (datetime(2026, 12, 2, 1, 15, tzinfo=zone), "2026-12-01T03:00:00+01:00"),
    ):
        snapshot = snapshot_at(now)
        parse_snapshot(json.dumps(snapshot).encode())  # what the Pi accepts
        assert snapshot["generated_at"] == now.isoformat()
        # BaluHost's shape: the last backup's created_at and its status.
        assert snapshot["services"]["backups"] == {"last_backup": backup, "status": "completed"}


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
