"""What the browser test asks of the inbox side: put a file into the inbox as Samba would, and
tell whether it arrived on the NAS's disk (tests/test_dashboard_e2e.py answers the script)."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request

from balupi.devstack.dashboard_stack import DashboardStack
from tests.waiting import wait_for

DROP_BYTES = 2_400_000  # "2.4 MB" in the panel


class InboxSide:
    def __init__(self, stack: DashboardStack) -> None:
        self.stack = stack
        self.dropped: dict[str, str] = {}  # name -> sha256

    def drop(self, name: str) -> None:
        """A file lands in the inbox once no flush of the NAS's last boot is pending (the flush
        that follows a boot would take it before the person presses "Move now"), and Prometheus
        has scraped its age (the panel asks for it when the page loads)."""
        wait_for(self._boot_flush_done, timeout=30, what="the flush after the NAS's boot done")
        data = os.urandom(DROP_BYTES)
        (self.stack.inbox / name).write_bytes(data)
        self.dropped[name] = hashlib.sha256(data).hexdigest()
        wait_for(
            lambda: self.stack.prometheus.query("balupi_inbox_oldest_file_age_seconds"),
            timeout=30,
            what=f"Prometheus to see {name} waiting",
        )

    def arrived(self, name: str) -> None:
        """The file is on the NAS's disk, whole, and no longer in the inbox."""
        on_nas = self.stack.nas_disk / name
        assert on_nas.is_file(), f"{name} is not on the NAS: {sorted(os.listdir(on_nas.parent))}"
        assert hashlib.sha256(on_nas.read_bytes()).hexdigest() == self.dropped[name], name
        assert not (self.stack.inbox / name).exists(), f"{name} is still in the inbox"

    def _boot_flush_done(self) -> bool:
        nas = _get_json(f"http://127.0.0.1:{self.stack.ports['nas_control']}/sim/state")
        announced = sum(a == "online: acknowledged" for a in nas["announcements"])
        if nas["state"] != "running" or announced < nas["boots"]:
            return False  # booting, or its announcement (which starts a flush) still to come
        inbox = _get_json(f"{self.stack.url}/api/status")["inbox"]
        if inbox["flush_running"]:
            return False
        if nas["boots"] == 0:
            return True  # running since the stack started: no boot, no flush after it
        last = inbox["last_flush"]
        return last is not None and last["started_at"] >= nas["healthy_since"]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:  # loopback
        return dict(json.load(answer))
