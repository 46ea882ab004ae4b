"""A Pi-hole v5 teleporter archive (Settings > Teleporter > Backup: a .tar.gz of JSON table
dumps and v5's config files), read so its lists can move onto a Pi-hole v6.

Pi-hole v6's own teleporter import reads such an archive too (FTL's src/api/teleporter.c): the
migration uploads it with only the gravity tables selected, so none of v5's config files
(setupVars.conf, pihole-FTL.conf) touch the target. The local records (custom.list) and CNAMEs
(05-pihole-custom-cname.conf) are taken from the archive here and go through the same filter as
a v6 source's (migrate_config.py).
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from dataclasses import dataclass
from typing import Any

from balupi.pihole.teleporter import ArchiveError, Gravity, names_of

# What v5's JSON files hold: (file, table, domainlist type or None).
TABLES = (
    ("group.json", "group", None),
    ("adlist.json", "adlist", None),
    ("adlist_by_group.json", "adlist_by_group", None),
    ("whitelist.exact.json", "domainlist", 0),
    ("blacklist.exact.json", "domainlist", 1),
    ("whitelist.regex.json", "domainlist", 2),
    ("blacklist.regex.json", "domainlist", 3),
    ("domainlist_by_group.json", "domainlist_by_group", None),
    ("client.json", "client", None),
    ("client_by_group.json", "client_by_group", None),
)
HOSTS = "custom.list"
CNAMES = "dnsmasq.d/05-pihole-custom-cname.conf"
_SCHEMA = """
CREATE TABLE "group" (id INTEGER PRIMARY KEY, enabled INTEGER, name TEXT, description TEXT);
CREATE TABLE adlist (id INTEGER PRIMARY KEY, address TEXT, type INTEGER DEFAULT 0,
  enabled INTEGER, comment TEXT);
CREATE TABLE domainlist (id INTEGER PRIMARY KEY, domain TEXT, type INTEGER, enabled INTEGER,
  comment TEXT);
CREATE TABLE client (id INTEGER PRIMARY KEY, ip TEXT, comment TEXT);
CREATE TABLE adlist_by_group (adlist_id INTEGER, group_id INTEGER);
CREATE TABLE domainlist_by_group (domainlist_id INTEGER, group_id INTEGER);
CREATE TABLE client_by_group (client_id INTEGER, group_id INTEGER);
"""
_COLUMNS = {
    "group": ("id", "enabled", "name", "description"),
    "adlist": ("id", "address", "enabled", "comment"),
    "domainlist": ("id", "domain", "type", "enabled", "comment"),
    "client": ("id", "ip", "comment"),
    "adlist_by_group": ("adlist_id", "group_id"),
    "domainlist_by_group": ("domainlist_id", "group_id"),
    "client_by_group": ("client_id", "group_id"),
}


def is_v5_archive(data: bytes) -> bool:
    return data.startswith(b"\x1f\x8b")


@dataclass
class V5Archive:
    rows: dict[str, list[dict[str, Any]]]  # table -> rows (domainlist: all four files)
    hosts: list[str]  # custom.list as dns.hosts entries
    cnames: list[str]  # cname=... lines as dns.cnameRecords entries

    def gravity(self) -> Gravity:
        """The archive's tables in names, comparable with a v6 archive's."""
        conn = sqlite3.connect(":memory:")
        try:
            conn.executescript(_SCHEMA)
            for table, columns in _COLUMNS.items():
                marks = ", ".join("?" for _ in columns)
                conn.executemany(
                    f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})',  # noqa: S608
                    [tuple(r.get(c) for c in columns) for r in self.rows.get(table, [])],
                )
            if not self.rows.get("group") or all(r.get("id") != 0 for r in self.rows["group"]):
                conn.execute("INSERT OR IGNORE INTO \"group\" VALUES (0, 1, 'Default', NULL)")
            return names_of(conn)
        finally:
            conn.close()

    def config(self) -> dict[str, Any]:
        """The part of a v6 config tree the archive fills: local records and CNAMEs."""
        return {"dns": {"hosts": self.hosts, "cnameRecords": self.cnames}}


def read_v5(data: bytes, where: str) -> V5Archive:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            files = {
                m.name.removeprefix("./"): (archive.extractfile(m) or io.BytesIO()).read()
                for m in archive.getmembers()
                if m.isfile()
            }
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ArchiveError(f"{where} is not a Pi-hole v5 teleporter archive: {err}") from None
    if not any(name in files for name, _, _ in TABLES):
        raise ArchiveError(f"{where} holds none of v5's table files (group.json, adlist.json ...)")
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, table, kind in TABLES:
        if name not in files:
            continue
        try:
            items = json.loads(files[name])
        except ValueError as err:
            raise ArchiveError(f"{where}: {name} is not JSON: {err}") from None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                rows.setdefault(table, []).append(
                    {**item, "type": kind} if kind is not None else item
                )
    return V5Archive(rows, _hosts(files.get(HOSTS, b"")), _cnames(files.get(CNAMES, b"")))


def _hosts(text: bytes) -> list[str]:
    lines = (line.split("#", 1)[0].split() for line in text.decode(errors="replace").splitlines())
    return [" ".join(fields) for fields in lines if len(fields) >= 2]


def _cnames(text: bytes) -> list[str]:
    found = []
    for line in text.decode(errors="replace").splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "cname" and value.strip():
            found.append(value.strip())
    return found
