"""The ``[inbox]`` table: where the SMB inbox is and how its files reach the NAS.

Kept beside config.py so the inbox's checks (paths, the SSH key's permissions) stay in one place.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from balupi.config_reader import Table

# A host name or address, never something ssh would read as an option.
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class InboxConfig:
    """The SMB inbox and where its files go: rsync over SSH to a folder on the NAS."""

    nas_host: str
    nas_user: str
    nas_path: str
    ssh_key_file: Path
    known_hosts_file: Path
    nas_port: int = 22
    path: Path = Path("/smb/inbox")
    # The files of a running flush; on the inbox's filesystem (a move there is a rename),
    # outside the share (nobody changes a file while it is sent).
    staging_path: Path = Path("/smb/.inbox-staging")
    # A file changed less than this long ago may still be being written: next round.
    settle_seconds: float = 10.0
    # rsync --timeout: give up when no data moves this long (the NAS went away).
    io_timeout_seconds: int = 60
    connect_timeout_seconds: int = 10
    # rsync --bwlimit in KiB/s, 0 for none: keeps the Pi's link usable during a big flush.
    bandwidth_limit_kib: int = 0
    # How often the handshake service flushes while the NAS is online and files wait.
    interval_seconds: float = 60.0


def parse_inbox(t: Table) -> InboxConfig:
    d = InboxConfig("", "", "", Path(), Path())
    inbox = _absolute(t, "path", d.path)
    staging = _absolute(t, "staging_path", d.staging_path)
    if inbox == staging or staging.is_relative_to(inbox) or inbox.is_relative_to(staging):
        t.problems.add(f"{t.key}.staging_path", "must be outside the inbox (and not contain it)")
    host = _required_string(t, "nas_host")
    if host and not _HOST.match(host):
        t.problems.add(f"{t.key}.nas_host", f"not a host name or address: {host!r}")
    user = _required_string(t, "nas_user")
    if user and not _USER.match(user):
        t.problems.add(f"{t.key}.nas_user", f"not a user name: {user!r}")
    nas_path = _required_string(t, "nas_path")
    if nas_path and (not nas_path.startswith("/") or "\n" in nas_path):
        t.problems.add(f"{t.key}.nas_path", "must be an absolute path on the NAS")
    config = InboxConfig(
        path=inbox,
        staging_path=staging,
        nas_host=host,
        nas_port=t.read_port("nas_port", d.nas_port),
        nas_user=user,
        nas_path=nas_path,
        ssh_key_file=_key_file(t, "ssh_key_file"),
        known_hosts_file=_readable_file(t, "known_hosts_file"),
        settle_seconds=t.read_float("settle_seconds", d.settle_seconds, minimum=0, maximum=3600),
        io_timeout_seconds=t.read_int(
            "io_timeout_seconds", d.io_timeout_seconds, minimum=5, maximum=3600
        ),
        connect_timeout_seconds=t.read_int(
            "connect_timeout_seconds", d.connect_timeout_seconds, minimum=1, maximum=120
        ),
        bandwidth_limit_kib=t.read_int(
            "bandwidth_limit_kib", d.bandwidth_limit_kib, minimum=0, maximum=10**7
        ),
        interval_seconds=t.read_float(
            "interval_seconds", d.interval_seconds, minimum=5, maximum=86400
        ),
    )
    t.finish()
    return config


def _required_string(t: Table, name: str) -> str:
    return t.read_str(name)  # "" when missing or wrong: already noted as a problem


def _absolute(t: Table, name: str, default: Path) -> Path:
    value = t.read_str(name, str(default))
    if not value.startswith("/"):
        t.problems.add(f"{t.key}.{name}", f"must be an absolute path, got {value!r}")
        return default
    return Path(value)


def _file_path(t: Table, name: str) -> Path | None:
    """A file named in the config; a relative name is looked up in $CREDENTIALS_DIRECTORY
    (systemd's LoadCredential=), else beside the config file, as for secrets."""
    value = _required_string(t, name)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        base = os.environ.get("CREDENTIALS_DIRECTORY") or t.problems.base_dir
        if not base:
            t.problems.add(
                f"{t.key}.{name}", f"relative path {value!r} needs $CREDENTIALS_DIRECTORY"
            )
            return None
        path = Path(base) / path
    return path


def _readable_file(t: Table, name: str) -> Path:
    path = _file_path(t, name)
    if path is None:
        return Path()
    if not t.problems.reads_secrets_of(t.key):
        return path  # another service's files: this process never opens them
    if not path.is_file():
        t.problems.add(f"{t.key}.{name}", f"{path} is not a file")
    elif not os.access(path, os.R_OK):
        t.problems.add(f"{t.key}.{name}", f"cannot read {path}")
    return path


def _key_file(t: Table, name: str) -> Path:
    """The private key: ssh refuses one that others can read, so say it here, not mid-flush."""
    path = _readable_file(t, name)
    if t.problems.reads_secrets_of(t.key) and path.is_file() and os.access(path, os.R_OK):
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            t.problems.add(
                f"{t.key}.{name}",
                f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it",
            )
    return path
