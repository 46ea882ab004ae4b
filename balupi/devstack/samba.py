"""Debian's smbd on a loopback port serving the repository's shares (tests and demo).

The shares come from samba/balupi-shares.conf with the paths and accounts of this machine put
in; the server's own state (passdb, locks, pid) stays in a work folder.
"""

from __future__ import annotations

import grp
import pwd
import re
import shutil
import socket
import subprocess
from pathlib import Path

from balupi.devstack.process import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
SHARES_CONF = REPO / "samba" / "balupi-shares.conf"


def render_shares(text: str, replace: dict[str, str]) -> str:
    """The shares file with ``/smb/...`` paths and ``key = value`` settings replaced."""
    for key, value in replace.items():
        if key.startswith("/"):
            text = text.replace(f"= {key}\n", f"= {value}\n")
        else:
            text = re.sub(rf"(?m)^(\s*{re.escape(key)}\s*=).*$", rf"\1 {value}", text)
    return text


class SambaServer(ManagedProcess):
    def __init__(
        self, workdir: Path, *, port: int, share: Path, inbox: Path, user: str, password: str
    ) -> None:
        smbd = shutil.which("smbd") or "/usr/sbin/smbd"
        if not Path(smbd).exists():
            raise FileNotFoundError("smbd is not installed: run `make system-deps` (samba)")
        self.port = port
        self.user = user
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "binddns"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        shares = workdir / "shares.conf"
        shares.write_text(
            render_shares(
                SHARES_CONF.read_text(),
                {"/smb/share": str(share), "/smb/inbox": str(inbox), "valid users": user,
                 "force user": user, "force group": _group_of(user)},
            )
        )  # fmt: skip
        self.config = workdir / "smb.conf"
        self.config.write_text(
            f"""\
[global]
   server role = standalone server
   smb ports = {port}
   interfaces = 127.0.0.1
   bind interfaces only = yes
   disable netbios = yes
   map to guest = never
   passdb backend = tdbsam:{workdir / "private" / "passdb.tdb"}
   private dir = {workdir / "private"}
   lock directory = {workdir / "lock"}
   state directory = {workdir / "state"}
   cache directory = {workdir / "cache"}
   pid directory = {workdir / "pid"}
   ncalrpc dir = {workdir / "ncalrpc"}
   binddns dir = {workdir / "binddns"}
   log file = {workdir / "log.%m"}
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   include = {shares}
"""
        )
        # The account's password goes in through stdin, never argv.
        subprocess.run(
            ["smbpasswd", "-c", str(self.config), "-s", "-a", user],
            input=f"{password}\n{password}\n", text=True, check=True, capture_output=True,
        )  # fmt: skip
        self.auth_file = workdir / "smbclient.auth"
        self.auth_file.write_text(f"username = {user}\npassword = {password}\n")
        self.auth_file.chmod(0o600)
        super().__init__(
            "smbd",
            [smbd, "--foreground", "--no-process-group", "--debug-stdout", "--debuglevel=1",
             f"--configfile={self.config}"],
            log_path=workdir / "smbd.log",
        )  # fmt: skip

    def wait_ready(self, timeout: float = 20) -> None:
        self.wait_until(self._accepts, timeout=timeout, what=f"a listener on port {self.port}")

    def _accepts(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def client(self, share: str, commands: str, *, cwd: Path | None = None) -> str:
        """Run smbclient commands against a share as the user would; its output, or raise."""
        run = subprocess.run(
            ["smbclient", "-p", str(self.port), f"//127.0.0.1/{share}", "-A",
             str(self.auth_file), "-m", "SMB3", "-c", commands],
            capture_output=True, text=True, cwd=cwd, timeout=60, check=False,
        )  # fmt: skip
        if run.returncode != 0 or "NT_STATUS_" in run.stdout + run.stderr:
            raise RuntimeError(f"smbclient {commands!r} failed: {run.stdout}{run.stderr}")
        return run.stdout


def _group_of(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
