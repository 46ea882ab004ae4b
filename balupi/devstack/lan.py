"""A LAN of network namespaces: hosts on one bridge, made and removed by whoever uses it.

Each host (``pi``, ``nas``, ``client``) is a network namespace with one veth ``eth0`` whose
other end is plugged into a bridge in a fourth namespace (the switch), so nothing is added to
the machine's own namespace and no packet can leave the LAN. Addresses come from a test-only
range, 10.213.N.0/24. A program runs on a host with ``ip netns exec``; Python code of the test
reaches a host through ``Lan.call``, which runs a function on a thread moved into the host's
namespace (sockets stay in the namespace they were made in).
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
HOSTS = ("pi", "nas", "client")
_libc = ctypes.CDLL(None, use_errno=True)


class LanError(Exception):
    """A namespace, link or rule could not be made; the message has ip's or nft's words."""


def unavailable() -> str | None:
    """Why no namespace LAN can be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing: run `make system-deps` (Debian package {package})"
    probe = f"balupi-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def run(
    argv: list[str], *, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, input=stdin)
    if check and done.returncode != 0:
        raise LanError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done


def remove_stale() -> None:
    """Removes the LANs of earlier runs that were killed before they could clean up: names
    ``bpPID-...`` whose process is gone and in which nothing runs any more."""
    listed = run(["ip", "netns", "list"], check=False).stdout.split()
    for name in listed:
        found = re.match(r"^bp(\d+)-(switch|pi|nas|client)$", name)
        if not found or Path(f"/proc/{found.group(1)}").exists():
            continue
        if not run(["ip", "netns", "pids", name], check=False).stdout.strip():
            run(["ip", "netns", "delete", name], check=False)


class Lan:
    """``with Lan() as lan:`` makes the LAN and removes it again, also after a failure."""

    def __init__(self, tag: str | None = None) -> None:
        tag = tag or str(os.getpid())
        self.prefix = f"bp{tag}"
        subnet = 1 + os.getpid() % 250  # runs in parallel get different subnets (and names)
        self.subnet = f"10.213.{subnet}"
        self.switch = f"{self.prefix}-switch"
        self.ns = {host: f"{self.prefix}-{host}" for host in HOSTS}
        self.ip = {host: f"{self.subnet}.{i}" for i, host in enumerate(HOSTS, start=2)}
        self.broadcast = f"{self.subnet}.255"
        self._made: list[str] = []

    # -- building and removing ---------------------------------------------------------------

    def __enter__(self) -> Lan:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.down()

    def up(self) -> None:
        remove_stale()
        for ns in (self.switch, *self.ns.values()):
            run(["ip", "netns", "add", ns])
            self._made.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.switch, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.switch, "link", "set", "br0", "up"])
        for host, ns in self.ns.items():
            port = self.port(host)
            run(["ip", "-n", self.switch, "link", "add", port, "type", "veth",
                 "peer", "name", "eth0", "netns", ns])  # fmt: skip
            run(["ip", "-n", self.switch, "link", "set", port, "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{self.ip[host]}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def down(self) -> None:
        """Deleting a namespace removes its links and rules; processes in it must be gone."""
        while self._made:
            run(["ip", "netns", "delete", self._made.pop()], check=False)

    def port(self, host: str) -> str:
        """The switch's end of ``host``'s cable."""
        return f"v-{host}"

    # -- running things on a host ------------------------------------------------------------

    def argv(self, host: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns[host], *argv]

    def sh(self, host: str, argv: list[str], *, check: bool = True) -> str:
        return run(self.argv(host, argv), check=check).stdout

    def call(self, host: str, fn: Callable[[], T]) -> T:
        """``fn()`` on a thread inside ``host``'s namespace; its result or its exception."""
        box: dict[str, object] = {}

        def inside() -> None:
            try:
                fd = os.open(f"/run/netns/{self.ns[host]}", os.O_RDONLY)
                try:
                    if _libc.setns(fd, CLONE_NEWNET) != 0:
                        raise LanError(f"setns {host}: {os.strerror(ctypes.get_errno())}")
                finally:
                    os.close(fd)
                box["result"] = fn()
            except BaseException as err:  # handed to the caller's thread
                box["error"] = err

        thread = threading.Thread(target=inside, name=f"in-{host}", daemon=True)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["result"]  # type: ignore[return-value]

    def dig(self, host: str, server: str, name: str) -> str | None:
        """The first A record ``dig @server name`` gets on ``host``, or None."""
        done = run(self.argv(host, ["dig", f"@{server}", "+short", "+time=1", "+tries=1",
                                    name, "A"]), check=False)  # fmt: skip
        lines = [x for x in done.stdout.splitlines() if x and not x.startswith(";")]
        return lines[0] if done.returncode == 0 and lines else None

    # -- faults ------------------------------------------------------------------------------

    def cable(self, host: str, *, plugged: bool) -> None:
        """Pulls (or plugs back) ``host``'s cable at the switch: carrier down on both ends."""
        state = "up" if plugged else "down"
        run(["ip", "-n", self.switch, "link", "set", self.port(host), state])

    def deaf(self, host: str, *, to: str, direction: str) -> None:
        """Drops what ``host`` sends to (``direction="out"``) or hears from (``"in"``) the host
        ``to``, with an nft table in ``host``'s namespace: one-way loss."""
        hook, match = ("output", "daddr") if direction == "out" else ("input", "saddr")
        self._nft(host, f"balupi_loss_{direction}", hook, f"ip {match} {self.ip[to]} drop")

    def block_port(self, host: str, port: int) -> None:
        """Refuses TCP connections to ``port`` on ``host`` (a service that is down)."""
        self._nft(host, f"balupi_block_{port}", "input", f"tcp dport {port} reject with tcp reset")

    def _nft(self, host: str, table: str, hook: str, rule: str) -> None:
        script = (
            f"table inet {table} {{\n  chain c {{\n    type filter hook {hook} priority 0; "
            f"policy accept;\n    {rule}\n  }}\n}}\n"
        )
        run(self.argv(host, ["nft", "-f", "-"]), stdin=script)

    def heal(self, host: str) -> None:
        """Removes every rule ``faults`` put on ``host``."""
        run(self.argv(host, ["nft", "flush", "ruleset"]))
