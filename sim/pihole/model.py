"""The simulated Pi-hole's state: passwords, sessions, statistics, a config tree shaped like
FTL's, the gravity database, and FTL's rules for changing them (including the restart FTL does
after a teleporter import or a DNS setting). The HTTP side is in server.py and server_gravity.py."""

from __future__ import annotations

import asyncio
import copy
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balupi.sim.pihole import teleporter, teleporter_v5
from balupi.sim.pihole.config_tree import default_config, leaves, password_hash
from balupi.sim.pihole.dnsmasq import Dnsmasq
from balupi.sim.pihole.gravity import GravityDb
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
    dns_addresses: tuple[str, ...] = ()  # where dnsmasq answers besides 127.0.0.1
    workdir: Path | None = None
    # How long FTL is away when it restarts (after a teleporter import or a DNS setting);
    # 0: DNS settings restart dnsmasq at once and imports restart in the background at once.
    restart_seconds: float = 0.0
    # What adlists "download" (see gravity.py); share one dict between simulated Pi-holes.
    list_contents: dict[str, list[str]] = field(default_factory=dict)
    version: str = "v6.4.1"
    hostname: str = "pi.hole"

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
        self.gravity = GravityDb(settings.list_contents)
        self.blocking = "enabled"
        self.delay_seconds = 0.0  # a slow Pi-hole: every /api answer waits this long
        # A Pi-hole that answers oddly: GET path -> the JSON body sent instead (after the login).
        self.odd_answers: dict[str, Any] = {}
        self.config_changes = 0  # applied PATCH/PUT/DELETE of the config
        self.imports = 0  # teleporter imports
        self.gravity_runs = 0
        self.restarts = 0
        self.restarting = False  # FTL is away: the web server answers 502
        self.restart_answer = "502"  # or "reset": the connection drops (no proxy in front)
        self._restart_task: asyncio.Task[None] | None = None
        self.leases = ""
        lines = [] if settings.local_ttl is None else [f"local-ttl={settings.local_ttl}"]
        self.config: dict[str, Any] = default_config(
            hosts=settings.hosts,
            dns_port=settings.dns_port or 53,
            dnsmasq_lines=lines,
            pwhash=password_hash(settings.password),
            app_pwhash=password_hash(settings.app_password or ""),
            app_sudo=settings.app_sudo,
            max_sessions=settings.max_sessions,
            session_timeout=settings.session_timeout,
        )
        self.dnsmasq: Dnsmasq | None = None
        if settings.dns_port is not None:
            if settings.workdir is None:
                raise ValueError("a simulated Pi-hole with DNS needs a workdir")
            self.dnsmasq = Dnsmasq(
                settings.workdir, port=settings.dns_port, local_ttl=settings.local_ttl or 0,
                extra_addresses=settings.dns_addresses,
            )  # fmt: skip

    @property
    def hosts(self) -> list[str]:
        return self.config["dns"]["hosts"]

    def _dns(self) -> dict[str, Any]:
        """What dnsmasq serves: local records, CNAMEs, blocked names, local-ttl."""
        return {
            "hosts": self.hosts,
            "cnames": self.config["dns"]["cnameRecords"],
            "blocked": self.gravity.blocked_names() if self.blocking == "enabled" else [],
            "local_ttl": _local_ttl(self.config["misc"]["dnsmasq_lines"]),
        }

    async def start(self) -> None:
        if self.dnsmasq is not None:
            await self.dnsmasq.start(**self._dns())

    async def stop(self) -> None:
        if self._restart_task is not None:
            self._restart_task.cancel()
        if self.dnsmasq is not None:
            await self.dnsmasq.stop()

    def check_password(self, password: str) -> bool | None:
        """True: an app password, False: the web password, None: wrong. Checked against the
        hashes in the config, so an imported config brings its passwords with it, as in FTL."""
        api = self.config["webserver"]["api"]
        given = password_hash(password)
        if given and given == api["pwhash"]:
            return False
        if given and given == api["app_pwhash"]:
            return True
        return None

    # --- restarts ------------------------------------------------------------------------

    def restart(self) -> None:
        """FTL restarts: the API is away for restart_seconds, every session is gone after."""
        self.restarting = True
        self.restarts += 1
        self._restart_task = asyncio.ensure_future(self._restart())

    async def _restart(self) -> None:
        try:
            if self.dnsmasq is not None:
                await self.dnsmasq.stop()
            await asyncio.sleep(self.settings.restart_seconds)  # the simulated slowness itself
            self.sessions = SessionTable(
                self.clock, max_sessions=self.sessions.max_sessions, timeout=self.sessions.timeout
            )
            if self.dnsmasq is not None:
                await self.dnsmasq.start(**self._dns())
        finally:
            self.restarting = False

    # --- teleporter and gravity ----------------------------------------------------------

    def export(self) -> bytes:
        return teleporter.build(
            self.config, self.gravity.export(), self.leases, self.settings.hostname
        )

    def import_archive(self, filename: str, data: bytes, chosen: teleporter.Selection) -> list[str]:
        """Apply an uploaded archive (raises teleporter.BadArchive), then restart FTL."""
        if teleporter_v5.is_v5(filename, data):  # FTL v6 reads v5's archives too
            files = teleporter_v5.import_v5(self.gravity, data, chosen)
            self.imports += 1
            self.restart()
            return files
        archive = teleporter.read(filename, data)
        files = []
        if chosen.config and archive.config is not None:
            self._import_config(archive.config)
            files.append(teleporter.TOML)
        if chosen.dhcp_leases and archive.leases is not None:
            self.leases = archive.leases
            files.append(teleporter.LEASES)
        if chosen.tables and archive.gravity_db is not None:
            done = self.gravity.import_tables(archive.gravity_db, chosen.tables)
            files += [f"{teleporter.GRAVITY}->{t}" for t in done]
        self.imports += 1
        self.restart()
        return files

    def _import_config(self, imported: dict[str, Any]) -> None:
        new = copy.deepcopy(self.config)
        known = leaves(new)
        for path, value in leaves(imported).items():
            if path in known:  # items this simulator does not model are skipped
                _set(new, path, value)
        new["webserver"]["api"]["password"] = "********"  # noqa: S105 - FTL's mask
        self._take(new)

    def rebuild_gravity(self) -> Any:
        self.gravity_runs += 1
        yield from self.gravity.rebuild()
        if self.dnsmasq is not None:
            self.dnsmasq.write_blocked(self._dns()["blocked"])

    # --- configuration -------------------------------------------------------------------

    async def patch(self, change: Any) -> None:
        """Apply PATCH /api/config's ``config`` object: all of it, or nothing."""
        if not isinstance(change, dict):
            raise ConfigRefused("Invalid request body data", "config must be an object")
        new = copy.deepcopy(self.config)
        known = leaves(new)
        for path, value in _changes(change, known):
            _set(new, path, _validated(path, value, known[path]))
        await self._apply(new)

    async def add_item(self, path: list[str], item: str) -> None:
        items = _array(self.config, path)
        if item in items:
            raise ConfigRefused("Item already present", "Uniqueness of items is enforced")
        new = copy.deepcopy(self.config)
        _set(new, tuple(path), _validated(tuple(path), [*items, item], items))
        await self._apply(new)

    async def remove_item(self, path: list[str], item: str) -> bool:
        items = _array(self.config, path)
        if item not in items:
            return False
        new = copy.deepcopy(self.config)
        _set(new, tuple(path), [i for i in items if i != item])
        await self._apply(new)
        return True

    def _take(self, new: dict[str, Any]) -> dict[str, Any]:
        old, self.config = self.config, new
        self.config_changes += 1
        api = new["webserver"]["api"]
        self.settings.app_sudo = api["app_sudo"]
        self.sessions.max_sessions = api["max_sessions"]
        self.sessions.timeout = new["webserver"]["session"]["timeout"]
        return old

    async def _apply(self, new: dict[str, Any]) -> None:
        old = self._take(new)
        if _needs_restart(old, new):
            # FTL restarts itself for dnsmasq options; DNS (and, when slow, the API) is away.
            if self.settings.restart_seconds > 0:
                self.restart()
            elif self.dnsmasq is not None:
                await self.dnsmasq.restart(**self._dns())
        elif self.dnsmasq is not None and new["dns"]["hosts"] != old["dns"]["hosts"]:
            self.dnsmasq.write_hosts(self.hosts)


def _needs_restart(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Everything that becomes a dnsmasq option: dns.* except the hosts list, dhcp.*, and
    misc.dnsmasq_lines."""
    o, n = leaves(old), leaves(new)
    changed = {p for p in o if o[p] != n.get(p)}
    return any(
        (p[0] == "dns" and p != ("dns", "hosts"))
        or p[0] == "dhcp"
        or p == ("misc", "dnsmasq_lines")
        for p in changed
    )


# Items with rules beyond "the same type as now".
_RULES = {
    ("dns", "hosts"): "hosts",
    ("dns", "cnameRecords"): "cnames",
    ("webserver", "api", "max_sessions"): "seats",
    ("webserver", "session", "timeout"): "seconds",
}
_READ_ONLY = {("webserver", "api", "password")}  # a write sets pwhash in FTL; not modelled


def _changes(
    change: dict[str, Any], known: dict[tuple[str, ...], Any], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for key, value in change.items():
        path = (*prefix, key)
        if path in known and path not in _READ_ONLY:
            found.append((path, value))
        elif isinstance(value, dict) and any(k[: len(path)] == path for k in known):
            found += _changes(value, known, path)
        else:
            raise ConfigRefused("Config item is invalid", f"{'.'.join(path)}: not writable here")
    return found


def _validated(path: tuple[str, ...], value: Any, current: Any) -> Any:
    rule = _RULES.get(path)
    name = ".".join(path)
    if isinstance(current, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigRefused("Config item is invalid", f"{name}: not an array of strings")
        for entry in value:
            if rule == "hosts":
                _check_host_entry(name, entry)
            elif rule == "cnames" and len(entry.split(",")) < 2:
                raise ConfigRefused("Config item is invalid", f"{name}: {entry!r}: no target")
        return list(value)
    number = isinstance(value, int) and not isinstance(value, bool)
    if rule == "seats" and not (number and 1 <= value <= 100):
        raise ConfigRefused("Config item is invalid", f"{name}: wrong type or out of range")
    if rule == "seconds" and not (number and value >= 1):
        raise ConfigRefused("Config item is invalid", f"{name}: wrong type or out of range")
    if type(value) is not type(current):
        raise ConfigRefused("Config item is invalid", f"{name}: wrong type")
    return value


def _check_host_entry(name: str, entry: str) -> None:
    fields = entry.split()
    try:
        ipaddress.ip_address(fields[0] if fields else "")
    except ValueError:
        raise ConfigRefused("Config item is invalid", f"{name}: {entry!r}: bad address") from None
    if len(fields) < 2:
        raise ConfigRefused("Config item is invalid", f"{name}: {entry!r}: no host name")


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _array(tree: dict[str, Any], path: list[str]) -> list[str]:
    node: Any = tree
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        raise ConfigRefused("Invalid path depth", f"{'/'.join(path)} is not an array here")
    return list(node)


def _local_ttl(lines: list[str]) -> int:
    # dnsmasq takes the last local-ttl line; the simulator parses on its own, not with the client.
    ttl = 0
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "local-ttl" and value.strip().isdigit():
            ttl = int(value)
    return ttl
