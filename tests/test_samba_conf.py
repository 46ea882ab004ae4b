"""samba/balupi-shares.conf: testparm-clean, no symlink escapes, junk kept out of the inbox."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from balupi.devstack.samba import SHARES_CONF


def test_shares_pass_testparm(tmp_path):
    if not shutil.which("testparm"):
        pytest.fail("testparm is missing: run `make system-deps` (Debian package samba)")
    conf = tmp_path / "smb.conf"
    conf.write_text(f"[global]\n   server role = standalone server\n   include = {SHARES_CONF}\n")
    run = subprocess.run(["testparm", "-s", str(conf)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    for bad in ("Unknown parameter", "Ignoring unknown", "found in service section", "ERROR"):
        assert bad not in run.stderr, run.stderr
    shares = run.stdout.split("\n[")
    share = next(s for s in shares if s.startswith("share]"))
    inbox = next(s for s in shares if s.startswith("inbox]"))
    for section in (share, inbox):
        assert "follow symlinks = No" in section
        assert "read only = No" in section
    assert "path = /smb/share" in share and "path = /smb/inbox" in inbox
    for junk in (".DS_Store", "Thumbs.db", "._*", "desktop.ini"):
        assert f"/{junk}/" in inbox
    assert "delete veto files = Yes" in inbox
    # testparm leaves out defaults: wide links stays at its safe "no".
    assert "wide links = Yes" not in run.stdout
