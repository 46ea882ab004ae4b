"""Helpers for the inbox tests: a NAS (sshd + folder), checksums, and "each file exactly once"."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict, Unpack

from balupi.config_inbox import InboxConfig
from balupi.devstack.sshd import SshServer, descendants
from balupi.inbox import InboxMover
from balupi.inbox.rsync_command import PARTIAL_DIR

_RSYNC_TEMP = re.compile(r"^\..+\.[A-Za-z0-9]{6}$")


class ConfigChanges(TypedDict, total=False):
    """What a test changes in the box's InboxConfig for one mover."""

    path: Path
    staging_path: Path
    nas_port: int
    settle_seconds: float
    bandwidth_limit_kib: int


@dataclass
class Box:
    """One inbox, its staging folder and its NAS folder, with a mover for them."""

    inbox: Path
    staging: Path
    nas: Path
    config: InboxConfig

    def mover(self, **changes: Unpack[ConfigChanges]) -> InboxMover:
        return InboxMover(replace(self.config, **changes))


def make_box(root: Path, sshd: SshServer, nas: Path | None = None) -> Box:
    inbox, staging = root / "inbox", root / "staging"
    nas = nas or root / "nas"
    for folder in (inbox, staging, nas):
        folder.mkdir(parents=True, exist_ok=True)
    config = InboxConfig(
        nas_host="127.0.0.1",
        nas_port=sshd.port,
        nas_user=sshd.user,
        nas_path=str(nas),
        ssh_key_file=sshd.client_key,
        known_hosts_file=sshd.known_hosts,
        path=inbox,
        staging_path=staging,
        settle_seconds=0,
        io_timeout_seconds=10,
        connect_timeout_seconds=5,
    )
    return Box(inbox, staging, nas, config)


def sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def files_below(root: Path) -> dict[str, str]:
    """rel path -> sha256 of every regular file, leaving out rsync's partial-file folders and
    the temporary file of a receiving rsync that was killed (".NAME.XXXXXX": never a final
    name, and hidden on the NAS)."""
    found = {}
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != PARTIAL_DIR]
        for name in names:
            if _RSYNC_TEMP.match(name):
                continue
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = sha(path)
    return found


def assert_each_file_once(
    dropped: dict[str, str],
    box: Box,
    *,
    nas_before: dict[str, str] | None = None,
    renamed: dict[str, str] | None = None,
) -> None:
    """Every dropped file is in exactly one place, intact: the inbox (same name) or the NAS
    (same name, or the reported new one); nothing else appeared, nothing on the NAS changed."""
    nas_before = nas_before or {}
    renamed = renamed or {}
    inbox, nas = files_below(box.inbox), files_below(box.nas)
    for rel, digest in nas_before.items():
        assert nas.get(rel) == digest, f"{rel!r} on the NAS was changed"
    expected_nas = dict(nas_before)
    for rel, digest in dropped.items():
        nas_name = renamed.get(rel, rel)
        in_inbox = inbox.get(rel) == digest
        on_nas = nas.get(nas_name) == digest and nas_name not in nas_before
        assert in_inbox != on_nas, f"{rel!r}: in inbox {in_inbox}, on NAS {on_nas}"
        if on_nas:
            expected_nas[nas_name] = digest
    assert nas == expected_nas, sorted(set(nas) ^ set(expected_nas))
    assert set(inbox) <= set(dropped), sorted(set(inbox) - set(dropped))
    staged = box.staging / "files"
    assert not staged.exists() or files_below(staged) == {}, "links left in staging"


def partial_temp_file(folder: Path, name: str, min_bytes: int) -> Path | None:
    """rsync's temporary file for ``name`` (".name.XXXXXX") once it holds ``min_bytes``."""
    for path in folder.glob(f".{name}.*"):
        try:
            if path.stat().st_size >= min_bytes:
                return path
        except FileNotFoundError:
            continue
    return None


def our_rsync_pids() -> list[int]:
    """The rsync processes the flush started: children of this process. (The NAS's rsync is
    a descendant too, through the test's sshd, and must live to keep its partial file.)"""
    me = os.getpid()
    return [pid for pid in descendants(me) if _parent_and_name(pid) == (me, "rsync")]


def _parent_and_name(pid: int) -> tuple[int, str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
    return int(rest.split()[1]), name


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        for start in range(0, size, 1 << 20):
            f.write(os.urandom(min(1 << 20, size - start)))
