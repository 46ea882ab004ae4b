"""Debian's dnsmasq serving the simulator's local DNS records on a loopback port.

Pi-hole's FTL embeds dnsmasq and writes dns.hosts to /etc/pihole/hosts/custom.list; here a real
dnsmasq reads the same kind of file (``--addn-hosts``) and re-reads it on SIGHUP, as FTL's
embedded one does after a config change. dns.cnameRecords become ``--cname`` options (FTL
restarts for them), and blocked names a second hosts file answering 0.0.0.0 (FTL's NULL mode).
It runs unprivileged on a high port, answers only from those files (no upstream, no
/etc/hosts), and stays in the foreground as our child.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from balupi.devstack.dnsmasq import dnsmasq_argv
from balupi.sim.pihole.dns_probe import query_a

PROBE_NAME = "dnsmasq-ready.balupi.sim"


class DnsmasqError(Exception):
    """dnsmasq is missing or did not start; the message says why."""


class Dnsmasq:
    def __init__(
        self, workdir: Path, *, port: int, local_ttl: int = 0, extra_addresses: tuple[str, ...] = ()
    ) -> None:
        self.workdir = workdir
        self.extra_addresses = extra_addresses
        self.port = port
        self.local_ttl = local_ttl
        self.hosts_file = workdir / "custom.list"
        self.blocked_file = workdir / "blocked.list"
        self.cnames: list[str] = []
        self.log_file = workdir / "dnsmasq.log"
        self._proc: asyncio.subprocess.Process | None = None
        self.reloads = 0

    def argv(self) -> list[str]:
        try:
            argv = dnsmasq_argv(
                port=self.port, hosts_file=self.hosts_file, local_ttl=self.local_ttl,
                extra_addresses=self.extra_addresses,
            )  # fmt: skip
        except FileNotFoundError as err:
            raise DnsmasqError(str(err)) from None
        return [
            *argv,
            f"--addn-hosts={self.blocked_file}",
            *(f"--cname={c}" for c in self.cnames),
        ]

    def write_blocked(self, names: list[str]) -> None:
        self._write(self.blocked_file, "".join(f"0.0.0.0 {name}\n" for name in names))

    def write_hosts(self, hosts: list[str]) -> None:
        """Replace the file in one rename (a reader never sees half of it), then reload."""
        lines = [*hosts, f"127.0.0.1 {PROBE_NAME}"]
        self._write(self.hosts_file, "".join(f"{line}\n" for line in lines))

    def _write(self, path: Path, text: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)  # also before the first start
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
        self._reload()

    def _reload(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGHUP)
            self.reloads += 1

    async def start(
        self,
        hosts: list[str],
        *,
        cnames: list[str] | None = None,
        blocked: list[str] | None = None,
        local_ttl: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cnames = list(cnames or [])
        if local_ttl is not None:
            self.local_ttl = local_ttl
        self.write_hosts(hosts)
        self.write_blocked(blocked or [])
        with self.log_file.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # poll the condition, bounded
            if self._proc.returncode is not None:
                raise DnsmasqError(f"dnsmasq exited ({self._proc.returncode}):\n{self._tail()}")
            try:
                if await asyncio.to_thread(query_a, PROBE_NAME, port=self.port, timeout=0.2):
                    return
            except OSError:
                pass
            await asyncio.sleep(0.02)
        await self.stop()
        raise DnsmasqError(f"dnsmasq did not answer on 127.0.0.1:{self.port}:\n{self._tail()}")

    async def restart(
        self, hosts: list[str], *, cnames: list[str], blocked: list[str], local_ttl: int
    ) -> None:
        """What FTL does when dnsmasq options change: stop and start with the new options."""
        await self.stop()
        await self.start(hosts, cnames=cnames, blocked=blocked, local_ttl=local_ttl)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def _tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return ""
