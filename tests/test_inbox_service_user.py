"""As the service user the flush cannot see root's smbd in /proc: the kernel's write lease still
tells it that a file is open. Runs the readiness check as user nobody against a file root keeps
open."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CHECK = """
import json, sys
from balupi.inbox.scan import split_ready, walk
folder = sys.argv[1]
ready, waiting = split_ready(list(walk(folder)), folder, settle_seconds=0)
print(json.dumps([sorted(f.rel for f in ready), sorted(f.rel for f in waiting)]))
"""


def test_a_file_another_user_holds_open_waits():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to act as another user")
    nobody = pwd.getpwnam("nobody")
    # Under /tmp itself: pytest's own folders are private to root.
    folder = Path(tempfile.mkdtemp(prefix="balupi-lease-"))
    holder = None
    try:
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        for name in ("open.txt", "quiet.txt"):
            (folder / name).write_text(name)
            os.chown(folder / name, nobody.pw_uid, nobody.pw_gid)  # owned, as via force user
        with (folder / "open.txt").open("ab") as out:
            holder = subprocess.Popen(["sleep", "60"], stdout=out)  # root's process, like smbd
        run = subprocess.run(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
             sys.executable, "-c", CHECK, str(folder)],
            capture_output=True, text=True, cwd="/tmp", timeout=60, check=False,
        )  # fmt: skip
        if run.returncode != 0 and ("Error" in run.stderr or "denied" in run.stderr):
            pytest.skip(f"cannot run this Python as nobody here: {run.stderr.strip()[-200:]}")
        assert json.loads(run.stdout) == [["quiet.txt"], ["open.txt"]], run.stderr
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        shutil.rmtree(folder, ignore_errors=True)
