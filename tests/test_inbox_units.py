"""The inbox's small parts: rsync's escaped names and item codes, distinct names, readiness."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from balupi.inbox.open_files import held_open_elsewhere, open_file_ids
from balupi.inbox.rsync_output import decode_name, parse_items
from balupi.inbox.scan import split_ready, status, walk
from balupi.inbox.staging import distinct_name, remove_emptied_folders


def test_rsync_escapes_decode_to_the_name_on_disk():
    assert decode_name(b"a\\#012b c.txt") == "a\nb c.txt"
    assert decode_name("Grüße.txt".encode()) == "Grüße.txt"
    assert decode_name(b"Gr\\#303\\#274\\#303\\#237e") == "Grüße"
    assert decode_name(b"back\\#134#slash") == "back\\#slash"
    assert decode_name(b"\\#377bad") == os.fsdecode(b"\xffbad")  # not UTF-8: kept as bytes


def test_item_lines():
    out = (
        b"cd+++++++++ folder/\n"
        b"<f+++++++++ folder/new file.txt\n"
        b".f          same.txt\n"
        b".f..t...... same content, other time.txt\n"
        b"<fcst...... differs\\#012.txt\n"
        b'skipping non-regular file "x"\n'
    )
    items = {i.name: i for i in parse_items(out) if i.is_file}
    assert set(items) == {
        "folder/new file.txt", "same.txt", "same content, other time.txt", "differs\n.txt",
    }  # fmt: skip
    assert items["folder/new file.txt"].is_new
    assert items["same.txt"].same_content
    assert items["same content, other time.txt"].same_content
    assert not items["differs\n.txt"].same_content and not items["differs\n.txt"].is_new


def test_distinct_names_keep_folder_and_extension():
    tag = "2026-11-27 10-00-00"
    assert distinct_name("a/b/photo.jpg", tag, 1) == "a/b/photo (inbox 2026-11-27 10-00-00).jpg"
    assert distinct_name("photo.jpg", tag, 2) == "photo (inbox 2026-11-27 10-00-00 2).jpg"
    assert distinct_name(".profile", tag, 1) == ".profile (inbox 2026-11-27 10-00-00)"
    assert distinct_name("README", tag, 1) == "README (inbox 2026-11-27 10-00-00)"
    long = distinct_name("ü" * 127 + ".txt", tag, 1)
    assert len(os.fsencode(long)) <= 255 and long.endswith(").txt")


def test_emptied_folders_go_but_never_the_root_or_a_full_one(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "keep" / "c").mkdir(parents=True)
    (tmp_path / "keep" / "other.txt").write_text("x")
    (tmp_path / "untouched").mkdir()
    remove_emptied_folders(tmp_path, ["a/b/gone.txt", "keep/c/gone.txt", "top.txt"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep", "untouched"]
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["other.txt"]


def test_walk_and_status_count_regular_files_only(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"12345")
    (tmp_path / "g").write_bytes(b"1")
    (tmp_path / "link").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "fifo")
    assert sorted(f.rel for f in walk(str(tmp_path))) == ["d/f", "g"]
    st = status(str(tmp_path))
    assert st.oldest_age_seconds is not None
    assert (st.files, st.bytes) == (2, 6) and 0 <= st.oldest_age_seconds < 60
    (tmp_path / "empty").mkdir()
    assert status(str(tmp_path / "empty")).oldest_age_seconds is None
    with pytest.raises(FileNotFoundError, match="not a folder"):
        status(str(tmp_path / "not-mounted"))


def test_open_and_fresh_files_are_not_ready(tmp_path):
    old = time.time() - 3600
    for name in ("open.txt", "fresh.txt", "ready.txt"):
        (tmp_path / name).write_text(name)
    for name in ("open.txt", "ready.txt"):
        os.utime(tmp_path / name, (old, old))
    # A real process holds the file open for writing, as smbd does while a client copies.
    with (tmp_path / "open.txt").open("ab") as out:
        holder = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read()"],
            stdin=subprocess.PIPE, stdout=out,
        )  # fmt: skip
    try:
        opened = (tmp_path / "open.txt").stat()
        assert (opened.st_dev, opened.st_ino) in open_file_ids(str(tmp_path))[0]
        # The kernel's word too: no write lease while another process has the file open.
        assert held_open_elsewhere(str(tmp_path / "open.txt")) is True
        assert held_open_elsewhere(str(tmp_path / "ready.txt")) is False
        files = list(walk(str(tmp_path)))
        # ctime counts too (Samba may set an old mtime): make "fresh" fresh only by mtime.
        ready, waiting = split_ready(files, str(tmp_path), settle_seconds=0)
        assert [f.rel for f in waiting] == ["open.txt"]
        ready, waiting = split_ready(files, str(tmp_path), settle_seconds=1800)
        assert sorted(f.rel for f in waiting) == ["fresh.txt", "open.txt", "ready.txt"]
    finally:
        holder.communicate(b"")
    files = list(walk(str(tmp_path)))
    ready, _waiting = split_ready(files, str(tmp_path), settle_seconds=0)
    assert sorted(f.rel for f in ready) == ["fresh.txt", "open.txt", "ready.txt"]
