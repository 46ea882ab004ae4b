"""Moving one Pi-hole v6 (the NAS's) onto another (the Pi's) without locking anybody out.

The steps, each refusing with one clear message before anything changes where it can:
both ends are v6 and let us in; the target's credentials may import (an app password needs
webserver.api.app_sudo); the target's backup is saved; the gravity tables are imported with
``config: false`` (so the target keeps its passwords, port and interface); a filtered part of
the config is PATCHed (migrate_config.py); each FTL restart is waited for; gravity is rebuilt;
and both ends are compared (migrate_verify.py).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from balupi.http_client import HttpError, fetch, make_session
from balupi.pihole import errors, teleporter
from balupi.pihole.client import PiholeClient
from balupi.pihole.ftl_restart import wait_for_restart
from balupi.pihole.migrate_config import ConfigPlan, plan_config
from balupi.pihole.migrate_verify import (
    compare,
    dns_rows,
    snapshot,
    table,
    v5_dns_rows,
    v5_rows,
)
from balupi.pihole.teleporter_v5 import V5Archive, read_v5
from balupi.secret import Secret

EXIT_OK, EXIT_DIFFERS, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3
Say = Callable[[str], None]


class Refused(Exception):
    """A precondition failed; nothing was changed."""


class Interrupted(Exception):
    """A step failed after the target had started to change."""


@dataclass
class End:
    url: str
    password: Secret | None
    dns: tuple[str, int] | None = None  # None: the URL's host and Pi-hole's dns.port
    label: str = ""

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or ""


@dataclass
class Options:
    source: End
    target: End
    backup_dir: Path
    managed_names: tuple[str, ...] = ("baluhost.local",)
    dry_run: bool = False
    restart_timeout: float = 300.0
    gravity_timeout: float = 1800.0
    request_timeout: float = 30.0
    pi_address: str | None = None  # the Pi's LAN address, for the router step
    source_archive: Path | None = None  # a Pi-hole v5 teleporter .tar.gz instead of a source


@dataclass
class Outcome:
    code: int
    backup: Path | None = None
    imported: bool = False
    patched: bool = False
    rows: list[Any] = field(default_factory=list)


class Migration:
    def __init__(self, options: Options, say: Say) -> None:
        self.o = options
        self.say = say
        self.source = PiholeClient(
            options.source.url, options.source.password, request_timeout=options.request_timeout
        )
        self.target = PiholeClient(
            options.target.url, options.target.password, request_timeout=options.request_timeout
        )
        self.step = "start"
        self.archive: V5Archive | None = None

    async def run(self) -> Outcome:
        try:
            return await self._run()
        except Refused as err:
            self.say(f"refused: {err}\nNothing was changed.")
            return Outcome(EXIT_REFUSED)
        finally:
            await self.source.close()
            await self.target.close()

    async def _run(self) -> Outcome:
        o = self.o
        v5 = o.source_archive
        self.say(f"source: {v5 or self.source.where}\ntarget: {self.target.where}")
        if v5 is None:
            await self._check_v6(self.source, "source")
        await self._check_v6(self.target, "target")
        await may_import(self.target)
        target_zip = await self._export(self.target, "target")
        try:
            if v5 is None:
                source_zip = await self._export(self.source, "source")
                upload = (source_zip, "balupi-migrate.zip")
                source_gravity = teleporter.read_gravity(source_zip, "the source's archive")
            else:
                data = await asyncio.to_thread(_read, v5)
                self.archive = read_v5(data, str(v5))
                upload = (data, "balupi-migrate-v5.tar.gz")  # FTL v6 reads v5's archives
                source_gravity = self.archive.gravity()
            target_gravity = teleporter.read_gravity(target_zip, "the target's archive")
        except teleporter.ArchiveError as err:
            raise Refused(str(err)) from None
        gravity_changes = teleporter.differences(source_gravity, target_gravity)
        config = await self._plan_config()
        self._show_plan(gravity_changes, source_gravity, target_gravity, config)
        if o.dry_run:
            self.say("dry run: nothing was changed (no backup written either)")
            return Outcome(EXIT_OK)
        try:
            backup = teleporter.save_backup(target_zip, o.backup_dir, o.target.host)
        except OSError as err:
            raise Refused(
                f"cannot save the target's backup in {o.backup_dir}: {err.strerror} "
                "(run as root, or choose a folder with --backup-dir)"
            ) from None
        self.say(
            f"backup of the target saved: {backup}\n  (put it back: balupi pihole restore {backup})"
        )
        outcome = Outcome(EXIT_OK, backup=backup)
        try:
            if gravity_changes:
                await self._import_gravity(*upload)
                outcome.imported = True
            if not config.empty:
                await self._patch(config)
                outcome.patched = True
            self.step = "comparing the gravity counts"
            if outcome.imported or (v5 is None and await self._gravity_differs()):
                self.step = "rebuilding gravity"
                await rebuild_gravity(self.target, self.say, timeout=o.gravity_timeout)
            self.step = "verify"
            outcome.rows = await self._verify()
        except (errors.PiholeError, teleporter.ArchiveError) as err:
            self.say(
                f"INTERRUPTED during {self.step}: {err}\n"
                f"The target may be half-migrated. Put it back as it was with:\n"
                f"  balupi pihole restore {backup}"
            )
            outcome.code = EXIT_INTERRUPTED
            return outcome
        except asyncio.CancelledError:  # Ctrl-C: say how to go back, then stop
            self.say(f"STOPPED during {self.step}; put the target back with:\n"
                     f"  balupi pihole restore {backup}")  # fmt: skip
            raise
        if not all(r.same for r in outcome.rows):
            self.say("The target differs from the source (rows marked DIFFERS above).")
            outcome.code = EXIT_DIFFERS
            return outcome
        self._last_steps()
        return outcome

    # --- checks -------------------------------------------------------------------------

    async def _check_v6(self, client: PiholeClient, role: str) -> None:
        self.step = f"checking the {role}"
        await refuse_unless_v6(client.url, role)
        try:
            answer = await client.request("GET", "/info/version")
        except errors.PiholeError as err:
            raise Refused(f"the {role}: {err}") from None
        version = str(_dig(answer, "version", "ftl", "local", "version") or "")
        if not version.startswith("v6"):
            raise Refused(f"the {role} runs FTL {version or '(unknown)'}; BaluPi needs v6")
        self.say(f"{role}: Pi-hole FTL {version}")

    async def _export(self, client: PiholeClient, role: str) -> bytes:
        self.step = f"exporting the {role}'s teleporter archive"
        try:
            archive = await client.download("/teleporter", timeout=120)
        except errors.PiholeError as err:
            raise Refused(f"cannot export the {role}'s settings: {err}") from None
        try:
            teleporter.check(archive, f"the {role}'s export")
        except teleporter.ArchiveError as err:
            raise Refused(str(err)) from None
        return archive

    async def _plan_config(self) -> ConfigPlan:
        self.step = "reading both configs"
        try:
            if self.archive is not None:
                source = self.archive.config()
            else:
                source = _dig(await self.source.request("GET", "/config"), "config") or {}
            target = _dig(await self.target.request("GET", "/config"), "config") or {}
        except errors.PiholeError as err:
            raise Refused(str(err)) from None
        return plan_config(
            source, target, source_host=self.o.source.host, managed_names=self.o.managed_names
        )

    def _show_plan(
        self,
        changes: list[teleporter.GravityChange],
        source: teleporter.Gravity,
        target: teleporter.Gravity,
        config: ConfigPlan,
    ) -> None:
        verb = "would" if self.o.dry_run else "will"
        if changes:
            self.say(
                f"gravity tables {verb} be imported (config: false): "
                + ", ".join(map(str, changes))
            )
            for line in teleporter.examples(source, target):
                self.say(f"    {line}")
        else:
            self.say("gravity tables: already the same, no import")
        if config.changes:
            self.say(f"settings that {verb} change ({len(config.changes)}):")
            for name, old, new in config.changes:
                self.say(f"    {name}: {_short(old)} -> {_short(new)}")
        else:
            self.say("settings: nothing to change")
        for record in config.kept_records:
            self.say(f"kept as BaluPi set it: dns.hosts {record!r}")
        if config.left_out:
            self.say(f"left out ({len(config.left_out)}, they differ but stay the target's):")
            for name, why in config.left_out:
                self.say(f"    {name}: {why}")

    # --- changes ------------------------------------------------------------------------

    async def _import_gravity(self, archive: bytes, filename: str) -> None:
        self.step = "importing the gravity tables"
        self.say("importing groups, adlists, domains and clients (config: false) ...")
        answer = await self.target.upload(
            "/teleporter",
            teleporter.form(archive, teleporter.gravity_only(), filename),
            what="import a teleporter archive",
            timeout=300,
        )
        # FTL answers "files"; its API description calls the key "processed".
        files = _dig(answer, "files") or _dig(answer, "processed") or []
        self.say(f"imported: {', '.join(map(str, files)) or '(nothing)'}")
        self.step = "waiting for FTL to restart after the import"
        await wait_for_restart(self.target, timeout=self.o.restart_timeout, progress=self.say)

    async def _patch(self, plan: ConfigPlan) -> None:
        self.step = "changing the settings"
        self.say(f"changing {len(plan.changes)} settings (PATCH /api/config) ...")
        await self.target.request(
            "PATCH", "/config", json={"config": plan.patch}, what="change Pi-hole's settings"
        )
        if restarts_ftl(plan.patch):
            self.step = "waiting for FTL to restart after the settings"
            await wait_for_restart(self.target, timeout=self.o.restart_timeout, progress=self.say)

    async def _gravity_differs(self) -> bool:
        ours = _dig(await self.source.request("GET", "/info/ftl"), "ftl", "database", "gravity")
        theirs = _dig(await self.target.request("GET", "/info/ftl"), "ftl", "database", "gravity")
        return bool(ours != theirs)

    # --- verification ---------------------------------------------------------------------

    async def _verify(self) -> list[Any]:
        if self.archive is not None:
            return await self._verify_v5(self.archive)
        self.say("comparing source and target ...")
        source, target = await asyncio.gather(
            snapshot(self.source, self.o.managed_names), snapshot(self.target, self.o.managed_names)
        )
        rows = compare(source, target)
        source_dns = self.o.source.dns or (self.o.source.host, _port(source))
        target_dns = self.o.target.dns or (self.o.target.host, _port(target))
        rows += await dns_rows(source, source_dns, target_dns)
        self.say(table(rows, self.o.source.label or "source", self.o.target.label or "target"))
        return rows

    async def _verify_v5(self, archive: V5Archive) -> list[Any]:
        self.say("comparing the v5 archive and the target ...")
        target = await snapshot(self.target, self.o.managed_names)
        rows = v5_rows(archive, target, self.o.managed_names)
        rows += await v5_dns_rows(
            archive, target, self.o.target.dns or (self.o.target.host, _port(target))
        )
        self.say(table(rows, "v5 archive", self.o.target.label or "target"))
        return rows

    def _last_steps(self) -> None:
        pi = self.o.pi_address or self.o.target.host
        nas = f" at {self.o.source.host}" if self.o.source.host else ""
        self.say(
            "The target now holds what the source held. The last steps are yours:\n"
            f"  1. In the router's DHCP settings, set the DNS server to the Pi: {pi} (only that "
            "one; a second DNS server lets clients bypass Pi-hole). Clients pick it up when "
            "they renew their lease (reconnect Wi-Fi to hurry one).\n"
            f"  2. Check a client: `nslookup pi-hole.net` names {pi} as its server.\n"
            f"  3. Once clients use the Pi (its query log fills, the NAS's{nas} goes quiet), "
            "switch the NAS's Pi-hole off: `docker stop pihole` and set its restart policy to "
            "`no` (or `docker compose down` in its folder), so it does not return after a reboot."
        )


async def refuse_unless_v6(url: str, role: str) -> None:
    """One request without credentials tells v6 (JSON at /api), v5 (/admin/api.php) and
    nothing apart."""
    base = url.rstrip("/")
    async with make_session(10) as http:
        try:
            answer = await fetch(http, "GET", f"{base}/api/auth", limit=64 * 1024)
            if answer.status in (200, 401):
                return
            status = answer.status
            old = await fetch(http, "GET", f"{base}/admin/api.php?versions", limit=64 * 1024)
        except HttpError as err:
            raise Refused(f"cannot reach the {role} at {url}: {err}") from None
    try:
        v5 = old.status == 200 and isinstance(old.json(), dict)
    except ValueError:
        v5 = False
    if v5:
        raise Refused(
            f"the {role} at {url} is Pi-hole v5 (it has /admin/api.php, no /api), whose API "
            "BaluPi does not speak. Export it in its web interface (Settings > Teleporter > "
            "Backup: a pi-hole-...-teleporter_....tar.gz) and run the migration from that file: "
            "`balupi pihole migrate --from-v5-archive FILE` (its lists, domains, groups, "
            "clients, local records and CNAMEs move; none of v5's settings). Or upgrade it to "
            "v6 first"
        )
    raise Refused(
        f"the {role} at {url} answered HTTP {status} for /api/auth: is this Pi-hole v6's web "
        "server (scheme, host and port only)?"
    )


async def may_import(client: PiholeClient) -> None:
    """Refuse an app password without webserver.api.app_sudo: Pi-hole would answer 403 to
    the import and the PATCH, after the backup, which is worse than refusing now."""
    try:
        sessions = await client.sessions()
        sudo = _dig(
            await client.request("GET", "/config/webserver/api/app_sudo"),
            "config",
            "webserver",
            "api",
            "app_sudo",
        )
    except errors.PiholeError as err:
        raise Refused(f"the target: {err}") from None
    mine = next((s for s in sessions if s.get("current_session")), {})
    if mine.get("app") and sudo is not True:
        raise Refused(
            f"the target's credentials are an app password, and {client.where} lets app "
            "passwords only read (webserver.api.app_sudo is false): it would refuse the import "
            "and the settings with 403. Either set webserver.api.app_sudo = true on the target "
            "(Settings > All settings > Webserver and API, or `sudo pihole-FTL --config "
            "webserver.api.app_sudo true`), or give the migration the target's web password"
        )


async def rebuild_gravity(client: PiholeClient, say: Say, *, timeout: float) -> None:
    """Run gravity (the lists' domains are not in a teleporter archive) and show its
    progress: one line per list and the total."""
    say("rebuilding gravity (downloading every adlist) ...")
    lists = 0
    async for line in client.stream_lines("POST", "/action/gravity", timeout=timeout):
        text = line.strip()
        if "Target:" in text:
            lists += 1
            say(f"  gravity: list {lists}: {text.split('Target:', 1)[1].strip()}")
        elif "Number of gravity domains" in text or "[✗]" in text:
            say(f"  gravity: {text.lstrip('[i]✓ ')}")


async def restore(target: End, archive_path: Path, say: Say, *, restart_timeout: float) -> int:
    """Put a backup made by the migration back: config, leases and gravity tables."""
    try:
        archive = await asyncio.to_thread(archive_path.read_bytes)
        teleporter.check(archive, str(archive_path))
    except (OSError, teleporter.ArchiveError) as err:
        say(f"refused: cannot use {archive_path}: {err}")
        return EXIT_REFUSED
    client = PiholeClient(target.url, target.password, request_timeout=30)
    try:
        await refuse_unless_v6(target.url, "target")
        await may_import(client)
        say(f"restoring {archive_path} onto {client.where} (config, leases and lists) ...")
        answer = await client.upload(
            "/teleporter",
            teleporter.form(archive, teleporter.everything(), archive_path.name),
            what="import a teleporter archive",
            timeout=300,
        )
        say(f"restored: {', '.join(map(str, _dig(answer, 'files') or []))}")
        await wait_for_restart(client, timeout=restart_timeout, progress=say)
        await rebuild_gravity(client, say, timeout=1800)
        say("done: the target is as it was when the backup was taken")
        return EXIT_OK
    except Refused as err:
        say(f"refused: {err}\nNothing was changed.")
        return EXIT_REFUSED
    except errors.PiholeError as err:
        say(f"restore failed: {err}\nRun it again once the target answers.")
        return EXIT_INTERRUPTED
    finally:
        await client.close()


def restarts_ftl(patch: dict[str, Any]) -> bool:
    """FTL restarts for dnsmasq's options: dns.* except the hosts list, dhcp.*, dnsmasq_lines."""
    dns = set(patch.get("dns", {})) - {"hosts"}
    return bool(dns or patch.get("dhcp") or "dnsmasq_lines" in patch.get("misc", {}))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise teleporter.ArchiveError(f"cannot read {path}: {err.strerror}") from None


def _port(snapshot: dict[str, Any]) -> int:
    port = _dig(snapshot["_config"], "dns", "port")
    return port if isinstance(port, int) and not isinstance(port, bool) else 53


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:67] + "..."


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
