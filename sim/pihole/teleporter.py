"""The simulated Pi-hole's teleporter archive, as FTL's src/zip/teleporter.c builds and reads it:
a zip of etc/pihole/pihole.toml, etc/pihole/gravity.db (the exported tables), etc/hosts and
etc/pihole/dhcp.leases. An import reads only pihole.toml, dhcp.leases and gravity.db."""

from __future__ import annotations

import io
import json
import tomllib
import zipfile
from dataclasses import dataclass, field
from typing import Any

import tomli_w

from balupi.sim.pihole.gravity import EXPORTED

TOML = "etc/pihole/pihole.toml"
GRAVITY = "etc/pihole/gravity.db"
LEASES = "etc/pihole/dhcp.leases"
HOSTS = "etc/hosts"
MAX_BYTES = 50 * 1024 * 1024  # FTL refuses larger uploads


class BadArchive(Exception):
    """An upload FTL would refuse with 400; the message is FTL's."""


def build(config: dict[str, Any], gravity_db: bytes, leases: str, hostname: str) -> bytes:
    stored = json.loads(json.dumps(config))
    stored["webserver"]["api"].pop("password", None)  # FTL stores the hash, never the password
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(TOML, tomli_w.dumps(stored))
        archive.writestr(GRAVITY, gravity_db)
        archive.writestr(HOSTS, f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n")
        archive.writestr(LEASES, leases)
    return out.getvalue()


@dataclass
class Selection:
    """The ``import`` form field: what to restore; None (no field) restores everything."""

    config: bool = True
    dhcp_leases: bool = True
    tables: list[str] = field(default_factory=lambda: list(EXPORTED))


def selection(text: str | None) -> Selection:
    if text is None:
        return Selection()
    try:
        chosen = json.loads(text)
    except ValueError:
        raise BadArchive("Invalid JSON in import field") from None
    if not isinstance(chosen, dict):
        raise BadArchive("import must be a JSON object")
    gravity = chosen.get("gravity") or {}
    if not isinstance(gravity, dict):
        raise BadArchive("import.gravity must be a JSON object")
    # A key left out is skipped, as in FTL.
    return Selection(
        config=chosen.get("config") is True,
        dhcp_leases=chosen.get("dhcp_leases") is True,
        tables=[t for t in EXPORTED if gravity.get(t) is True],
    )


@dataclass
class Archive:
    config: dict[str, Any] | None
    gravity_db: bytes | None
    leases: str | None


def read(filename: str, data: bytes) -> Archive:
    if not filename.endswith(".zip"):
        raise BadArchive("Invalid file: not a Pi-hole Teleporter archive (.zip, or v5's .tar.gz)")
    if len(data) > MAX_BYTES:
        raise BadArchive("File too large (max. 50 MB)")
    if not data.startswith(b"PK\x03\x04"):
        raise BadArchive("Invalid ZIP file uploaded")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            toml = archive.read(TOML).decode() if TOML in names else None
            gravity = archive.read(GRAVITY) if GRAVITY in names else None
            leases = archive.read(LEASES).decode() if LEASES in names else None
    except (zipfile.BadZipFile, UnicodeDecodeError):
        raise BadArchive("Invalid ZIP file uploaded") from None
    try:
        config = tomllib.loads(toml) if toml is not None else None
    except tomllib.TOMLDecodeError as err:
        raise BadArchive(f"Invalid {TOML}: {err}") from None
    return Archive(config, gravity, leases)
