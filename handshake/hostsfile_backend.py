"""The ``hostsfile`` DNS backend: rewrite a hosts file atomically, then tell the DNS server.

dnsmasq (and Pi-hole v5's FTL) read extra hosts files (``--addn-hosts``) and re-read them on
SIGHUP; Pi-hole v5 does that with ``pihole restartdns reload``.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from balupi.config_handshake import HostsFileConfig
from balupi.handshake.atomic_write import write_atomic
from balupi.handshake.dns_backend import DnsSwitchError


def rewrite_hosts(text: str, hostname: str, ip: str) -> str:
    """``text`` with ``hostname`` on ``ip`` only; every other line and name kept as it was."""
    wanted = hostname.lower()
    out: list[str] = []
    for line in text.splitlines():
        content, hash_, comment = line.partition("#")
        fields = content.split()
        if len(fields) < 2 or wanted not in (f.lower() for f in fields[1:]):
            out.append(line)
            continue
        others = [f for f in fields[1:] if f.lower() != wanted]
        if others:  # the line also names other hosts: keep them on their address
            out.append(" ".join([fields[0], *others]) + (f" {hash_}{comment}" if hash_ else ""))
    out.append(f"{ip} {hostname}")
    return "\n".join(out) + "\n"


def lookup_hosts(text: str, hostname: str) -> str | None:
    wanted = hostname.lower()
    found = None
    for line in text.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) >= 2 and wanted in (f.lower() for f in fields[1:]):
            found = fields[0]
    return found


class HostsFileBackend:
    name = "hostsfile"

    def __init__(self, config: HostsFileConfig) -> None:
        self.config = config
        self._lock = asyncio.Lock()

    async def switch(self, hostname: str, ip: str) -> None:
        async with self._lock:
            try:
                text = self._read()
                write_atomic(self.config.path, rewrite_hosts(text, hostname, ip).encode())
            except OSError as err:
                raise DnsSwitchError(f"cannot rewrite {self.config.path}: {err.strerror}") from None
            await self._reload()

    async def current(self, hostname: str) -> str | None:
        try:
            return lookup_hosts(self._read(), hostname)
        except OSError as err:
            raise DnsSwitchError(f"cannot read {self.config.path}: {err.strerror}") from None

    async def close(self) -> None:
        return None

    def _read(self) -> str:
        try:
            return self.config.path.read_text()
        except FileNotFoundError:
            return ""

    async def _reload(self) -> None:
        if self.config.pid_file is not None:
            self._sighup(self.config.pid_file)
        elif self.config.reload_command:
            await self._run(self.config.reload_command)

    @staticmethod
    def _sighup(pid_file: Path) -> None:
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except FileNotFoundError:
            raise DnsSwitchError(f"DNS server not running: no pid file {pid_file}") from None
        except ValueError:
            raise DnsSwitchError(f"pid file {pid_file} holds no process id") from None
        except ProcessLookupError:
            raise DnsSwitchError(f"DNS server not running (stale pid file {pid_file})") from None
        except OSError as err:
            raise DnsSwitchError(f"cannot signal the DNS server: {err.strerror}") from None

    async def _run(self, argv: tuple[str, ...]) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
            )
        except OSError as err:
            raise DnsSwitchError(f"cannot run {argv[0]}: {err.strerror}") from None
        try:
            async with asyncio.timeout(self.config.reload_timeout_seconds):
                _, stderr = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DnsSwitchError(
                f"{' '.join(argv)} took longer than {self.config.reload_timeout_seconds} s"
            ) from None
        if proc.returncode != 0:
            tail = stderr.decode(errors="replace").strip()[-300:]
            raise DnsSwitchError(f"{' '.join(argv)} exited {proc.returncode}: {tail}")
