"""The inbox part of ``make demo``: Debian's smbd serving the share and the inbox, and
Debian's sshd standing in for the NAS's disk. Their ports (demo_ports.py, listed in
docs/demo.md): smbd on 4450 (smbclient -p 4450 //127.0.0.1/inbox), sshd on 2222 (files land in
nas-disk/inbox-from-pi/ of the demo's state folder).

The Samba inbox is the folder balupi-handshake counts ([handshake] inbox_dir).
"""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path

from balupi.devstack.demo_ports import DemoPorts
from balupi.devstack.process import ManagedProcess
from balupi.devstack.samba import SambaServer
from balupi.devstack.sshd import SshServer

SMB_PASSWORD = "demo-password"  # noqa: S105 - the demo's own Samba account, loopback only


class InboxDemo:
    def __init__(self, demo_dir: Path, ports: DemoPorts) -> None:
        self.ports = ports
        self.inbox = demo_dir / "handshake" / "inbox"
        self.staging = demo_dir / "handshake" / ".inbox-staging"
        self.disk = demo_dir / "nas-disk" / "inbox-from-pi"
        share = demo_dir / "smb-share"
        for folder in (self.inbox, share, self.disk):
            folder.mkdir(parents=True, exist_ok=True)
        self.nas = SshServer(demo_dir / "sshd", port=ports.sshd)
        self.smb = SambaServer(
            demo_dir / "smbd", port=ports.smbd, share=share,
            inbox=self.inbox, user=getpass.getuser(), password=SMB_PASSWORD,
        )  # fmt: skip
        # The [inbox] table alone, for `balupi inbox ...` by hand (no other secrets needed).
        self.config_path = demo_dir / "inbox.toml"
        self.config_path.write_text(self.config())

    def config(self) -> str:
        """The demo config's [inbox] table."""
        return f"""
[inbox]
nas_host = "127.0.0.1"
nas_port = {self.nas.port}
nas_user = "{self.nas.user}"
nas_path = "{self.disk}"
ssh_key_file = "{self.nas.client_key}"
known_hosts_file = "{self.nas.known_hosts}"
path = "{self.inbox}"
staging_path = "{self.staging}"
settle_seconds = 2
"""

    def start(self, started: list[ManagedProcess]) -> None:
        for server in (self.smb, self.nas):
            print(f"Starting {server.name} ...", end=" ", flush=True)
            t0 = time.monotonic()
            started.append(server.start())
            server.wait_ready()
            print(f"ready ({time.monotonic() - t0:.1f} s)", flush=True)

    def where_to_look(self) -> str:
        smbclient = f"smbclient -p {self.smb.port} //127.0.0.1/inbox -A {self.smb.auth_file}"
        balupi = f"{Path(sys.executable).parent / 'balupi'} inbox"
        return f"""The SMB inbox (smbd) and the NAS's disk (sshd; files land in {self.disk}):
  Drop a file:     {smbclient} -c 'put README.md'
  It moves when the NAS wakes (or within a minute while it is up), or at once with
                   curl -X POST {self.ports.handshake_url}/api/inbox/flush
  Waiting:         {balupi} status --config {self.config_path}"""
