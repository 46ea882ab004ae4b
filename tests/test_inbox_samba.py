"""The shares through Debian's smbd on loopback, used with smbclient as a user would; a file put
into the inbox reaches the NAS (Debian's sshd on loopback) with the flush."""

from __future__ import annotations

import getpass
import subprocess

import pytest

from balupi.devstack.ports import free_port
from balupi.devstack.samba import SambaServer
from balupi.devstack.sshd import SshServer
from balupi.inbox.open_files import held_open_elsewhere, open_file_ids
from balupi.inbox.report import OK
from tests.inbox_helpers import assert_each_file_once, files_below, make_box
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
PASSWORD = "test-only-password"  # a throwaway account of the test smbd


@pytest.fixture
def stack(tmp_path):
    sshd = SshServer(tmp_path / "sshd", port=free_port())
    box = make_box(tmp_path, sshd)
    share = tmp_path / "share"
    share.mkdir()
    smbd = SambaServer(
        tmp_path / "smbd", port=free_port(), share=share, inbox=box.inbox,
        user=getpass.getuser(), password=PASSWORD,
    )  # fmt: skip
    started = []
    try:
        for server in (sshd, smbd):
            started.append(server.start())
            server.wait_ready()
        yield box, smbd, share, tmp_path
    finally:
        for server in started:
            server.stop()


async def test_a_file_put_into_the_inbox_reaches_the_nas(stack):
    box, smbd, _share, tmp_path = stack
    local = tmp_path / "laptop"
    local.mkdir()
    (local / "Grüße aus Köln.txt").write_bytes(b"viele Gr\xc3\xbc\xc3\x9fe\n" * 1000)
    smbd.client(
        "inbox",
        'mkdir "Urlaub 2026"; put "Grüße aus Köln.txt" "Urlaub 2026\\Grüße aus Köln.txt"',
        cwd=local,
    )
    dropped = files_below(box.inbox)
    assert list(dropped) == ["Urlaub 2026/Grüße aus Köln.txt"]
    report = await box.mover().flush()
    assert report.result == OK and report.moved_files == 1, report
    assert_each_file_once(dropped, box)
    assert "Urlaub 2026" not in smbd.client("inbox", "ls")  # the emptied folder went too


def test_desktop_junk_is_kept_out_of_the_inbox(stack):
    box, smbd, _share, tmp_path = stack
    (tmp_path / "junk").write_bytes(b"x")
    for name in (".DS_Store", "Thumbs.db", "._photo.jpg", "desktop.ini"):
        with pytest.raises(RuntimeError, match="NT_STATUS_OBJECT_NAME_NOT_FOUND"):
            smbd.client("inbox", f'put junk "{name}"', cwd=tmp_path)
    smbd.client("inbox", 'put junk "photo.jpg"', cwd=tmp_path)
    assert sorted(files_below(box.inbox)) == ["photo.jpg"]


def test_symlinks_do_not_lead_out_of_the_share(stack):
    _box, smbd, share, tmp_path = stack
    (share / "escape").symlink_to("/etc")
    (share / "own.txt").write_text("mine")
    with pytest.raises(RuntimeError, match="NT_STATUS_"):
        smbd.client("share", "get escape/hostname hostname", cwd=tmp_path)
    smbd.client("share", "get own.txt own.txt", cwd=tmp_path)
    assert (tmp_path / "own.txt").read_text() == "mine"


async def test_a_file_samba_holds_open_waits(stack):
    box, smbd, _share, _tmp = stack
    (box.inbox / "copying.bin").write_bytes(b"still arriving")
    # An interactive smbclient opens the file and keeps it open, as a copy in progress does.
    client = subprocess.Popen(  # noqa: ASYNC220 - started once, talked to through pipes
        ["smbclient", "-p", str(smbd.port), "//127.0.0.1/inbox", "-A", str(smbd.auth_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert client.stdin is not None  # stdin=PIPE
    try:
        client.stdin.write("open copying.bin\n")
        client.stdin.flush()
        mover = box.mover()
        stat = (box.inbox / "copying.bin").stat()
        wait_for(
            lambda: (stat.st_dev, stat.st_ino) in open_file_ids(str(box.inbox))[0],
            what="smbd holds the file open",
            timeout=20,
        )
        # The kernel says so as well, as it does for a flush that may not read smbd's /proc.
        assert held_open_elsewhere(str(box.inbox / "copying.bin")) is True
        report = await mover.flush()
        assert report.not_ready == ["copying.bin"] and report.moved_files == 0
    finally:
        client.communicate("quit\n", timeout=20)
    report = await box.mover().flush()
    assert report.moved_files == 1 and files_below(box.inbox) == {}
