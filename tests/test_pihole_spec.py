"""Every request the client sends and every answer the simulator gives, against Pi-hole's own
OpenAPI description. Skips where the description (../shared/pihole-api/specs) is absent."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from aiohttp import web

from balupi.pihole import errors
from balupi.sim.pihole.model import SimSettings
from tests.pihole_helpers import APP_PASSWORD, PASSWORD, start_sim
from tests.pihole_spec import SpecValidator, needs_spec

pytestmark = needs_spec


async def test_client_and_simulator_speak_the_spec():
    validator = SpecValidator()
    sim = await start_sim(
        SimSettings(password=PASSWORD, app_password=APP_PASSWORD, max_sessions=2),
        middlewares=[validator.middleware],
    )
    client = sim.client()
    await client.summary()
    await client.blocking()
    await client.sessions()
    assert await client.max_sessions() == 2
    await client.top_domains(5)
    await client.top_domains(5, blocked=True)
    await client.top_clients(5)
    assert ("9.9.9.9", "dns9.quad9.net") in [(ip, n) for ip, n, _ in await client.upstreams()]
    await client.set_host_record("baluhost.local", "192.168.1.6")
    await client.set_local_ttl(3)
    assert await client.local_ttl() == 3
    item = urllib.parse.quote("10.0.0.7 printer.lan")
    await client.request("PUT", f"/config/dns/hosts/{item}")
    with pytest.raises(errors.PiholeProtocolError, match="Item already present"):
        await client.request("PUT", f"/config/dns/hosts/{item}")
    await client.request("DELETE", f"/config/dns/hosts/{item}")
    await client.request("GET", "/auth")
    await client.request("GET", "/config")
    sim.pihole.clock.advance(3600)  # expired: 401, then a fresh login
    await client.summary()

    app = sim.client(APP_PASSWORD)
    with pytest.raises(errors.PiholeForbidden):
        await app.set_host_record("baluhost.local", "192.168.1.7")
    third = sim.client()
    with pytest.raises(errors.PiholeSeatsExceeded):
        await third.summary()
    wrong = sim.client("wrong")
    with pytest.raises(errors.PiholeWrongPassword):
        await wrong.summary()
    for c in (client, app, third, wrong):
        await c.close()
    await sim.stop()

    assert validator.problems == []
    seen = {(m, p, s) for m, p, s in validator.checked}
    for expected in [
        ("POST", "/api/auth", 200),
        ("POST", "/api/auth", 401),
        ("POST", "/api/auth", 429),
        ("DELETE", "/api/auth", 204),
        ("GET", "/api/stats/summary", 401),
        ("PATCH", "/api/config", 200),
        ("PATCH", "/api/config", 403),
        ("PUT", "/api/config/{element}/{value}", 201),
        ("PUT", "/api/config/{element}/{value}", 400),
        ("DELETE", "/api/config/{element}/{value}", 204),
        ("GET", "/api/config/{element}", 200),
    ]:
        assert expected in seen, (expected, sorted(seen))


async def test_the_check_is_not_vacuous():
    """A simulator answer with a wrong type is caught, naming the field."""

    @web.middleware
    async def break_login(request, handler):
        response = await handler(request)
        if request.path == "/api/auth" and request.method == "POST":
            body = json.loads(response.body)
            body["session"]["valid"] = "yes"
            return web.json_response(body, status=response.status)
        return response

    validator = SpecValidator()
    sim = await start_sim(middlewares=[validator.middleware, break_login])
    client = sim.client()
    with pytest.raises(errors.PiholeProtocolError, match="login answered 200"):
        await client.summary()  # "yes" is not true: the client refuses it too
    await client.close()
    await sim.stop()
    found = validator.problems
    assert any("'yes' is not of type 'boolean'" in p for p in found), found


async def test_migration_speaks_the_spec(tmp_path):
    """Both simulated Pi-holes of a whole migration (export, import, PATCH, restarts, gravity,
    the counts) checked against the description, with FTL's known departures from it."""
    from balupi.pihole.migrate import End, Migration, Options
    from balupi.secret import Secret
    from tests.pihole_migrate_helpers import NAS_APP, PI_APP, start_pair

    validator = SpecValidator()
    pair = await start_pair(tmp_path, middlewares=[validator.middleware])
    said: list[str] = []
    options = Options(
        source=End(pair.nas.url, Secret(NAS_APP, "test")),
        target=End(pair.pi.url, Secret(PI_APP, "test")),
        backup_dir=tmp_path / "backups",
    )
    try:
        outcome = await Migration(options, said.append).run()
    finally:
        await pair.stop()
    assert outcome.code == 0, "\n".join(said)
    assert any(x.startswith("imported: etc/pihole/gravity.db->group, etc/") for x in said), said
    assert validator.problems == []
    seen = {(m, p, s) for m, p, s in validator.checked}
    for expected in [
        ("GET", "/api/teleporter", 200),
        ("POST", "/api/teleporter", 200),
        ("POST", "/api/action/gravity", 200),
        ("GET", "/api/info/ftl", 200),
        ("GET", "/api/info/version", 200),
        ("GET", "/api/lists", 200),
        ("GET", "/api/domains/{type}/{kind}", 200),
        ("GET", "/api/groups", 200),
        ("GET", "/api/clients", 200),
        ("GET", "/api/auth", 502),  # polled while FTL restarts
        ("PATCH", "/api/config", 200),
    ]:
        assert expected in seen, (expected, sorted(seen))


async def test_teleporter_import_needs_app_sudo_and_a_zip():
    from balupi.pihole import teleporter

    validator = SpecValidator()
    sim = await start_sim(middlewares=[validator.middleware])
    web_client, app = sim.client(), sim.client(APP_PASSWORD)
    archive = await app.download("/teleporter")  # an app password may read it
    with pytest.raises(errors.PiholeForbidden, match="app_sudo"):
        await app.upload(
            "/teleporter", teleporter.form(archive, teleporter.gravity_only()), what="import"
        )
    with pytest.raises(errors.PiholeProtocolError, match="400: Invalid ZIP file uploaded"):
        await web_client.upload(
            "/teleporter", teleporter.form(b"not a zip", teleporter.gravity_only()), what="import"
        )
    assert sim.pihole.imports == 0
    for c in (web_client, app):
        await c.close()
    await sim.stop()
    assert validator.problems == []
    seen = {(m, p, s) for m, p, s in validator.checked}
    assert ("POST", "/api/teleporter", 403) in seen and ("POST", "/api/teleporter", 400) in seen
