"""Snapshot validation and the atomic store that keeps the previous one."""

from __future__ import annotations

import json

import pytest

from balupi.handshake.snapshot import SnapshotError, parse_snapshot, store_snapshot
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT


def test_baluhost_v1_snapshot_is_valid():
    assert parse_snapshot(json.dumps(EXAMPLE_SNAPSHOT).encode())["version"] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not UTF-8|not valid JSON"),
        (b"{", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"version": 2}', "version 2 is not known"),
        (b'{"version": true}', "version True"),
        (b'{"version": "1"}', "version '1'"),
        (b'{"version": 1, "system": []}', "system must be an object"),
        (b'{"version": 1, "generated_at": 5}', "generated_at must be a string"),
    ],
)
def test_invalid_snapshots_say_why(body, reason):
    with pytest.raises(SnapshotError, match=reason):
        parse_snapshot(body)


def test_store_is_atomic_and_keeps_the_previous(tmp_path):
    store_snapshot(tmp_path, b'{"version": 1, "n": 1}')
    store_snapshot(tmp_path, b'{"version": 1, "n": 2}')
    assert json.loads((tmp_path / "snapshot.json").read_text())["n"] == 2
    assert json.loads((tmp_path / "snapshot.previous.json").read_text())["n"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.json", "snapshot.previous.json"]
