"""The simulated Pi-hole's endpoints for its lists and its backups: groups, lists, domains,
clients, info/ftl, info/version, the teleporter, and the gravity action (streamed, as FTL does)."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from balupi.sim.pihole import teleporter
from balupi.sim.pihole.model import SimulatedPihole

Refusal = Callable[[web.Request], web.Response | None]


def add_routes(
    app: web.Application, key: web.AppKey[SimulatedPihole], forbidden_write: Refusal
) -> None:
    def sim(request: web.Request) -> SimulatedPihole:
        return request.app[key]

    async def get_groups(request: web.Request) -> web.Response:
        return _answer({"groups": sim(request).gravity.groups()})

    async def get_lists(request: web.Request) -> web.Response:
        return _answer({"lists": sim(request).gravity.lists()})

    async def get_domains(request: web.Request) -> web.Response:
        kind, match = request.match_info.get("type"), request.match_info.get("kind")
        if kind not in (None, "allow", "deny") or match not in (None, "exact", "regex"):
            return _error(400, "bad_request", "Invalid request: type or kind unknown")
        return _answer({"domains": sim(request).gravity.domains(kind, match)})

    async def get_clients(request: web.Request) -> web.Response:
        return _answer({"clients": sim(request).gravity.clients()})

    async def get_info_ftl(request: web.Request) -> web.Response:
        pihole = sim(request)
        database = pihole.gravity.counts()
        return _answer(
            {
                "ftl": {
                    "database": database,
                    "privacy_level": pihole.config["misc"]["privacylevel"],
                    "clients": {"total": database["clients"], "active": database["clients"]},
                    "pid": os.getpid(),
                    "uptime": int(time.time() - pihole.stats.started) * 1000,
                    "allow_destructive": True,
                }
            }
        )

    async def get_info_version(request: web.Request) -> web.Response:
        v = sim(request).settings.version
        part = {"version": v, "hash": "51b6bc5e"}
        return _answer(
            {
                "version": {
                    "core": {"local": {"branch": "master", **part}, "remote": part},
                    "web": {"local": {"branch": "master", **part}, "remote": part},
                    "ftl": {
                        "local": {"branch": "master", "date": "2026-11-01 10:00:00 +0000", **part},
                        "remote": part,
                    },
                }
            }
        )

    async def get_teleporter(request: web.Request) -> web.Response:
        pihole = sim(request)
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        name = f"pi-hole_{pihole.settings.hostname}_teleporter_{stamp}.zip"
        return web.Response(
            body=pihole.export(),
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def post_teleporter(request: web.Request) -> web.Response:
        pihole = sim(request)
        refused = forbidden_write(request)  # an import changes config: app_sudo's rule
        if refused:
            return refused
        form = await _form(request)
        upload = form.get("file")
        if upload is None:
            return _error(400, "bad_request", "No file uploaded")
        filename, data = upload
        try:
            chosen = teleporter.selection(form["import"][1].decode() if "import" in form else None)
            files = pihole.import_archive(filename or "", data, chosen)
        except (teleporter.BadArchive, sqlite3.Error) as err:
            return _error(400, "invalid_zip", str(err))
        return _answer({"files": files})  # FTL's key; its API description says "processed"

    async def post_gravity(request: web.Request) -> web.StreamResponse:
        pihole = sim(request)
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for line in pihole.rebuild_gravity():
            await response.write(line.encode())
            await asyncio.sleep(0)  # let each line leave before the next, as pihole -g's do
        await response.write_eof()
        return response

    r = app.router
    r.add_get("/api/groups", get_groups)
    r.add_get("/api/lists", get_lists)
    r.add_get("/api/domains/{type}/{kind}", get_domains)
    r.add_get("/api/clients", get_clients)
    r.add_get("/api/info/ftl", get_info_ftl)
    r.add_get("/api/info/version", get_info_version)
    r.add_get("/api/teleporter", get_teleporter)
    r.add_post("/api/teleporter", post_teleporter)
    r.add_post("/api/action/gravity", post_gravity)


async def _form(request: web.Request) -> dict[str, tuple[str | None, bytes]]:
    """The multipart fields as (filename, bytes). The body is read whole, so a middleware that
    read it before (the spec check) does not leave the handler an empty stream."""
    body = await request.read()
    head = f"Content-Type: {request.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str):
            fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response({**body, "took": 0.0003}, status=status)


def _error(status: int, key: str, message: str, hint: str | None = None) -> web.Response:
    return _answer({"error": {"key": key, "message": message, "hint": hint}}, status)
