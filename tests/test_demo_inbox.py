"""`make demo`'s inbox: a file dropped with smbclient reaches the simulated NAS's disk."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from balupi.devstack.demo import DEMO_DIR, PORTS
from balupi.devstack.ports import port_in_use

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def test_demo_moves_a_dropped_file_to_the_nas(tmp_path):
    if busy := [p for p in PORTS.values() if port_in_use(p)]:
        pytest.skip(f"the demo's fixed ports {busy} are in use by something else here")
    demo = subprocess.Popen(
        [sys.executable, "-m", "balupi.devstack.demo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output = ""
    try:
        for line in demo.stdout:
            output += line
            if "Press Ctrl-C" in line:
                break
        assert "Drop a file:" in output, output
        name = "Grüße vom Laptop.txt"
        (tmp_path / name).write_text("hallo NAS\n")
        subprocess.run(
            ["smbclient", "-p", str(PORTS["smbd (share and inbox)"]), "//127.0.0.1/inbox",
             "-A", str(DEMO_DIR / "smbd" / "smbclient.auth"), "-c", f'put "{name}"'],
            cwd=tmp_path, check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        config = DEMO_DIR / "inbox.toml"
        flush = subprocess.run(
            [str(BIN / "balupi"), "inbox", "flush", "--config", str(config)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        # settle_seconds = 2 in the demo: a file that just arrived may wait one round.
        if "moved 0 file(s)" in flush.stderr:
            subprocess.run(["sleep", "2.1"], check=True)
            flush = subprocess.run(
                [str(BIN / "balupi"), "inbox", "flush", "--config", str(config)],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
        assert flush.returncode == 0, flush.stderr
        arrived = DEMO_DIR / "nas-disk" / "inbox-from-pi" / name
        assert arrived.read_text() == "hallo NAS\n"
        arrived.unlink()
        demo.send_signal(signal.SIGTERM)
        rest, _ = demo.communicate(timeout=30)
    finally:
        if demo.poll() is None:  # a failed step: let the demo stop its children itself
            demo.send_signal(signal.SIGTERM)
            try:
                demo.wait(30)
            except subprocess.TimeoutExpired:
                demo.kill()
    assert demo.returncode == 0, output + rest
    assert not any(port_in_use(p) for p in PORTS.values())  # every child is gone
