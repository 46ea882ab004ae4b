"""Sharing a flush between rsyncs: every file is sent by exactly one, the loads are even."""

from __future__ import annotations

from balupi.inbox.split import split_names


def covered(parts: list[list[str]], rels: list[str]) -> dict[str, int]:
    """How many of the parts send each file (a name sends itself and everything below it)."""
    return {
        rel: sum(any(rel == n or rel.startswith(n + "/") for n in names) for names in parts)
        for rel in rels
    }


def test_top_folders_are_shared_by_file_count():
    rels = [f"d{i}/f{j}" for i in range(4) for j in range(10 * (i + 1))] + ["loose.txt"]
    parts = split_names(rels, 2)
    assert len(parts) == 2
    assert set(covered(parts, rels).values()) == {1}
    loads = [sum(covered([p], rels).values()) for p in parts]
    assert abs(loads[0] - loads[1]) <= 1  # 101 files: 50 and 51


def test_one_big_folder_is_opened_so_both_get_work():
    rels = [f"Urlaub 2026/Tag {d}/IMG_{i}.jpg" for d in range(3) for i in range(100)]
    rels += [f"Urlaub 2026/IMG_{i}.jpg" for i in range(10)]
    parts = split_names(rels, 2)
    assert len(parts) == 2 and set(covered(parts, rels).values()) == {1}
    loads = sorted(sum(covered([p], rels).values()) for p in parts)
    assert loads[0] >= 100  # not everything in one


def test_a_single_file_goes_to_one_rsync():
    assert split_names(["only.txt"], 2) == [["only.txt"]]
    assert split_names(["a/b/c.txt"], 2) == [["a"]]


def test_one_part_takes_the_top_folders():
    rels = ["a/1", "a/2", "b/3", "c"]
    assert split_names(rels, 1) == [["a", "b", "c"]]
