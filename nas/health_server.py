"""A minimal /api/health for a NAS without BaluHost, so the Pi's heartbeat has something to ask."""

from __future__ import annotations

import socket

from aiohttp import web

from balupi import __version__


async def health(_request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "ok", "version": __version__, "hostname": socket.gethostname()}
    )


def make_health_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/api/health", health)
    return app
