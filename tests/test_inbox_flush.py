"""The flush against a real NAS end: Debian's sshd on loopback with a key made for the test,
and rsync. After every case each dropped file is in exactly one place, intact."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import signal
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from balupi.devstack.ports import free_port
from balupi.devstack.sshd import SshServer
from balupi.inbox import FlushBusyError
from balupi.inbox.report import FAILED, OK, PARTIAL
from balupi.inbox.rsync_command import PARTIAL_DIR
from tests.inbox_helpers import (
    Box,
    assert_each_file_once,
    files_below,
    make_box,
    our_rsync_pids,
    partial_temp_file,
    write_random,
)
from tests.waiting import wait_for, wait_for_async

pytestmark = pytest.mark.integration


@pytest.fixture
def box(tmp_path: Path, sshd: SshServer) -> Box:
    return make_box(tmp_path, sshd)


def drop(box: Box, files: dict[str, bytes]) -> dict[str, str]:
    for rel, data in files.items():
        path = box.inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {rel: v for rel, v in files_below(box.inbox).items() if rel in files}


async def test_names_with_spaces_umlauts_and_newlines(box):
    dropped = drop(
        box,
        {
            "Urlaub 2026/Grüße aus Köln.txt": b"gruss",
            "Urlaub 2026/tief/ä ö ü ß.jpg": b"\xff\xd8 jpeg",
            "zwei\nZeilen.txt": b"newline in the name",
            "back\\#012slash.txt": b"looks like an rsync escape",
            " leading and trailing ": b"spaces",
            "-starts-with-dash": b"dash",
        },
    )
    mover = box.mover()
    report = await mover.flush()
    assert report.result == OK, report
    assert report.moved_files == len(dropped)
    assert report.moved_bytes == sum(len(v) for v in [b"gruss", b"\xff\xd8 jpeg"]) + sum(
        len(v) for v in [b"newline in the name", b"looks like an rsync escape", b"spaces", b"dash"]
    )
    assert_each_file_once(dropped, box)
    assert files_below(box.inbox) == {}
    # Emptied folders go, the inbox itself stays.
    assert box.inbox.is_dir() and list(box.inbox.iterdir()) == []
    assert mover.scan().files == 0


async def test_name_collision_arrives_under_a_distinct_name(box):
    (box.nas / "fotos").mkdir()
    (box.nas / "fotos" / "bild.jpg").write_bytes(b"the NAS's own picture")
    (box.nas / "same.txt").write_bytes(b"identical")
    nas_before = files_below(box.nas)
    dropped = drop(
        box,
        {
            "fotos/bild.jpg": b"another picture, same name",
            "fotos/neu.jpg": b"new",
            "same.txt": b"identical",
        },
    )
    report = await box.mover().flush()
    assert report.result == OK, report
    (renamed,) = report.renamed
    assert renamed.inbox_name == "fotos/bild.jpg"
    assert renamed.nas_name.startswith("fotos/bild (inbox ") and renamed.nas_name.endswith(".jpg")
    # The same content already under that name (an earlier flush cut off before it removed the
    # inbox copy): nothing sent twice, the inbox copy goes.
    assert report.already_on_nas == ["same.txt"]
    assert report.moved_files == 2
    del dropped["same.txt"]
    assert_each_file_once(
        dropped, box, nas_before=nas_before, renamed={"fotos/bild.jpg": renamed.nas_name}
    )
    assert not (box.inbox / "same.txt").exists()


async def test_a_distinct_name_that_is_taken_too_gets_another(box):
    (box.nas / "a.txt").write_bytes(b"first")
    # The first distinct name of every second the flush may start in is taken as well.
    now = datetime.now()
    for s in range(-1, 30):
        tag = (now + timedelta(seconds=s)).strftime("%Y-%m-%d %H-%M-%S")
        (box.nas / f"a (inbox {tag}).txt").write_bytes(b"taken")
    nas_before = files_below(box.nas)
    dropped = drop(box, {"a.txt": b"second"})
    report = await box.mover().flush()
    assert report.result == OK, report
    (renamed,) = report.renamed
    assert renamed.nas_name.startswith("a (inbox ") and renamed.nas_name.endswith(" 2).txt")
    assert_each_file_once(dropped, box, nas_before=nas_before, renamed={"a.txt": renamed.nas_name})


def hold_open(path: Path) -> subprocess.Popen:
    """Another process keeps ``path`` open for writing, as smbd does while a client copies."""
    with path.open("ab") as out:
        return subprocess.Popen(["sleep", "60"], stdout=out)


def chattr(path: Path, flag: str) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


async def test_files_being_written_wait_for_the_next_round(box):
    drop(box, {"done.txt": b"complete", "writing.txt": b"half"})
    holder = hold_open(box.inbox / "writing.txt")
    try:
        report = await box.mover().flush()
        assert report.result == OK and report.not_ready == ["writing.txt"]
        assert report.moved_files == 1 and (box.inbox / "writing.txt").exists()
        drop(box, {"fresh.txt": b"just arrived"})
        settle = await box.mover(settle_seconds=600).flush()
        assert sorted(settle.not_ready) == ["fresh.txt", "writing.txt"]
        assert settle.moved_files == 0
    finally:
        holder.kill()
        holder.wait()
    report = await box.mover().flush()
    assert report.moved_files == 2 and files_below(box.inbox) == {}
    assert set(files_below(box.nas)) == {"done.txt", "writing.txt", "fresh.txt"}


async def test_permission_error_on_one_file_the_others_move(box):
    dropped = drop(box, {f"dir{i}/f.txt": f"file {i}".encode() for i in range(5)})
    # The NAS refuses one folder: immutable, so not even root may create a file in it.
    (box.nas / "dir2").mkdir()
    if not chattr(box.nas / "dir2", "+i"):
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        report = await box.mover().flush()
    finally:
        assert chattr(box.nas / "dir2", "-i")
    assert report.result == PARTIAL and report.moved_files == 4
    (problem,) = report.problems
    assert problem.name == "dir2/f.txt" and "not transferred" in problem.reason
    assert "Operation not permitted" in report.error
    assert_each_file_once(dropped, box)
    assert (box.inbox / "dir2").is_dir() and not (box.inbox / "dir0").exists()


async def test_symlinks_and_empty_folders_stay_the_files_beside_them_move(box):
    dropped = drop(box, {"album/a.jpg": b"a", "album/deep/b.jpg": b"b", "plain/c.txt": b"c"})
    (box.inbox / "album" / "link").symlink_to("/etc")  # a folder: files_below skips it
    (box.inbox / "plain" / "empty").mkdir()
    report = await box.mover().flush()
    assert report.result == OK and report.moved_files == 3
    assert_each_file_once(dropped, box)
    assert (box.inbox / "album" / "link").is_symlink() and (box.inbox / "plain/empty").is_dir()
    assert not (box.inbox / "album" / "deep").exists()
    assert not (box.nas / "album" / "link").exists() and not (box.nas / "plain/empty").exists()


async def test_files_in_flight_count_as_waiting(box):
    write_random(box.inbox / "film" / "part1.mkv", 8 << 20)
    mover = box.mover(bandwidth_limit_kib=4096)  # about 2 s for the file
    flush = asyncio.ensure_future(mover.flush())
    await wait_for_async(
        lambda: partial_temp_file(box.nas / "film", "part1.mkv", 1),
        what="rsync writing",
        timeout=20,
    )
    assert files_below(box.inbox) == {}  # taken out of the share while it is sent
    waiting = await asyncio.to_thread(mover.scan)
    assert (waiting.files, waiting.bytes) == (1, 8 << 20)
    report = await flush
    assert report.result == OK and report.moved_files == 1
    assert (await asyncio.to_thread(mover.scan)).files == 0


async def test_ten_thousand_small_files_in_nested_folders(box):
    expected = {}
    for i in range(10_000):
        rel = f"d{i % 10}/e{i % 100}/f {i}.txt"
        expected[rel] = f"small file {i}\n".encode()
    dropped = drop(box, expected)
    report = await box.mover().flush()
    assert report.result == OK, report.error
    assert report.moved_files == 10_000
    assert_each_file_once(dropped, box)
    assert list(box.inbox.iterdir()) == []


async def test_a_second_flush_joins_the_running_one(box):
    drop(box, {"x.txt": b"x"})
    mover = box.mover()
    first, second = await asyncio.gather(mover.flush(), mover.flush())
    assert first is second and mover.tally.flushes_total[OK] == 1


async def test_a_flush_in_another_process_makes_this_one_refuse(box):
    drop(box, {"x.txt": b"x"})
    mover = box.mover()
    box.staging.mkdir(exist_ok=True)
    fd = os.open(box.staging / "flush.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(FlushBusyError, match="another process"):
            await mover.flush()
    finally:
        os.close(fd)
    assert (await mover.flush()).moved_files == 1


async def test_leftovers_of_an_interrupted_flush_are_recovered(box):
    # As if the Pi lost power mid-flush: a folder and a file in staging (their only copy), and
    # the file's name taken by a client in the inbox since. Also a hard link whose inbox file
    # is still there, as an older version left them.
    staged_b = drop(box, {"b.txt": b"staged b"})["b.txt"]
    dropped = drop(box, {"kept.txt": b"kept", "sub/deep/a.txt": b"a"})
    staged = box.staging / "files"
    staged.mkdir(parents=True)
    os.rename(box.inbox / "sub", staged / "sub")
    os.rename(box.inbox / "b.txt", staged / "b.txt")
    os.link(box.inbox / "kept.txt", staged / "kept.txt")
    dropped.update(drop(box, {"b.txt": b"the client's new b"}))
    report = await box.mover().flush()
    assert report.result == OK, report
    assert report.moved_files == 4 and report.renamed == []
    assert_each_file_once({**dropped, "b (inbox restored).txt": staged_b}, box)


async def test_nas_unreachable_fails_and_keeps_everything(box):
    dropped = drop(box, {"a.txt": b"a"})
    report = await box.mover(nas_port=free_port()).flush()
    assert report.result == FAILED
    assert report.error.startswith("ssh to the NAS failed, nothing listens on the NAS's SSH port")
    assert "Connection refused" in report.error
    assert_each_file_once(dropped, box)


async def test_rsync_killed_mid_file_resumes_next_flush(box):
    dropped = drop(box, {"small.txt": b"small"})
    write_random(box.inbox / "big.bin", 24 << 20)
    dropped = files_below(box.inbox)
    slow = box.mover(bandwidth_limit_kib=4096)  # about 6 s for the file: time to cut it
    flush = asyncio.ensure_future(slow.flush())
    await wait_for_async(
        lambda: partial_temp_file(box.nas, "big.bin", 1 << 20),
        what="rsync writing big.bin",
        timeout=20,
    )
    for pid in our_rsync_pids():
        os.kill(pid, signal.SIGKILL)
    report = await flush
    assert report.result == FAILED and "killed by signal 9" in report.error
    assert not (box.nas / "big.bin").exists()  # never a partial file under the final name
    assert (box.inbox / "big.bin").exists()
    assert_each_file_once(dropped, box)
    # The NAS's rsync notices the cut and keeps what it has for the next flush to resume.
    await wait_for_async(
        lambda: (box.nas / PARTIAL_DIR / "big.bin").exists(), what="partial file kept", timeout=20
    )
    report = await box.mover().flush()
    assert report.result == OK, report.error
    assert_each_file_once(dropped, box)
    assert not (box.nas / PARTIAL_DIR).exists()


async def test_nas_going_away_mid_flush_loses_nothing(tmp_path):
    sshd = SshServer(tmp_path / "sshd", port=free_port())
    sshd.start()
    try:
        sshd.wait_ready()
        box = make_box(tmp_path, sshd)
        write_random(box.inbox / "film.mkv", 24 << 20)
        dropped = files_below(box.inbox)
        flush = asyncio.ensure_future(box.mover(bandwidth_limit_kib=4096).flush())
        await wait_for_async(
            lambda: partial_temp_file(box.nas, "film.mkv", 1 << 20),
            what="rsync writing",
            timeout=20,
        )
        sshd.stop_all()  # the NAS is gone: listener and session
        report = await flush
        assert report.result == FAILED and (report.error or "").startswith("rsync exit")
        assert_each_file_once(dropped, box)
        # The NAS comes back: the next flush delivers.
        sshd = SshServer(tmp_path / "sshd", port=sshd.port)
        sshd.start()
        sshd.wait_ready()
        report = await box.mover().flush()
        assert report.result == OK, report.error
        assert_each_file_once(dropped, box)
    finally:
        sshd.stop()


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "nas-disk"
    disk.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs as the NAS disk: {mount.stderr.strip()}")
    try:
        yield disk
    finally:
        # The NAS side's rsync may take a moment to exit and let go of the folder.
        unmount = ["umount", str(disk)]
        try:
            wait_for(
                lambda: subprocess.run(unmount, capture_output=True).returncode == 0,
                what="the NAS disk unmounted",
                timeout=20,
            )
        finally:
            subprocess.run(["umount", "--lazy", str(disk)], capture_output=True)


async def test_nas_disk_full_keeps_what_does_not_fit(tmp_path, sshd, small_disk):
    box = make_box(tmp_path, sshd, nas=small_disk)
    for i in range(3):
        write_random(box.inbox / f"a{i}.bin", 300 << 10)
    write_random(box.inbox / "z-too-big.bin", 3 << 20)
    dropped = files_below(box.inbox)
    report = await box.mover().flush()
    # What else fits depends on which file the two rsyncs were writing when the disk filled.
    assert report.result in (PARTIAL, FAILED), report
    assert (box.inbox / "z-too-big.bin").exists()
    # rsync's own words, or (when its receiver ends before they arrive) the meaning of exit 11.
    error = report.error or ""
    assert "No space left on device" in error or "is the NAS disk full?" in error
    assert_each_file_once(dropped, box)
    # The user takes the file that can never fit: everything else goes.
    (box.inbox / "z-too-big.bin").unlink()
    del dropped["z-too-big.bin"]
    report = await box.mover().flush()
    assert report.result == OK, report
    assert_each_file_once(dropped, box)
    assert files_below(box.inbox) == {}


async def test_a_staging_folder_on_another_filesystem_is_refused(box):
    dropped = drop(box, {"a.txt": b"a"})
    if not _other_filesystem("/dev/shm", box.inbox):
        pytest.skip("no second filesystem at /dev/shm")
    staging = Path("/dev/shm") / f"balupi-test-staging-{os.getpid()}"
    try:
        report = await box.mover(staging_path=staging).flush()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert report.result == FAILED and "must be on the inbox's filesystem" in report.error
    report = await box.mover(path=box.inbox / "not-mounted").flush()
    assert report.result == FAILED and "is not a folder" in report.error
    assert_each_file_once(dropped, box)


def _other_filesystem(folder: str, than: Path) -> bool:
    return os.path.isdir(folder) and os.stat(folder).st_dev != os.stat(than).st_dev
