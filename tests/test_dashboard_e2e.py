"""The dashboard end to end in Debian's Chromium (tests/e2e/dashboard.e2e.mjs, playwright-core)
against the real stack: nginx serving frontend-dist/, Prometheus, the services, the simulators.

The browser script does what a person does and waits for what they would see; it asks this test
to stop and start Prometheus, the Pi-hole simulator and the NAS's sshd, to put a file into the
inbox and to look for it on the NAS's disk (tests/e2e_inbox.py). Screenshots (de and en, a
360 px phone and a desktop) are kept in test-output/e2e/; `make dashboard-screenshot` copies
one to docs/dashboard.png for the README.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from balupi.devstack.dashboard_stack import ONLINE_WATTS, DashboardStack
from balupi.devstack.nginx import FRONTEND_DIST, REPO
from balupi.sim.nas.plug_feed import ASLEEP_WATTS
from tests.e2e_inbox import InboxSide

pytestmark = pytest.mark.integration
E2E = REPO / "tests" / "e2e"
OUT = REPO / "test-output" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
README_SHOT = "en-desktop-inbox.png"
SHOTS = ("en-desktop-asleep", "en-desktop-woken", "en-desktop-inbox", "en-desktop-inbox-failed",
         "de-phone", "en-phone", "de-desktop")  # fmt: skip
STOPPABLE = ("prometheus", "pihole", "nas_ssh")
TIMEOUT = 300  # the whole script; each step has its own 30 s bound inside it


def _needs() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's chromium is missing: run make system-deps"
    if shutil.which("node") is None:
        return "node is missing (Node 20)"
    if not (E2E / "node_modules" / "playwright-core").exists():
        return "playwright-core is not installed: make test runs npm ci in tests/e2e"
    return None


def test_a_person_uses_the_dashboard(dashboard_stack):
    if reason := _needs():
        pytest.skip(reason)
    assert (FRONTEND_DIST / "index.html").exists(), "frontend-dist/ is not built: make frontend"
    shutil.rmtree(OUT, ignore_errors=True)
    ports = dashboard_stack.ports
    config = {
        "url": f"{dashboard_stack.url}/",
        "plug": f"http://127.0.0.1:{ports['plug']}/sim/control",
        "nasControl": f"http://127.0.0.1:{ports['nas_control']}/sim/control",
        "out": str(OUT),
        # what the plug reads while the simulated NAS runs and sleeps (sim/nas/plug_feed.py)
        "onlineWatts": ONLINE_WATTS,
        "asleepWatts": ASLEEP_WATTS,
        "timezone": os.environ.get("TZ"),  # the stack's, when the fixture chose one
    }
    proc = subprocess.Popen(
        ["node", str(E2E / "dashboard.e2e.mjs")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "BALUPI_E2E": json.dumps(config)}, cwd=E2E,
    )  # fmt: skip
    timer = threading.Timer(TIMEOUT, proc.kill)  # a bound on the whole run, not a wait
    timer.start()
    seen: list[str] = []
    inbox = InboxSide(dashboard_stack)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for line in proc.stdout:
            seen.append(line.rstrip())
            if line.startswith("@@ask "):
                answer = _answer(dashboard_stack, inbox, json.loads(line.removeprefix("@@ask ")))
                proc.stdin.write(json.dumps(answer) + "\n")
                proc.stdin.flush()
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        for part in STOPPABLE:  # a failed step leaves every part running
            if not dashboard_stack.parts[part].running:
                dashboard_stack.start(part)
    output = "\n".join(seen)
    assert code == 0 and "e2e: passed" in output, output
    for name in SHOTS:
        assert (OUT / f"{name}.png").stat().st_size > 10_000, name
    if os.environ.get("BALUPI_DASHBOARD_SCREENSHOT"):
        shutil.copyfile(OUT / README_SHOT, REPO / "docs" / "dashboard.png")


def _answer(stack: DashboardStack, inbox: InboxSide, request: dict) -> dict:
    """Does what the script asked; a failed check goes back to it, which stops with it."""
    try:
        if "stop" in request:
            stack.stop(request["stop"])
        elif "start" in request:
            stack.start(request["start"])
        elif "drop" in request:
            inbox.drop(request["drop"])
        else:
            inbox.arrived(request["arrived"])
    except AssertionError as err:
        return {"ok": False, "why": str(err)}
    return {"ok": True}
