"""Taking a flush's files out of the inbox and putting back what did not go, on a real
filesystem: what moves whole, what a client adds in the moment between scan and move, and
that no move ever replaces a file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from balupi.inbox import no_replace
from balupi.inbox.batch import Batch, plan
from balupi.inbox.report import FileProblem
from balupi.inbox.scan import Tree, split_ready, walk
from balupi.inbox.staging import Staging


def make(root: Path, rels: list[str]) -> None:
    for rel in rels:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def scan(inbox: Path, not_ready: tuple[str, ...] = ()) -> Batch:
    tree = Tree()
    files = list(walk(str(inbox), None, tree))
    ready, _ = split_ready(files, str(inbox), 0, (set(), True))
    ready = [f for f in ready if f.rel not in not_ready]
    return plan(files, ready, tree, set())


def contents(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def test_folders_holding_only_ready_files_move_whole(tmp_path):
    inbox = tmp_path / "inbox"
    make(inbox, ["top.txt", "a/b/1.txt", "a/c/2.txt", "m/ok.txt", "m/sub/busy.txt", "s/x.txt"])
    (inbox / "e" / "empty").mkdir(parents=True)
    (inbox / "e" / "y.txt").write_text("y")
    (inbox / "s" / "link").symlink_to("/etc/passwd")
    batch = scan(inbox, not_ready=("m/sub/busy.txt",))
    # "a" whole (not a/b, a/c inside it); "m" holds a file still being written, "e" an empty
    # folder, "s" a symlink: their ready files go one by one.
    assert batch.whole == ["a"]
    assert sorted(f.rel for f in batch.loose) == ["e/y.txt", "m/ok.txt", "s/x.txt", "top.txt"]


def test_a_folder_some_process_holds_open_moves_file_by_file(tmp_path):
    inbox = tmp_path / "inbox"
    make(inbox, ["a/1.txt"])
    tree = Tree()
    files = list(walk(str(inbox), None, tree))
    st = os.stat(inbox / "a")
    batch = plan(files, files, tree, {(st.st_dev, st.st_ino)})
    assert batch.whole == [] and [f.rel for f in batch.loose] == ["a/1.txt"]


def test_what_arrives_between_scan_and_move_goes_straight_back(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    make(inbox, ["a/old.txt", "a/b/replaced.txt", "a/b/deleted.txt"])
    staging.prepare()
    batch = scan(inbox)
    assert batch.whole == ["a"]
    # A client, after the scan: a new file, a new folder, a file replaced by another one, a
    # file deleted.
    make(inbox, ["a/new.txt", "a/newdir/n.txt"])
    os.rename(inbox / "a/b/replaced.txt", tmp_path / "old version")
    (inbox / "a/b/replaced.txt").write_text("a new file")
    (inbox / "a/b/deleted.txt").unlink()
    problems: list[FileProblem] = []
    taken = staging.take(batch, problems)
    assert sorted(taken) == ["a/old.txt"] and problems == []
    assert contents(staging.files) == {"a/old.txt": "a/old.txt"}
    assert contents(inbox) == {
        "a/new.txt": "a/new.txt",
        "a/newdir/n.txt": "a/newdir/n.txt",
        "a/b/replaced.txt": "a new file",
    }


def test_giving_back_never_replaces_what_a_client_put_there(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    make(inbox, ["a/x.txt", "a/y.txt", "z.txt"])
    staging.prepare()
    taken = staging.take(scan(inbox), [])
    assert sorted(taken) == ["a/x.txt", "a/y.txt", "z.txt"] and contents(inbox) == {}
    (inbox / "a").mkdir()
    (inbox / "a" / "x.txt").write_text("the client's new x")
    (inbox / "z.txt").write_text("the client's new z")
    problems: list[FileProblem] = []
    staging.give_back_all(problems)
    assert problems == []
    assert contents(inbox) == {
        "a/x.txt": "the client's new x",
        "a/x (inbox restored).txt": "a/x.txt",
        "a/y.txt": "a/y.txt",
        "z.txt": "the client's new z",
        "z (inbox restored).txt": "z.txt",
    }
    assert list(staging.files.iterdir()) == []


def test_a_file_replaced_or_changed_before_it_moves_on_its_own_goes_back(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    make(inbox, ["same.txt", "grown.txt", "replaced.txt"])
    staging.prepare()
    batch = scan(inbox)
    batch.whole, batch.loose = [], list(batch.files.values())
    with (inbox / "grown.txt").open("a") as grown:
        grown.write(" and more")
    (inbox / "replaced.txt").unlink()  # its inode number may come back for the new file
    (inbox / "replaced.txt").write_text("new, another size")
    taken = staging.take(batch, [])
    assert sorted(taken) == ["same.txt"]
    assert contents(inbox) == {
        "grown.txt": "grown.txt and more",
        "replaced.txt": "new, another size",
    }


def test_a_file_that_cannot_leave_its_folder_stays_and_is_reported(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    make(inbox, ["a/x.txt", "b.txt"])
    staging.prepare()
    batch = scan(inbox)
    batch.whole, batch.loose = [], list(batch.files.values())
    # Immutable: not even root may take a file out of the folder.
    if subprocess.run(["chattr", "+i", str(inbox / "a")], capture_output=True).returncode:
        pytest.skip("chattr +i is not supported on this filesystem")
    try:
        problems: list[FileProblem] = []
        taken = staging.take(batch, problems)
    finally:
        subprocess.run(["chattr", "-i", str(inbox / "a")], check=True)
    assert sorted(taken) == ["b.txt"]
    (problem,) = problems
    assert problem.name == "a/x.txt" and "cannot move it to the staging folder" in problem.reason
    assert (inbox / "a/x.txt").read_text() == "a/x.txt"


@pytest.mark.parametrize("kernel", [True, False], ids=["renameat2", "link-or-check"])
def test_moves_never_replace(tmp_path, monkeypatch, kernel):
    if not kernel:
        monkeypatch.setattr(no_replace, "_renameat2", None)
    (tmp_path / "src.txt").write_text("src")
    (tmp_path / "dst.txt").write_text("dst")
    (tmp_path / "srcdir").mkdir()
    (tmp_path / "dstdir").mkdir()
    move = no_replace.move_no_replace
    assert not move(str(tmp_path / "src.txt"), str(tmp_path / "dst.txt"))
    assert not move(str(tmp_path / "srcdir"), str(tmp_path / "dstdir"))  # even an empty one
    assert (tmp_path / "src.txt").read_text() == "src" and (tmp_path / "srcdir").is_dir()
    assert (tmp_path / "dst.txt").read_text() == "dst"
    assert move(str(tmp_path / "src.txt"), str(tmp_path / "new.txt"))
    assert move(str(tmp_path / "srcdir"), str(tmp_path / "newdir"))
    assert (tmp_path / "new.txt").read_text() == "src" and not (tmp_path / "src.txt").exists()
    assert (tmp_path / "newdir").is_dir() and not (tmp_path / "srcdir").exists()
    with pytest.raises(FileNotFoundError):
        move(str(tmp_path / "gone"), str(tmp_path / "other"))


def test_with_the_inbox_gone_files_stay_in_staging(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    make(inbox, ["a/x.txt"])
    staging.prepare()
    staging.take(scan(inbox), [])
    inbox.rmdir()  # as if the disk's mount point were left behind empty and unmounted
    problems: list[FileProblem] = []
    staging.give_back_all(problems)
    assert not inbox.exists()
    assert [(p.name, p.reason) for p in problems] == [
        ("a", "left in the staging folder: the inbox is not there")
    ]
    assert contents(staging.files) == {"a/x.txt": "a/x.txt"}


def outside_folder(tmp_path: Path) -> Path:
    """A folder outside the inbox with a file of the same name as one the scan saw."""
    outside = tmp_path / "outside"
    make(outside, ["x.txt", "secret.txt"])
    return outside


def test_a_folder_swapped_for_a_symlink_after_the_scan_moves_nothing_from_outside(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    outside = outside_folder(tmp_path)
    make(inbox, ["a/x.txt", "a/held.txt", "top.txt"])
    staging.prepare()
    batch = scan(inbox, not_ready=("a/held.txt",))  # "a" is not whole: a/x.txt moves alone
    assert sorted(f.rel for f in batch.loose) == ["a/x.txt", "top.txt"]
    os.rename(inbox / "a", tmp_path / "real a")
    (inbox / "a").symlink_to(outside)  # between the scan and the move
    problems: list[FileProblem] = []
    taken = staging.take(batch, problems)
    assert sorted(taken) == ["top.txt"]
    assert [p.name for p in problems] == ["a/x.txt"]
    assert contents(outside) == {"x.txt": "x.txt", "secret.txt": "secret.txt"}  # untouched
    assert contents(staging.files) == {"top.txt": "top.txt"}


def test_a_whole_folder_swapped_for_a_symlink_is_given_back_unread(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    outside = outside_folder(tmp_path)
    make(inbox, ["a/x.txt"])
    staging.prepare()
    batch = scan(inbox)
    assert batch.whole == ["a"]
    os.rename(inbox / "a", tmp_path / "real a")
    (inbox / "a").symlink_to(outside)
    problems: list[FileProblem] = []
    taken = staging.take(batch, problems)
    assert taken == {}
    assert contents(outside) == {"x.txt": "x.txt", "secret.txt": "secret.txt"}
    assert (inbox / "a").is_symlink() and contents(staging.files) == {}  # the link went back
    assert not any(p.name.startswith("a/") for p in problems)


def test_giving_back_never_follows_a_symlink_out_of_the_inbox(tmp_path):
    inbox, staging = tmp_path / "inbox", Staging(tmp_path / "staging", tmp_path / "inbox")
    outside = outside_folder(tmp_path)
    make(inbox, ["a/new.txt", "a/keep.txt"])
    staging.prepare()
    batch = scan(inbox, not_ready=("a/keep.txt",))
    problems: list[FileProblem] = []
    assert sorted(staging.take(batch, problems)) == ["a/new.txt"]
    os.rename(inbox / "a", tmp_path / "real a")
    (inbox / "a").symlink_to(outside)  # while the file was being sent
    staging.give_back_all(problems)
    assert contents(outside) == {"x.txt": "x.txt", "secret.txt": "secret.txt"}
    assert contents(staging.files) == {"a/new.txt": "a/new.txt"}  # kept safe, and reported
    assert "a/new.txt" in [p.name for p in problems]
