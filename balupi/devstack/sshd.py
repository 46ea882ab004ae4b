"""Debian's sshd on a loopback port, standing in for the NAS's SSH login (tests and demo).

Everything lives in one work folder: its own host key, a client key made for it, the
authorized_keys and known_hosts files that pair them, and sshd's config and pid file.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
from pathlib import Path

from balupi.devstack.process import ManagedProcess

SSHD = "/usr/sbin/sshd"


def make_key(path: Path) -> Path:
    """An ed25519 key pair at ``path`` (kept if it is already there)."""
    if not path.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "balupi-devstack", "-f",
             str(path)],
            check=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    return path


class SshServer(ManagedProcess):
    def __init__(self, workdir: Path, *, port: int) -> None:
        if not Path(SSHD).exists():
            raise FileNotFoundError(
                f"{SSHD} is not installed: run `make system-deps` (Debian package openssh-server)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.user = getpass.getuser()
        self.host_key = make_key(workdir / "host_key")
        self.client_key = make_key(workdir / "client_key")
        authorized = workdir / "authorized_keys"
        authorized.write_text(Path(f"{self.client_key}.pub").read_text())
        self.known_hosts = workdir / "known_hosts"
        host_pub = Path(f"{self.host_key}.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
        config = workdir / "sshd_config"
        config.write_text(
            f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {workdir / "sshd.pid"}
AuthorizedKeysFile {authorized}
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
# The work folder is a temporary one, not a home directory sshd would vet.
StrictModes no
LogLevel INFO
"""
        )
        with contextlib.suppress(OSError):
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation, as root
        super().__init__(
            "sshd (NAS)", [SSHD, "-D", "-e", "-f", str(config)], log_path=workdir / "sshd.log"
        )

    def wait_ready(self, timeout: float = 15) -> None:
        self.wait_until(self._accepts, timeout=timeout, what=f"a listener on port {self.port}")

    def _accepts(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop_all(self) -> None:
        """The NAS goes away: the listener and every session it started (each sshd session
        is in a session of its own, so stopping the listener alone would leave them)."""
        if self.proc is None:
            return
        for pid in descendants(self.proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first found, via /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
