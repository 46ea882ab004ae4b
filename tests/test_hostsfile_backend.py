"""The hostsfile backend: an atomic rewrite that keeps other lines, then a reload that dnsmasq
really follows (checked with dig), and clear errors when the reload cannot happen."""

from __future__ import annotations

import sys

import pytest

from balupi.config_handshake import HostsFileConfig
from balupi.devstack.dnsmasq import dig
from balupi.handshake.dns_backend import DnsSwitchError
from balupi.handshake.hostsfile_backend import HostsFileBackend, lookup_hosts, rewrite_hosts

NAME = "baluhost.local"


def test_rewrite_keeps_everything_else():
    text = (
        "# managed by hand\n"
        "10.0.0.5 printer.local\n"
        "10.0.0.10 BaluHost.local nas.local  # both names\n"
        "10.0.0.11 baluhost.local\n"
    )
    out = rewrite_hosts(text, NAME, "10.0.0.20")
    assert out.splitlines() == [
        "# managed by hand",
        "10.0.0.5 printer.local",
        "10.0.0.10 nas.local # both names",
        "10.0.0.20 baluhost.local",
    ]
    assert lookup_hosts(out, NAME) == "10.0.0.20"
    assert lookup_hosts(out, "nas.local") == "10.0.0.10"
    assert rewrite_hosts(out, NAME, "10.0.0.20") == out  # idempotent


async def test_switch_with_sighup_changes_what_dig_gets(dnsmasq):
    dnsmasq.hosts_file.write_text("10.0.0.5 printer.local\n")
    backend = HostsFileBackend(HostsFileConfig(path=dnsmasq.hosts_file, pid_file=dnsmasq.pid_file))
    assert await backend.current(NAME) is None
    for ip in ("192.0.2.10", "192.0.2.20", "192.0.2.10"):
        await backend.switch(NAME, ip)
        assert dig(dnsmasq.port, NAME) == ip  # SIGHUP is handled before the next query
    assert dig(dnsmasq.port, "printer.local") == "10.0.0.5"
    assert await backend.current(NAME) == "192.0.2.10"


async def test_switch_with_a_reload_command(dnsmasq):
    pid = dnsmasq.pid_file.read_text().strip()
    command = (sys.executable, "-c", f"import os, signal; os.kill({pid}, signal.SIGHUP)")
    backend = HostsFileBackend(HostsFileConfig(path=dnsmasq.hosts_file, reload_command=command))
    await backend.switch(NAME, "192.0.2.30")
    assert dig(dnsmasq.port, NAME) == "192.0.2.30"


async def test_reload_failures_are_clear(tmp_path):
    hosts = tmp_path / "hosts"
    failing = HostsFileBackend(
        HostsFileConfig(path=hosts, reload_command=(sys.executable, "-c", "raise SystemExit(3)"))
    )
    with pytest.raises(DnsSwitchError, match="exited 3"):
        await failing.switch(NAME, "192.0.2.10")
    missing = HostsFileBackend(HostsFileConfig(path=hosts, reload_command=("/nonexistent/x",)))
    with pytest.raises(DnsSwitchError, match="cannot run"):
        await missing.switch(NAME, "192.0.2.10")
    slow = HostsFileBackend(
        HostsFileConfig(
            path=hosts,
            reload_command=(sys.executable, "-c", "import time; time.sleep(30)"),
            reload_timeout_seconds=0.2,
        )
    )
    with pytest.raises(DnsSwitchError, match="longer than"):
        await slow.switch(NAME, "192.0.2.10")
    no_server = HostsFileBackend(HostsFileConfig(path=hosts, pid_file=tmp_path / "none.pid"))
    with pytest.raises(DnsSwitchError, match="not running"):
        await no_server.switch(NAME, "192.0.2.10")
    unwritable = HostsFileBackend(
        HostsFileConfig(path=tmp_path / "hosts-dir", pid_file=tmp_path / "none.pid")
    )
    (tmp_path / "hosts-dir").mkdir()
    with pytest.raises(DnsSwitchError, match="cannot"):
        await unwritable.switch(NAME, "192.0.2.10")
