"""The simulated Pi-hole's gravity database: a real SQLite database with FTL's tables (groups,
adlists, domains, clients and their *_by_group links, plus the gravity domains themselves).

Teleporter archives carry the table subset FTL exports; the gravity table is not in them and
is rebuilt from the adlists by the gravity action. The simulator has no internet: what an adlist
"downloads" comes from ``list_contents`` (shared by the simulated Pi-holes of one test, like the
internet they both see), or a few names made from the list's address.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The tables a teleporter archive carries, in the order FTL imports them.
EXPORTED = (
    "group",
    "adlist",
    "adlist_by_group",
    "domainlist",
    "domainlist_by_group",
    "client",
    "client_by_group",
)
_NOW = "(cast(strftime('%s', 'now') as int))"
SCHEMA = """
CREATE TABLE "group" (id INTEGER PRIMARY KEY AUTOINCREMENT, enabled BOOLEAN NOT NULL DEFAULT 1,
  name TEXT UNIQUE NOT NULL, date_added INTEGER NOT NULL DEFAULT {_NOW},
  date_modified INTEGER NOT NULL DEFAULT {_NOW}, description TEXT);
CREATE TABLE adlist (id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT 1, date_added INTEGER NOT NULL DEFAULT {_NOW},
  date_modified INTEGER NOT NULL DEFAULT {_NOW}, comment TEXT, date_updated INTEGER,
  number INTEGER NOT NULL DEFAULT 0, invalid_domains INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0, abp_entries INTEGER NOT NULL DEFAULT 0,
  type INTEGER NOT NULL DEFAULT 0, UNIQUE(address, type));
CREATE TABLE adlist_by_group (adlist_id INTEGER NOT NULL REFERENCES adlist (id),
  group_id INTEGER NOT NULL REFERENCES "group" (id), PRIMARY KEY (adlist_id, group_id));
CREATE TABLE domainlist (id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER NOT NULL DEFAULT 0,
  domain TEXT NOT NULL, enabled BOOLEAN NOT NULL DEFAULT 1,
  date_added INTEGER NOT NULL DEFAULT {_NOW}, date_modified INTEGER NOT NULL DEFAULT {_NOW},
  comment TEXT, UNIQUE(domain, type));
CREATE TABLE domainlist_by_group (domainlist_id INTEGER NOT NULL REFERENCES domainlist (id),
  group_id INTEGER NOT NULL REFERENCES "group" (id), PRIMARY KEY (domainlist_id, group_id));
CREATE TABLE client (id INTEGER PRIMARY KEY AUTOINCREMENT, ip TEXT NOT NULL UNIQUE,
  date_added INTEGER NOT NULL DEFAULT {_NOW}, date_modified INTEGER NOT NULL DEFAULT {_NOW},
  comment TEXT);
CREATE TABLE client_by_group (client_id INTEGER NOT NULL REFERENCES client (id),
  group_id INTEGER NOT NULL REFERENCES "group" (id), PRIMARY KEY (client_id, group_id));
CREATE TABLE gravity (domain TEXT NOT NULL, adlist_id INTEGER NOT NULL REFERENCES adlist (id));
CREATE TABLE info (property TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "group" (id, enabled, name, description) VALUES (0, 1, 'Default', 'The default group');
""".replace("{_NOW}", _NOW)
# domainlist.type: FTL's numbers for (allow|deny, exact|regex); adlist.type: 0 block, 1 allow.
DOMAIN_TYPES = {
    ("allow", "exact"): 0,
    ("deny", "exact"): 1,
    ("allow", "regex"): 2,
    ("deny", "regex"): 3,
}
LIST_TYPES = {"block": 0, "allow": 1}


class GravityDb:
    def __init__(self, list_contents: dict[str, list[str]] | None = None) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.list_contents = list_contents if list_contents is not None else {}

    # --- seeding (tests, demo, bench): what the web interface would add -------------------

    def add_group(self, name: str, *, enabled: bool = True, comment: str | None = None) -> int:
        cur = self.db.execute(
            'INSERT INTO "group" (name, enabled, description) VALUES (?, ?, ?)',
            (name, enabled, comment),
        )
        return int(cur.lastrowid or 0)

    def add_adlist(
        self, address: str, *, kind: str = "block", groups: tuple[int, ...] = (0,), **extra: Any
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO adlist (address, type, enabled, comment) VALUES (?, ?, ?, ?)",
            (address, LIST_TYPES[kind], extra.get("enabled", True), extra.get("comment")),
        )
        return self._link("adlist", int(cur.lastrowid or 0), groups)

    def add_domain(
        self,
        domain: str,
        kind: str,
        match: str = "exact",
        *,
        groups: tuple[int, ...] = (0,),
        enabled: bool = True,
        comment: str | None = None,
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO domainlist (domain, type, enabled, comment) VALUES (?, ?, ?, ?)",
            (domain, DOMAIN_TYPES[(kind, match)], enabled, comment),
        )
        return self._link("domainlist", int(cur.lastrowid or 0), groups)

    def add_client(
        self, ip: str, *, groups: tuple[int, ...] = (0,), comment: str | None = None
    ) -> int:
        cur = self.db.execute("INSERT INTO client (ip, comment) VALUES (?, ?)", (ip, comment))
        return self._link("client", int(cur.lastrowid or 0), groups)

    def _link(self, table: str, row: int, groups: tuple[int, ...]) -> int:
        self.db.executemany(
            f"INSERT INTO {table}_by_group ({table}_id, group_id) VALUES (?, ?)",  # noqa: S608
            [(row, g) for g in groups],
        )
        return row

    # --- what the API lists ---------------------------------------------------------------

    def _groups_of(self, table: str) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for row in self.db.execute(f"SELECT * FROM {table}_by_group ORDER BY group_id"):  # noqa: S608
            found.setdefault(row[0], []).append(row[1])
        return found

    def groups(self) -> list[dict[str, Any]]:
        return [
            {
                "name": r["name"],
                "comment": r["description"],
                "enabled": bool(r["enabled"]),
                "id": r["id"],
                "date_added": r["date_added"],
                "date_modified": r["date_modified"],
            }
            for r in self.db.execute('SELECT * FROM "group" ORDER BY id')
        ]

    def lists(self) -> list[dict[str, Any]]:
        links = self._groups_of("adlist")
        kinds = {v: k for k, v in LIST_TYPES.items()}
        return [
            {
                "address": r["address"],
                "type": kinds.get(r["type"], "block"),
                "comment": r["comment"],
                "groups": links.get(r["id"], []),
                "enabled": bool(r["enabled"]),
                "id": r["id"],
                "date_added": r["date_added"],
                "date_modified": r["date_modified"],
                "date_updated": r["date_updated"] or 0,
                "number": r["number"],
                "invalid_domains": r["invalid_domains"],
                "abp_entries": r["abp_entries"],
                "status": r["status"],
            }
            for r in self.db.execute("SELECT * FROM adlist ORDER BY id")
        ]

    def domains(self, kind: str | None = None, match: str | None = None) -> list[dict[str, Any]]:
        links = self._groups_of("domainlist")
        names = {v: k for k, v in DOMAIN_TYPES.items()}
        found = []
        for r in self.db.execute("SELECT * FROM domainlist ORDER BY id"):
            t, m = names[r["type"]]
            if (kind and kind != t) or (match and match != m):
                continue
            found.append(
                {
                    "domain": r["domain"],
                    "unicode": r["domain"],
                    "type": t,
                    "kind": m,
                    "comment": r["comment"],
                    "groups": links.get(r["id"], []),
                    "enabled": bool(r["enabled"]),
                    "id": r["id"],
                    "date_added": r["date_added"],
                    "date_modified": r["date_modified"],
                }
            )
        return found

    def clients(self) -> list[dict[str, Any]]:
        links = self._groups_of("client")
        return [
            {
                "client": r["ip"],
                "name": None,
                "comment": r["comment"],
                "groups": links.get(r["id"], []),
                "id": r["id"],
                "date_added": r["date_added"],
                "date_modified": r["date_modified"],
            }
            for r in self.db.execute("SELECT * FROM client ORDER BY id")
        ]

    def counts(self) -> dict[str, Any]:
        """info/ftl's ftl.database object."""

        def one(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        def typed(t: int) -> dict[str, int]:
            base = f"SELECT count(*) FROM domainlist WHERE type = {t}"  # noqa: S608 - an int
            return {"total": one(base), "enabled": one(base + " AND enabled")}

        return {
            "gravity": one("SELECT count(DISTINCT domain) FROM gravity"),
            "groups": one('SELECT count(*) FROM "group"'),
            "lists": one("SELECT count(*) FROM adlist"),
            "clients": one("SELECT count(*) FROM client"),
            "domains": {"allowed": typed(0), "denied": typed(1)},
            "regex": {"allowed": typed(2), "denied": typed(3)},
        }

    def blocked_names(self) -> list[str]:
        """What DNS answers with the blocking address: gravity and exact denials, less exact
        allows (regexes need FTL's regex engine, which dnsmasq does not have)."""
        rows = self.db.execute(
            """SELECT domain FROM gravity JOIN adlist ON adlist.id = adlist_id
               WHERE adlist.enabled AND adlist.type = 0
               UNION SELECT domain FROM domainlist WHERE type = 1 AND enabled
               EXCEPT SELECT domain FROM domainlist WHERE type = 0 AND enabled
               ORDER BY 1"""
        )
        return [r[0] for r in rows]

    # --- teleporter -----------------------------------------------------------------------

    def export(self) -> bytes:
        """A gravity.db file with only the tables a teleporter archive carries."""
        with tempfile.TemporaryDirectory(prefix="balupi-sim-gravity-") as tmp:
            path = Path(tmp) / "gravity.db"
            out = sqlite3.connect(path)
            self.db.backup(out)
            out.executescript("DROP TABLE gravity; DROP TABLE info; VACUUM;")
            out.close()
            return path.read_bytes()

    def import_tables(self, data: bytes, tables: list[str]) -> list[str]:
        """Empty and refill the chosen tables from an archive's gravity.db, in one transaction;
        returns the tables found and imported."""
        with tempfile.TemporaryDirectory(prefix="balupi-sim-gravity-") as tmp:
            path = Path(tmp) / "gravity.db"
            path.write_bytes(data)
            self.db.execute("ATTACH DATABASE ? AS src", (str(path),))
            try:
                present = {
                    r[0]
                    for r in self.db.execute(
                        "SELECT name FROM src.sqlite_master WHERE type='table'"
                    )
                }
                done = []
                self.db.execute("BEGIN")
                for table in EXPORTED:
                    if table in tables and table in present:
                        self.db.execute(f'DELETE FROM main."{table}"')  # noqa: S608 - EXPORTED only
                        self.db.execute(f'INSERT INTO main."{table}" SELECT * FROM src."{table}"')  # noqa: S608
                        done.append(table)
                self.db.execute("COMMIT")
            except sqlite3.Error:
                self.db.execute("ROLLBACK")
                raise
            finally:
                self.db.execute("DETACH DATABASE src")
        return done

    # --- the gravity action ---------------------------------------------------------------

    def contents(self, address: str) -> list[str]:
        if address in self.list_contents:
            return self.list_contents[address]
        tag = hashlib.sha256(address.encode()).hexdigest()[:8]
        return [f"ad{i}.{tag}.example" for i in range(3)]

    def rebuild(self) -> Iterator[str]:
        """Rebuild the gravity table from the enabled adlists, yielding pihole -g's lines."""
        yield "  [i] Neutrino emissions detected...\n"
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM gravity")
        lists = self.db.execute(
            "SELECT id, address FROM adlist WHERE enabled ORDER BY id"
        ).fetchall()
        for row in lists:
            names = self.contents(row["address"])
            self.db.executemany(
                "INSERT INTO gravity (domain, adlist_id) VALUES (?, ?)",
                [(n, row["id"]) for n in names],
            )
            self.db.execute(
                "UPDATE adlist SET number = ?, status = 2, date_updated = ? WHERE id = ?",
                (len(names), int(time.time()), row["id"]),
            )
            yield f"  [i] Target: {row['address']}\n"
            yield "  [✓] Status: Retrieval successful\n"
            yield f"  [i] Imported {len(names)} domains\n\n"
        self.db.execute("COMMIT")
        total = self.counts()["gravity"]
        yield f"  [i] Number of gravity domains: {total} ({total} unique domains)\n"
        yield "  [✓] Done.\n"
