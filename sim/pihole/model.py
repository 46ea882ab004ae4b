"""The simulated Pi-hole's state: passwords, sessions, statistics and the config subset BaluPi
uses, with FTL's rules for changing it. The HTTP side is in server.py."""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balupi.sim.pihole.dnsmasq import Dnsmasq
from balupi.sim.pihole.sessions import Clock, SessionTable
from balupi.sim.pihole.stats import SimStats


@dataclass
class SimSettings:
    password: str
    app_password: str | None = None
    app_sudo: bool = False  # FTL's default: an app password may read but not change settings
    totp: bool = False  # 2FA on: the web password alone no longer logs in
    max_sessions: int = 16
    session_timeout: int = 1800
    hosts: list[str] = field(default_factory=lambda: ["192.168.1.5 baluhost.local"])
    local_ttl: int | None = None  # None: no local-ttl line, dnsmasq's default 0
    dns_port: int | None = None  # None: no dnsmasq (API only)
    workdir: Path | None = None

    def __repr__(self) -> str:
        return f"SimSettings(dns_port={self.dns_port}, max_sessions={self.max_sessions})"


class ConfigRefused(Exception):
    """A config change FTL would refuse: answered 400 with this message and hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class SimulatedPihole:
    def __init__(self, settings: SimSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.sessions = SessionTable(
            self.clock, max_sessions=settings.max_sessions, timeout=settings.session_timeout
        )
        self.stats = SimStats()
        self.blocking = "enabled"
        self.delay_seconds = 0.0  # a slow Pi-hole: every /api answer waits this long
        # A Pi-hole that answers oddly: GET path -> the JSON body sent instead (after the login).
        self.odd_answers: dict[str, Any] = {}
        self.config_changes = 0  # applied PATCH/PUT/DELETE of the config
        lines = [] if settings.local_ttl is None else [f"local-ttl={settings.local_ttl}"]
        self.config: dict[str, Any] = {
            "dns": {"hosts": list(settings.hosts), "port": settings.dns_port or 53},
            "misc": {"dnsmasq_lines": lines},
            "webserver": {
                "session": {"timeout": settings.session_timeout, "restore": False},
                "api": {
                    "max_sessions": settings.max_sessions,
                    "password": "********",
                    "app_sudo": settings.app_sudo,
                },
            },
        }
        self.dnsmasq: Dnsmasq | None = None
        if settings.dns_port is not None:
            if settings.workdir is None:
                raise ValueError("a simulated Pi-hole with DNS needs a workdir")
            self.dnsmasq = Dnsmasq(
                settings.workdir, port=settings.dns_port, local_ttl=settings.local_ttl or 0
            )

    @property
    def hosts(self) -> list[str]:
        return self.config["dns"]["hosts"]

    async def start(self) -> None:
        if self.dnsmasq is not None:
            await self.dnsmasq.start(self.hosts)

    async def stop(self) -> None:
        if self.dnsmasq is not None:
            await self.dnsmasq.stop()

    def check_password(self, password: str) -> bool | None:
        """True: an app password, False: the web password, None: wrong."""
        if password == self.settings.password:
            return False
        if self.settings.app_password and password == self.settings.app_password:
            return True
        return None

    async def patch(self, change: Any) -> None:
        """Apply PATCH /api/config's ``config`` object: all of it, or nothing."""
        if not isinstance(change, dict):
            raise ConfigRefused("Invalid request body data", "config must be an object")
        new = copy.deepcopy(self.config)
        for path, value in _leaves(change):
            _set(new, path, _validated(path, value))
        await self._apply(new)

    async def add_item(self, path: list[str], item: str) -> None:
        items = _array(self.config, path)
        if item in items:
            raise ConfigRefused("Item already present", "Uniqueness of items is enforced")
        new = copy.deepcopy(self.config)
        _set(new, path, _validated(path, [*items, item]))
        await self._apply(new)

    async def remove_item(self, path: list[str], item: str) -> bool:
        items = _array(self.config, path)
        if item not in items:
            return False
        new = copy.deepcopy(self.config)
        _set(new, path, [i for i in items if i != item])
        await self._apply(new)
        return True

    async def _apply(self, new: dict[str, Any]) -> None:
        old, self.config = self.config, new
        self.config_changes += 1
        api = new["webserver"]["api"]
        self.settings.app_sudo = api["app_sudo"]
        self.sessions.max_sessions = api["max_sessions"]
        self.sessions.timeout = new["webserver"]["session"]["timeout"]
        if self.dnsmasq is None:
            return
        lines = new["misc"]["dnsmasq_lines"]
        if lines != old["misc"]["dnsmasq_lines"]:
            # FTL restarts itself for dnsmasq options; DNS is away for that moment.
            await self.dnsmasq.restart(self.hosts, local_ttl=_local_ttl(lines))
        elif new["dns"]["hosts"] != old["dns"]["hosts"]:
            self.dnsmasq.write_hosts(self.hosts)


# Writable items and what they must hold; the rest of the subset is read-only here.
_WRITABLE = {
    ("dns", "hosts"): "hosts",
    ("misc", "dnsmasq_lines"): "strings",
    ("webserver", "api", "max_sessions"): "seats",
    ("webserver", "api", "app_sudo"): "bool",
    ("webserver", "session", "timeout"): "seconds",
}


def _leaves(change: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple, Any]]:
    found = []
    for key, value in change.items():
        path = (*prefix, key)
        if path in _WRITABLE:
            found.append((path, value))
        elif isinstance(value, dict):
            found += _leaves(value, path)
        else:
            raise ConfigRefused("Config item is invalid", f"{'.'.join(path)}: not writable here")
    return found


def _validated(path: tuple | list, value: Any) -> Any:
    kind = _WRITABLE.get(tuple(path))
    name = ".".join(path)
    if kind in ("hosts", "strings"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigRefused("Config item is invalid", f"{name}: not an array of strings")
        if kind == "hosts":
            for entry in value:
                _check_host_entry(name, entry)
        return list(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    number = isinstance(value, int) and not isinstance(value, bool)
    if number and ((kind == "seats" and 1 <= value <= 100) or (kind == "seconds" and value >= 1)):
        return value
    raise ConfigRefused("Config item is invalid", f"{name}: wrong type or out of range")


def _check_host_entry(name: str, entry: str) -> None:
    fields = entry.split()
    try:
        ipaddress.ip_address(fields[0] if fields else "")
    except ValueError:
        raise ConfigRefused("Config item is invalid", f"{name}: {entry!r}: bad address") from None
    if len(fields) < 2:
        raise ConfigRefused("Config item is invalid", f"{name}: {entry!r}: no host name")


def _set(tree: dict[str, Any], path: tuple | list, value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _array(tree: dict[str, Any], path: list[str]) -> list[str]:
    if tuple(path) not in _WRITABLE or _WRITABLE[tuple(path)] not in ("hosts", "strings"):
        raise ConfigRefused("Invalid path depth", f"{'/'.join(path)} is not an array here")
    for key in path:
        tree = tree[key]
    return list(tree)


def _local_ttl(lines: list[str]) -> int:
    # dnsmasq takes the last local-ttl line; the simulator parses on its own, not with the client.
    ttl = 0
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "local-ttl" and value.strip().isdigit():
            ttl = int(value)
    return ttl
