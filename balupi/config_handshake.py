"""The handshake service's part of the config: [handshake], [nas] and [dns].

The sections are optional for the other services; once [handshake] is there, [nas] and [dns]
must be too, and the HMAC secret is required: without it the service must not start.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from balupi.config_reader import Table
from balupi.secret import Secret

_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*$")
DNS_BACKENDS = ("hostsfile", "pihole")


@dataclass(frozen=True)
class HandshakeConfig:
    secret: Secret | None = field(repr=False)
    listen_host: str = "127.0.0.1"  # nginx proxies /api/ to it
    listen_port: int = 8000
    state_file: Path = Path("/var/lib/balupi/state.json")
    snapshot_dir: Path = Path("/data/snapshot")
    snapshot_max_bytes: int = 1024 * 1024
    inbox_dir: Path = Path("/smb/inbox")
    # BaluHost signs with Unix seconds; clocks on a LAN agree within this.
    signature_window_seconds: float = 60.0
    # How long an announcement waits for the DNS switch before it answers (BaluHost waits 5 s).
    dns_wait_seconds: float = 3.0
    # One magic packet per this many seconds, however often the button is pressed.
    wake_min_interval_seconds: float = 10.0


@dataclass(frozen=True)
class NasConfig:
    url: str  # BaluHost's base URL; the heartbeat asks {url}/api/health
    ip: str  # where baluhost.local points while the NAS is up
    mac: str
    wol_broadcast: str = "255.255.255.255"
    wol_port: int = 9
    heartbeat_interval_seconds: float = 30.0
    # After a miss the next probes come this much faster, so a takeover takes seconds, not minutes.
    heartbeat_retry_seconds: float = 3.0
    heartbeat_timeout_seconds: float = 2.5
    misses_before_takeover: int = 3
    successes_to_recover: int = 3
    wake_poll_seconds: float = 1.0
    wake_timeout_seconds: float = 90.0
    # A NAS that answers /api/health but never announces itself (no BaluHost) gets DNS back
    # after being healthy this long.
    health_grace_seconds: float = 60.0


@dataclass(frozen=True)
class HostsFileConfig:
    path: Path = Path("/etc/balupi/hosts")
    # Run after the rewrite (e.g. ["pihole", "restartdns", "reload"] on Pi-hole v5) ...
    reload_command: tuple[str, ...] = ()
    # ... or send SIGHUP to the pid in this file (plain dnsmasq re-reads --addn-hosts).
    pid_file: Path | None = None
    reload_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class DnsConfig:
    pi_ip: str  # where baluhost.local points while the NAS sleeps
    backend: str = "pihole"
    hostname: str = "baluhost.local"
    hostsfile: HostsFileConfig = HostsFileConfig()


def parse_handshake(t: Table) -> HandshakeConfig:
    d = HandshakeConfig(secret=None)
    secret = t.secret("secret")
    if secret is not None and len(secret.reveal()) < 16:
        t.problems.add(f"{t.key}.secret", "too short: use at least 16 characters (32 or more)")
    config = HandshakeConfig(
        secret=secret,
        listen_host=t.read_str("listen_host", d.listen_host),
        listen_port=t.read_port("listen_port", d.listen_port),
        state_file=_path(t, "state_file", d.state_file),
        snapshot_dir=_path(t, "snapshot_dir", d.snapshot_dir),
        snapshot_max_bytes=t.read_int(
            "snapshot_max_bytes", d.snapshot_max_bytes, minimum=1024, maximum=64 << 20
        ),
        inbox_dir=_path(t, "inbox_dir", d.inbox_dir),
        signature_window_seconds=t.read_float(
            "signature_window_seconds", d.signature_window_seconds, minimum=5, maximum=600
        ),
        dns_wait_seconds=t.read_float(
            "dns_wait_seconds", d.dns_wait_seconds, minimum=0, maximum=30
        ),
        wake_min_interval_seconds=t.read_float(
            "wake_min_interval_seconds", d.wake_min_interval_seconds, minimum=0, maximum=3600
        ),
    )
    t.finish()
    return config


def parse_nas(t: Table) -> NasConfig:
    d = NasConfig(url="", ip="", mac="")
    url = t.read_str("url")
    if url and not re.match(r"^https?://[^/\s]+/?$", url):
        t.problems.add(f"{t.key}.url", f"must be http(s)://host[:port], got {url!r}")
    mac = t.read_str("mac")
    if mac and not _MAC.match(mac):
        t.problems.add(f"{t.key}.mac", f"must look like aa:bb:cc:dd:ee:ff, got {mac!r}")

    def seconds(name: str, default: float, minimum: float, maximum: float) -> float:
        return t.read_float(name, default, minimum=minimum, maximum=maximum)

    def count(name: str, default: int) -> int:
        return t.read_int(name, default, minimum=1, maximum=100)

    config = NasConfig(
        url=url.rstrip("/"),
        ip=_ip(t, "ip"),
        mac=mac,
        wol_broadcast=t.read_str("wol_broadcast", d.wol_broadcast),
        wol_port=t.read_port("wol_port", d.wol_port),
        heartbeat_interval_seconds=seconds(
            "heartbeat_interval_seconds", d.heartbeat_interval_seconds, 0.01, 3600
        ),
        heartbeat_retry_seconds=seconds(
            "heartbeat_retry_seconds", d.heartbeat_retry_seconds, 0.01, 600
        ),
        heartbeat_timeout_seconds=seconds(
            "heartbeat_timeout_seconds", d.heartbeat_timeout_seconds, 0.01, 60
        ),
        misses_before_takeover=count("misses_before_takeover", d.misses_before_takeover),
        successes_to_recover=count("successes_to_recover", d.successes_to_recover),
        wake_poll_seconds=seconds("wake_poll_seconds", d.wake_poll_seconds, 0.01, 60),
        wake_timeout_seconds=seconds("wake_timeout_seconds", d.wake_timeout_seconds, 0.1, 3600),
        health_grace_seconds=seconds("health_grace_seconds", d.health_grace_seconds, 0, 86400),
    )
    t.finish()
    return config


def parse_dns(t: Table) -> DnsConfig:
    backend = t.read_str("backend", "pihole", choices=DNS_BACKENDS)
    hostname = t.read_str("hostname", "baluhost.local")
    if hostname and not _HOSTNAME.match(hostname):
        t.problems.add(f"{t.key}.hostname", f"not a host name: {hostname!r}")
    hosts = t.table("hostsfile")
    hostsfile = _hostsfile(hosts, required=backend == "hostsfile")
    config = DnsConfig(
        pi_ip=_ip(t, "pi_ip"), backend=backend, hostname=hostname, hostsfile=hostsfile
    )
    t.finish()
    return config


def _hostsfile(t: Table, *, required: bool) -> HostsFileConfig:
    d = HostsFileConfig()
    command = t.read_str_list("reload_command")
    pid_file = t.read_optional_str("pid_file")
    if command and pid_file:
        t.problems.add(f"{t.key}.pid_file", "set only one of reload_command and pid_file")
    if required and not command and not pid_file:
        t.problems.add(
            f"{t.key}.reload_command",
            'required for backend hostsfile: a command (e.g. ["pihole", "restartdns", '
            '"reload"]) or pid_file (SIGHUP to dnsmasq)',
        )
    config = HostsFileConfig(
        path=_path(t, "path", d.path),
        reload_command=command,
        pid_file=Path(pid_file) if pid_file else None,
        reload_timeout_seconds=t.read_float(
            "reload_timeout_seconds", d.reload_timeout_seconds, minimum=0.1, maximum=120
        ),
    )
    t.finish()
    return config


def _path(t: Table, name: str, default: Path) -> Path:
    value = t.read_optional_str(name)
    if value is None:
        return default
    path = Path(value)
    if not path.is_absolute():
        t.problems.add(t.key + "." + name, f"must be an absolute path, got {value!r}")
    return path


def _ip(t: Table, name: str) -> str:
    value = t.read_str(name)
    if value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            t.problems.add(f"{t.key}.{name}", f"must be an IP address, got {value!r}")
    return value
