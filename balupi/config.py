"""BaluPi's one config file (/etc/balupi/balupi.toml): its schema and its validation.

Every service loads the whole file with ``load_config`` and refuses to start while it has any
problem; ``balupi check-config FILE`` prints the same list.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from balupi.config_handshake import (
    DnsConfig,
    HandshakeConfig,
    NasConfig,
    parse_dns,
    parse_handshake,
    parse_nas,
)
from balupi.config_inbox import InboxConfig, parse_inbox
from balupi.config_pihole import PiholeConfig, parse_pihole
from balupi.config_reader import Problems, Table
from balupi.secret import Secret

DEFAULT_PATH = Path("/etc/balupi/balupi.toml")
# A plug's name becomes a label value and a log word: keep it plain.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class ConfigError(Exception):
    """The config file has problems; ``problems`` lists every one with its key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)")

    def report(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class ExporterConfig:
    listen_host: str = "0.0.0.0"  # noqa: S104 - Prometheus on the NAS scrapes the Pi too
    listen_port: int = 9877
    # Upper bound of one collection when Prometheus does not send its scrape timeout.
    deadline_seconds: float = 9.0
    # Answer this much before Prometheus's own scrape timeout runs out.
    deadline_margin_seconds: float = 0.5


@dataclass(frozen=True)
class PlugConfig:
    name: str
    host: str
    port: int | None
    username: str
    password: Secret | None = field(repr=False)
    transport: str = "klap"


@dataclass(frozen=True)
class TapoConfig:
    plugs: tuple[PlugConfig, ...] = ()
    # python-kasa's timeout for one request to a plug.
    request_timeout_seconds: float = 3.0
    # What a kWh costs, for the cost recording rules; None: no price exported.
    price_per_kwh: float | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class Config:
    exporter: ExporterConfig = ExporterConfig()
    tapo: TapoConfig = TapoConfig()
    # None when the file has no [pihole] section: the Pi-hole collector is then left out.
    pihole: PiholeConfig | None = None
    # Only balupi-handshake needs these; when [handshake] is there, [nas] and [dns] must be too.
    handshake: HandshakeConfig | None = None
    nas: NasConfig | None = None
    dns: DnsConfig | None = None
    inbox: InboxConfig | None = None  # None: no [inbox] table, nothing is flushed


def load_config(path: Path, *, secrets_for: Collection[str] | None = None) -> Config:
    """Read and validate ``path``; raise ConfigError listing every problem.

    ``secrets_for`` names the sections whose secrets this process reads (None: all).
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(path, [f"(file): cannot read: {err.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(path, [f"(file): not valid TOML: {err}"]) from None
    problems = Problems(base_dir=path.parent, secrets_for=secrets_for)
    config = parse_config(data, problems)
    if problems:
        raise ConfigError(path, problems.items)
    return config


def parse_config(data: dict[str, object], problems: Problems) -> Config:
    root = Table(data, "", problems)
    handshake, nas, dns = _handshake_sections(root)
    config = Config(
        exporter=_exporter(root.table("exporter")),
        tapo=_tapo(root.table("tapo")),
        pihole=parse_pihole(root.table("pihole")) if root.has("pihole") else None,
        handshake=handshake,
        nas=nas,
        dns=dns,
        inbox=parse_inbox(root.table("inbox")) if root.has("inbox") else None,
    )
    if config.dns is not None and config.dns.backend == "pihole" and config.pihole is None:
        problems.add("dns.backend", '"pihole" needs a [pihole] section (url, password_file)')
    root.finish()
    return config


def _handshake_sections(
    root: Table,
) -> tuple[HandshakeConfig | None, NasConfig | None, DnsConfig | None]:
    """All three or none: once one is there, the other two are required."""
    if not any(root.has(name) for name in ("handshake", "nas", "dns")):
        return None, None, None
    return (
        parse_handshake(root.table("handshake", required=True)),
        parse_nas(root.table("nas", required=True)),
        parse_dns(root.table("dns", required=True)),
    )


def _exporter(t: Table) -> ExporterConfig:
    d = ExporterConfig()
    config = ExporterConfig(
        listen_host=t.read_str("listen_host", d.listen_host),
        listen_port=t.read_port("listen_port", d.listen_port),
        deadline_seconds=t.read_float(
            "deadline_seconds", d.deadline_seconds, minimum=0.5, maximum=120
        ),
        deadline_margin_seconds=t.read_float(
            "deadline_margin_seconds", d.deadline_margin_seconds, minimum=0.0, maximum=10
        ),
    )
    t.finish()
    return config


def _tapo(t: Table) -> TapoConfig:
    d = TapoConfig()
    username = t.read_optional_str("username")
    password = t.secret("password", required=False)
    declared = t.has("password_file") or t.has("password_env")
    timeout = t.read_float(
        "request_timeout_seconds", d.request_timeout_seconds, minimum=0.5, maximum=60
    )
    price = t.read_optional_float("price_per_kwh", minimum=0, maximum=100)
    currency = t.read_str("currency", d.currency)
    plugs: list[PlugConfig] = []
    names: set[str] = set()
    for p in t.tables("plugs"):
        plug = _plug(p, username, password, declared)
        if plug.name and plug.name in names:
            p.problems.add(f"{p.key}.name", f"{plug.name!r} is used by another plug")
        names.add(plug.name)
        plugs.append(plug)
    t.finish()
    return TapoConfig(
        plugs=tuple(plugs),
        request_timeout_seconds=timeout,
        price_per_kwh=price,
        currency=currency,
    )


def _plug(t: Table, username: str | None, password: Secret | None, inherited: bool) -> PlugConfig:
    name = t.read_str("name")
    if name and not _NAME.match(name):
        t.problems.add(f"{t.key}.name", "use letters, digits, '_', '.' and '-' (at most 63)")
    # Most homes have one Tapo account: [tapo] gives the credentials, a plug may override them.
    own_user = t.read_optional_str("username")
    own_password = t.secret("password", required=False)
    user = own_user or username
    secret = own_password or password
    if user is None:
        t.problems.add(f"{t.key}.username", "required here or in [tapo] (the Tapo app e-mail)")
    if secret is None and not (inherited or t.has("password_file") or t.has("password_env")):
        t.problems.add(
            f"{t.key}.password", "required here or in [tapo]: set password_file or password_env"
        )
    plug = PlugConfig(
        name=name,
        host=t.read_str("host"),
        port=t.read_optional_port("port"),
        username=user or "",
        password=secret,
        transport=t.read_str("transport", "klap", choices=("klap", "aes")),
    )
    t.finish()
    return plug
