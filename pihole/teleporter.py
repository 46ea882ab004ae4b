"""Pi-hole v6's teleporter archive as the migration uses it: what ``POST /api/teleporter``'s
``import`` field selects, the gravity tables inside an archive read for comparison, and the
backup file kept before anything changes.

An archive is a zip (etc/pihole/pihole.toml, etc/pihole/gravity.db with the group, adlist,
domainlist and client tables and their *_by_group links, etc/hosts, etc/pihole/dhcp.leases).
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

GRAVITY_DB = "etc/pihole/gravity.db"
GRAVITY_TABLES = (
    "group",
    "adlist",
    "adlist_by_group",
    "domainlist",
    "domainlist_by_group",
    "client",
    "client_by_group",
)
MAX_BYTES = 50 * 1024 * 1024  # FTL refuses larger uploads
_DOMAIN_TYPES = {0: "allow exact", 1: "deny exact", 2: "allow regex", 3: "deny regex"}


class ArchiveError(Exception):
    """Not a teleporter archive we can use; the message says why."""


def gravity_only() -> str:
    """The ``import`` field for the gravity tables alone: the target keeps its own config
    (passwords, port, interface) and its DHCP leases."""
    return json.dumps(
        {"config": False, "dhcp_leases": False, "gravity": dict.fromkeys(GRAVITY_TABLES, True)}
    )


def everything() -> str:
    """The ``import`` field of a restore: the target's own backup, all of it."""
    return json.dumps(
        {"config": True, "dhcp_leases": True, "gravity": dict.fromkeys(GRAVITY_TABLES, True)}
    )


def form(
    archive: bytes, selection: str, filename: str = "balupi-migrate.zip"
) -> Callable[[], aiohttp.FormData]:
    """The import's multipart form, made afresh on each call (a sent one cannot be resent)."""

    def make() -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("file", archive, filename=filename, content_type="application/zip")
        data.add_field("import", selection)
        return data

    return make


def check(archive: bytes, where: str) -> None:
    if not archive.startswith(b"PK\x03\x04"):
        raise ArchiveError(f"{where} is not a teleporter zip archive (no zip magic bytes)")
    if len(archive) > MAX_BYTES:
        raise ArchiveError(f"{where} is larger than the 50 MiB Pi-hole accepts")


@dataclass(frozen=True)
class Gravity:
    """An archive's gravity tables in names, not ids: what two Pi-holes can compare."""

    groups: frozenset[tuple[Any, ...]]
    adlists: frozenset[tuple[Any, ...]]
    domains: frozenset[tuple[Any, ...]]
    clients: frozenset[tuple[Any, ...]]

    def kinds(self) -> dict[str, frozenset[tuple[Any, ...]]]:
        return {
            "groups": self.groups,
            "adlists": self.adlists,
            "domains": self.domains,
            "clients": self.clients,
        }


def read_gravity(archive: bytes, where: str) -> Gravity:
    check(archive, where)
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            db = z.read(GRAVITY_DB)
    except (zipfile.BadZipFile, KeyError) as err:
        raise ArchiveError(f"{where}: no {GRAVITY_DB} in the archive ({err})") from None
    with tempfile.TemporaryDirectory(prefix="balupi-teleporter-") as tmp:
        path = Path(tmp) / "gravity.db"
        path.write_bytes(db)
        conn = sqlite3.connect(path)
        try:
            return names_of(conn)
        except sqlite3.Error as err:
            raise ArchiveError(f"{where}: {GRAVITY_DB} cannot be read: {err}") from None
        finally:
            conn.close()


def names_of(conn: sqlite3.Connection) -> Gravity:
    """The gravity tables of a database in names (also used for v5's JSON tables)."""
    groups = {gid: name for gid, name in conn.execute('SELECT id, name FROM "group"')}

    def linked(table: str) -> dict[int, tuple[str, ...]]:
        found: dict[int, list[str]] = {}
        for row, gid in conn.execute(f"SELECT * FROM {table}_by_group"):  # noqa: S608 - constant
            found.setdefault(row, []).append(groups.get(gid, f"#{gid}"))
        return {k: tuple(sorted(v)) for k, v in found.items()}

    lists, domains, clients = linked("adlist"), linked("domainlist"), linked("client")
    return Gravity(
        groups=frozenset(
            ("group", r[0], bool(r[1]), r[2] or "")
            for r in conn.execute('SELECT name, enabled, description FROM "group"')
        ),
        adlists=frozenset(
            ("block" if r[2] == 0 else "allow", r[1], bool(r[3]), r[4] or "", lists.get(r[0], ()))
            for r in conn.execute("SELECT id, address, type, enabled, comment FROM adlist")
        ),
        domains=frozenset(
            (
                _DOMAIN_TYPES.get(r[2], str(r[2])),
                r[1],
                bool(r[3]),
                r[4] or "",
                domains.get(r[0], ()),
            )
            for r in conn.execute("SELECT id, domain, type, enabled, comment FROM domainlist")
        ),
        clients=frozenset(
            ("client", r[1], r[2] or "", clients.get(r[0], ()))
            for r in conn.execute("SELECT id, ip, comment FROM client")
        ),
    )


@dataclass(frozen=True)
class GravityChange:
    kind: str
    added: int
    removed: int

    def __str__(self) -> str:
        return f"{self.kind}: +{self.added} -{self.removed}"


def differences(source: Gravity, target: Gravity) -> list[GravityChange]:
    """Per kind, how many entries the import adds and removes on the target (a changed entry
    counts as one of each)."""
    found = []
    theirs = target.kinds()
    for kind, ours in source.kinds().items():
        added, removed = len(ours - theirs[kind]), len(theirs[kind] - ours)
        if added or removed:
            found.append(GravityChange(kind, added, removed))
    return found


def examples(source: Gravity, target: Gravity, limit: int = 3) -> list[str]:
    """A few entries that differ, for the dry run's listing."""
    lines = []
    theirs = target.kinds()
    for kind, ours in source.kinds().items():
        for sign, rows in (("+", ours - theirs[kind]), ("-", theirs[kind] - ours)):
            for row in sorted(rows, key=str)[:limit]:
                lines.append(f"{sign} {kind[:-1]} {row[1]} ({row[0]})")
    return lines


def save_backup(archive: bytes, folder: Path, host: str) -> Path:
    """Write the archive beside nothing else, readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in host)
    path = folder / f"pihole-backup-{safe}-{stamp}.zip"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"pihole-backup-{safe}-{stamp}-{n}.zip"
    tmp = path.with_suffix(".part")
    tmp.touch(mode=0o600)
    tmp.write_bytes(archive)
    tmp.replace(path)
    return path
