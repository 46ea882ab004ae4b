"""`balupi pihole migrate` between two simulated Pi-holes (the NAS's and the Pi's), each with a
real dnsmasq that Debian's dig asks: everything arrives, nobody is locked out, refusals change
nothing, slow and interrupted restarts are handled, and `restore` puts the Pi back."""

from __future__ import annotations

import os
import shutil

import pytest
from aiohttp import web

from balupi.cli import main
from balupi.devstack.ports import free_port
from balupi.sim.pihole.config_tree import password_hash
from tests.pihole_helpers import dig
from tests.pihole_migrate_helpers import (
    NAS_APP,
    NAS_PASSWORD,
    PI_APP,
    PI_PASSWORD,
    migrate_args,
    password_file,
    run_balupi,
    run_cli,
    start_pair,
    target_state,
    v5_archive,
)
from tests.waiting import wait_for_async

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("dig") is None, reason="dig is missing: make system-deps"),
]


@pytest.fixture
async def pair(tmp_path):
    running = await start_pair(tmp_path, pi_restart=0.3)
    yield running
    await running.stop()


async def test_everything_arrives_and_nobody_is_locked_out(pair):
    pi = pair.pi.pihole
    before = {k: pi.config["webserver"][k] for k in ("port",)}
    hashes = dict(pi.config["webserver"]["api"])
    code, out = await run_cli(*migrate_args(pair))
    assert code == 0, out
    assert "DIFFERS" not in out and out.count(" ok\n") >= 16, out
    # counts, on the target itself
    nas, pi_db = pair.nas.pihole.gravity, pi.gravity
    assert pi_db.counts() == nas.counts()
    assert {d["domain"] for d in pi_db.domains()} == {d["domain"] for d in nas.domains()}
    assert {g["name"] for g in pi_db.groups()} == {"Default", "kids", "iot"}
    assert [c["client"] for c in pi_db.clients()] == ["192.168.1.30", "aa:bb:cc:dd:ee:ff"]
    # what a LAN client gets from the Pi's DNS
    port = pair.dns(pair.pi)
    assert await dig("denied.example", port) == ["0.0.0.0"]  # exact deny
    assert await dig("banner.example", port) == ["0.0.0.0"]  # from an adlist (gravity)
    assert await dig("allowed.example", port) == []  # on an adlist, but allowed
    assert await dig("nas.lan", port) == ["192.168.1.5"]
    assert await dig("files.lan", port) == ["192.168.1.5"]  # the CNAME
    assert await dig("baluhost.local", port) == ["192.168.1.2"]  # BaluPi's record stays
    # the Pi's own settings stayed
    assert {k: pi.config["webserver"][k] for k in ("port",)} == before
    api = pi.config["webserver"]["api"]
    for key in ("pwhash", "app_pwhash", "totp_secret", "app_sudo", "max_sessions"):
        assert api[key] == hashes[key], key
    assert api["pwhash"] == password_hash(PI_PASSWORD)
    assert pi.config["dns"]["interface"] == "end0" and pi.config["dhcp"]["active"] is False
    assert pi.config["misc"]["dnsmasq_lines"] == ["log-queries=extra", "local-ttl=5"]
    assert pi.config["dns"]["hostRecord"] == ""  # it named the NAS
    assert pi.config["ntp"]["sync"]["server"] == "pool.ntp.org"
    assert pi.config["dns"]["upstreams"] == ["1.1.1.1", "9.9.9.9"]
    assert pi.config["dns"]["revServers"] == ["true,192.168.1.0/24,192.168.1.1,lan"]
    for password in (PI_PASSWORD, PI_APP):
        client = pair.pi.client(password)
        assert (await client.summary())["queries"]["total"] > 0  # the old credentials log in
        await client.close()
    # what was left out, with why; no password anywhere in the output
    assert "dhcp.active: two DHCP servers" in out and "dns.interface: interface names" in out
    assert "webserver.api.pwhash: the Pi's web server" in out
    assert "dns.hostRecord: names the source host" in out
    for secret in (NAS_PASSWORD, NAS_APP, PI_PASSWORD, PI_APP):
        assert secret not in out
    assert "router's DHCP settings, set the DNS server to the Pi" in out
    assert "docker stop pihole" in out
    assert len(list((pair.workdir / "backups").glob("pihole-backup-*.zip"))) == 1


async def test_a_second_migration_changes_nothing(pair):
    code, out = await run_balupi(*migrate_args(pair))
    assert code == 0, out
    pi = pair.pi.pihole
    counters = (pi.imports, pi.config_changes, pi.gravity_runs, pi.restarts)
    state = target_state(pair)
    code, out = await run_balupi(*migrate_args(pair))
    assert code == 0, out
    assert "gravity tables: already the same, no import" in out
    assert "settings: nothing to change" in out
    assert (pi.imports, pi.config_changes, pi.gravity_runs, pi.restarts) == counters
    assert target_state(pair) == state


async def test_dry_run_changes_nothing(pair):
    state = target_state(pair)
    code, out = await run_balupi(*migrate_args(pair, "--dry-run"))
    assert code == 0, out
    assert "gravity tables would be imported" in out and "settings that would change (7)" in out
    assert "dns.cnameRecords: [] -> ['files.lan,nas.lan', 'photos.lan,nas.lan,300']" in out
    assert "dry run: nothing was changed" in out
    pi = pair.pi.pihole
    assert (pi.imports, pi.config_changes, pi.gravity_runs) == (0, 0, 0)
    assert target_state(pair) == state
    assert not (pair.workdir / "backups").exists()
    # without --to, the target is the config's [pihole]
    pw = password_file(pair.workdir, "pi-config-pw", PI_APP)
    config = pair.workdir / "balupi.toml"
    config.write_text(f'[pihole]\nurl = "{pair.pi.url}"\npassword_file = "{pw}"\n')
    args = migrate_args(pair, "--dry-run")
    at = args.index("--to")
    del args[at : at + 4]
    args[args.index("--config") + 1] = str(config)
    code, out = await run_balupi(*args)
    assert code == 0 and f"target: Pi-hole at {pair.pi.url}" in out, out
    assert "settings that would change (7)" in out and target_state(pair) == state
    # a backup that cannot be written stops the migration before any change
    (pair.workdir / "a-file").write_text("")
    args = migrate_args(pair)
    args[args.index("--backup-dir") + 1] = str(pair.workdir / "a-file" / "backups")
    code, out = await run_balupi(*args)
    assert code == 2 and "cannot save the target's backup" in out, out
    assert target_state(pair) == state and pi.imports == 0


async def test_app_password_without_app_sudo_is_refused_clearly(tmp_path):
    pair = await start_pair(tmp_path, pi_app_sudo=False)
    try:
        state = target_state(pair)
        code, out = await run_balupi(*migrate_args(pair))
        assert code == 2, out
        assert "app password" in out and "webserver.api.app_sudo is false" in out
        assert "Nothing was changed" in out
        assert target_state(pair) == state and pair.pi.pihole.imports == 0
        assert not (tmp_path / "backups").exists()
        # the web password may: same command, other file
        args = migrate_args(pair)
        args[args.index("--to-password-file") + 1] = str(password_file(tmp_path, "w", PI_PASSWORD))
        code, out = await run_balupi(*args)
        assert code == 0, out
    finally:
        await pair.stop()


async def test_slow_ftl_restart_is_waited_for(tmp_path):
    pair = await start_pair(tmp_path, pi_restart=1.5)
    try:
        code, out = await run_balupi(*migrate_args(pair))
        assert code == 0, out
        assert "waiting for Pi-hole at" in out and "(answers HTTP 502)" in out
        assert "answers again after" in out
        assert pair.pi.pihole.restarts == 2  # the import, then the DNS settings
    finally:
        await pair.stop()


async def test_interrupted_migration_is_reported_and_restore_puts_the_pi_back(tmp_path):
    """The Pi restarts slower than we wait; on a second try the NAS disappears half-way."""
    pair = await start_pair(tmp_path, pi_restart=1.5)
    try:
        original = target_state(pair)
        code, out = await run_balupi(*migrate_args(pair, "--restart-timeout", "0.3"))
        assert code == 3, out
        assert "INTERRUPTED during waiting for FTL to restart after the import" in out
        assert "did not come back within 0.3 s" in out
        backup = out.split("balupi pihole restore ")[-1].split()[0]
        assert pair.pi.pihole.gravity.counts()["lists"] == 5  # half-migrated indeed

        await wait_for_async(lambda: not pair.pi.pihole.restarting, what="the Pi's FTL back")
        restore = [
            "pihole", "restore", backup, "--to", pair.pi.url,
            "--to-password-file", str(password_file(tmp_path, "pi-restore-pw", PI_APP)),
            "--config", str(tmp_path / "none.toml"),
        ]  # fmt: skip
        code, out = await run_balupi(*restore)
        assert code == 0, out
        assert "waiting for Pi-hole at" in out and "the target is as it was" in out
        assert target_state(pair) == original
        assert await dig("nas.lan", pair.dns(pair.pi)) == []
        assert await dig("baluhost.local", pair.dns(pair.pi)) == ["192.168.1.2"]
    finally:
        await pair.stop()


async def test_source_disappearing_half_way_is_reported(tmp_path):
    box: dict[str, object] = {}

    @web.middleware
    async def nas_goes_away(request, handler):
        response = await handler(request)
        if request.method == "POST" and request.path == "/api/teleporter":
            nas = box["pair"].nas.pihole  # type: ignore[attr-defined]
            nas.restart_answer, nas.restarting = "reset", True  # pulled the plug
        return response

    pair = await start_pair(tmp_path, pi_restart=0.3, middlewares=[nas_goes_away])
    box["pair"] = pair
    try:
        original = target_state(pair)
        code, out = await run_balupi(*migrate_args(pair))
        assert code == 3, out
        assert "INTERRUPTED during" in out and "cannot reach Pi-hole at " + pair.nas.url in out
        backup = out.split("balupi pihole restore ")[-1].split()[0]
        pw = password_file(tmp_path, "pi-restore-pw", PI_PASSWORD)
        restore = ["pihole", "restore", backup, "--to", pair.pi.url, "--to-password-file",
                   str(pw), "--config", "/nonexistent"]  # fmt: skip
        code, out = await run_balupi(*restore)
        assert code == 0, out
        assert target_state(pair) == original
    finally:
        pair.nas.pihole.restarting = False
        await pair.stop()


async def test_v5_source_gets_told_how_to_export(tmp_path):
    async def v5_api(request):
        return web.json_response({"core_current": "v5.18", "FTL_current": "v5.25"})

    app = web.Application()
    app.router.add_get("/admin/api.php", v5_api)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    pair = await start_pair(tmp_path)
    try:
        args = migrate_args(pair)
        args[args.index("--from") + 1] = f"http://127.0.0.1:{port}"
        code, out = await run_balupi(*args)
        assert code == 2, out
        assert "is Pi-hole v5" in out and "Settings > Teleporter" in out
        assert pair.pi.pihole.imports == 0
    finally:
        await pair.stop()
        await runner.cleanup()


def test_bad_arguments_are_refused_before_any_request(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BALUPI_PIHOLE_FROM_PASSWORD", raising=False)
    assert main(["pihole", "migrate", "--from", "nas:80", "--to", "http://x"]) == 2
    assert "--from wants http://HOST[:PORT]" in capsys.readouterr().err
    args = ["pihole", "migrate", "--from", "http://127.0.0.1:1", "--to", "http://127.0.0.1:2"]
    assert main([*args, "--from-password-file", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with open(os.devnull) as no_terminal:  # no prompt without a terminal
        monkeypatch.setattr("sys.stdin", no_terminal)
        assert main(args) == 2
    assert "no password for the source" in capsys.readouterr().err
    pw = str(password_file(tmp_path, "p", "x"))
    same = ["--from-password-file", pw, "--to-password-file", pw]
    assert main(["pihole", "migrate", "--from", "http://h:1", "--to", "http://h:1", *same]) == 2
    assert "are the same Pi-hole" in capsys.readouterr().err
    nobody = ["pihole", "migrate", "--from", f"http://127.0.0.1:{free_port()}"]
    nobody += ["--to", f"http://127.0.0.1:{free_port()}", *same, "--backup-dir", str(tmp_path)]
    assert main(nobody) == 2
    out = capsys.readouterr().out
    assert "refused: cannot reach the source at http://127.0.0.1:" in out, out
    assert "Nothing was changed" in out and not list(tmp_path.glob("*.zip"))
    restore = ["pihole", "restore", str(tmp_path / "none.zip"), "--to", "http://127.0.0.1:1"]
    assert main([*restore, "--to-password-file", pw]) == 2
    assert "cannot use" in capsys.readouterr().out


async def test_a_v5_archive_moves_its_lists_and_records_but_no_settings(pair):
    archive = v5_archive(pair.workdir)
    args = migrate_args(pair)
    at = args.index("--from")
    args[at : at + 4] = ["--from-v5-archive", str(archive)]  # no URL, no source password
    pi = pair.pi.pihole
    hashes = dict(pi.config["webserver"]["api"])
    code, out = await run_cli(*args)
    assert code == 0, out
    assert "DIFFERS" not in out and "v5 archive" in out
    assert "imported: group.json, adlist.json" in out or "imported: adlist.json" in out, out
    counts = pi.gravity.counts()
    assert (counts["groups"], counts["lists"], counts["clients"]) == (2, 2, 1)
    assert counts["domains"]["denied"] == {"total": 2, "enabled": 1}
    port = pair.dns(pair.pi)
    assert await dig("denied.example", port) == ["0.0.0.0"]
    assert await dig("banner.example", port) == ["0.0.0.0"]  # gravity from its adlist
    assert await dig("allowed.example", port) == []
    assert await dig("files.lan", port) == ["192.168.1.5"]
    assert await dig("baluhost.local", port) == ["192.168.1.2"]
    assert pi.config["webserver"]["api"] == hashes  # v5's WEBPASSWORD did not travel
    assert pi.config["dns"]["interface"] == "end0" and pi.config["dhcp"]["active"] is False
    imports = pi.imports
    code, out = await run_cli(*args)
    assert code == 0 and "already the same, no import" in out, out
    assert pi.imports == imports
