"""Debian's dnsmasq on a loopback port, serving a hosts file: the DNS server the switch drives.

It reads only the hosts file we give it (``--addn-hosts``), re-reads it on SIGHUP, and answers
with a 5 s TTL as BaluPi's plan wants. ``dig`` asks it the way a LAN client would.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from balupi.devstack.process import ManagedProcess


def dnsmasq_binary() -> str:
    found = shutil.which("dnsmasq") or (
        "/usr/sbin/dnsmasq" if Path("/usr/sbin/dnsmasq").exists() else None
    )
    if not found:
        raise FileNotFoundError(
            "dnsmasq is not installed: run `make system-deps` (Debian package dnsmasq-base)"
        )
    return found


def dnsmasq_argv(
    *,
    port: int,
    hosts_file: Path,
    local_ttl: int,
    pid_file: Path | None = None,
    extra_addresses: tuple[str, ...] = (),
) -> list[str]:
    """Debian's dnsmasq answering only from ``hosts_file`` (no upstream, no /etc/hosts) on a
    loopback port, in the foreground as our child; SIGHUP re-reads the file. ``extra_addresses``
    are further addresses to answer on (the Pi's LAN address in the namespace LAN tests)."""
    # It would drop to "nobody", who may not read our files: stay the user we are.
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return [
        dnsmasq_binary(),
        "--conf-file=/dev/null",  # not the machine's /etc/dnsmasq.conf
        "--keep-in-foreground",
        "--log-facility=-",
        f"--pid-file={pid_file or ''}",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        f"--addn-hosts={hosts_file}",
        f"--local-ttl={local_ttl}",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        *(f"--listen-address={address}" for address in extra_addresses),
        f"--port={port}",
        f"--user={user}",
        f"--group={group}",
    ]


def dig(port: int, name: str, server: str = "127.0.0.1") -> str | None:
    """The first A record ``dig`` gets for ``name``, or None (no record, no answer)."""
    run = subprocess.run(
        ["dig", f"@{server}", "-p", str(port), "+short", "+time=1", "+tries=1", name, "A"],
        capture_output=True, text=True, check=False, timeout=5,
    )  # fmt: skip
    lines = [line for line in run.stdout.splitlines() if line and not line.startswith(";")]
    return lines[0] if run.returncode == 0 and lines else None


class Dnsmasq(ManagedProcess):
    def __init__(self, workdir: Path, *, port: int, hosts_file: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.hosts_file = hosts_file
        self.pid_file = workdir / "dnsmasq.pid"
        argv = dnsmasq_argv(port=port, hosts_file=hosts_file, local_ttl=5, pid_file=self.pid_file)
        super().__init__("dnsmasq", argv, log_path=workdir / "dnsmasq.log")

    def start(self) -> Dnsmasq:
        self.pid_file.unlink(missing_ok=True)
        if not self.hosts_file.exists():
            self.hosts_file.write_text("")
        super().start()
        return self

    def wait_ready(self, timeout: float = 10) -> None:
        # dnsmasq answers REFUSED/NXDOMAIN for names it lacks, which dig reports as exit 0.
        def answering() -> bool:
            run = subprocess.run(
                ["dig", "@127.0.0.1", "-p", str(self.port), "+time=1", "+tries=1", "ready.test"],
                capture_output=True, check=False, timeout=5,
            )  # fmt: skip
            return run.returncode == 0 and self.pid_file.exists()

        self.wait_until(answering, timeout=timeout, what=f"DNS answers on port {self.port}")
