"""A Pi-hole v5 teleporter archive (.tar.gz of JSON table dumps) imported the way FTL v6 does
it (src/api/teleporter.c): each JSON file fills its table with the columns v5 wrote; a
domainlist file replaces only the entries of its type; the ``import`` selection picks tables by
name. v5's config files (setupVars.conf, custom.list, the CNAME and static DHCP files) are
imported only with ``config: true``, which the simulator does not model: it skips them."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from balupi.sim.pihole.gravity import GravityDb
from balupi.sim.pihole.teleporter import BadArchive, Selection

_DOMAIN = ("id", "domain", "enabled", "date_added", "date_modified", "comment", "type")
_ADLIST = (
    "id", "address", "enabled", "date_added", "date_modified", "comment", "date_updated",
    "number", "invalid_domains", "status",
)  # fmt: skip
# (file, table, domainlist type or None, columns), in FTL's order.
V5_FILES: tuple[tuple[str, str, int | None, tuple[str, ...]], ...] = (
    ("adlist.json", "adlist", None, _ADLIST),
    ("adlist_by_group.json", "adlist_by_group", None, ("group_id", "adlist_id")),
    ("blacklist.exact.json", "domainlist", 1, _DOMAIN),
    ("blacklist.regex.json", "domainlist", 3, _DOMAIN),
    ("client.json", "client", None, ("id", "ip", "date_added", "date_modified", "comment")),
    ("client_by_group.json", "client_by_group", None, ("group_id", "client_id")),
    ("domainlist_by_group.json", "domainlist_by_group", None, ("group_id", "domainlist_id")),
    (
        "group.json",
        "group",
        None,
        ("id", "enabled", "name", "date_added", "date_modified", "description"),
    ),
    ("whitelist.exact.json", "domainlist", 0, _DOMAIN),
    ("whitelist.regex.json", "domainlist", 2, _DOMAIN),
)


def is_v5(filename: str, data: bytes) -> bool:
    return filename.endswith(".tar.gz") and len(data) >= 40 and data.startswith(b"\x1f\x8b")


def import_v5(gravity: GravityDb, data: bytes, chosen: Selection) -> list[str]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            members = {m.name.removeprefix("./"): m for m in archive.getmembers() if m.isfile()}
            texts = {
                name: (archive.extractfile(m) or io.BytesIO()).read()
                for name, m in members.items()
                if name.endswith(".json")
            }
    except (tarfile.TarError, OSError, EOFError):
        raise BadArchive("Invalid GZIP archive") from None
    done = []
    for filename, table, kind, columns in V5_FILES:
        if table not in chosen.tables or filename not in texts:
            continue
        try:
            rows = json.loads(texts[filename])
        except ValueError:
            continue  # FTL logs the parse error and goes on
        if isinstance(rows, list) and _fill(gravity, table, kind, columns, rows):
            done.append(filename)
    return done


def _fill(
    gravity: GravityDb, table: str, kind: int | None, columns: tuple[str, ...], rows: list[Any]
) -> bool:
    if not all(isinstance(r, dict) and all(c in r for c in columns) for r in rows):
        return False  # FTL refuses a file whose objects lack a column
    db = gravity.db
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    db.execute("BEGIN")
    if kind is None:
        db.execute(f'DELETE FROM "{table}"')  # noqa: S608 - V5_FILES only
    else:
        db.execute(f'DELETE FROM "{table}" WHERE type = ?', (kind,))  # noqa: S608
    db.executemany(
        f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608
        [tuple(r[c] for c in columns) for r in rows],
    )
    db.execute("COMMIT")
    return True
