"""The simulated Pi-hole's HTTP side: the v6 API endpoints BaluPi uses, answering as FTL does
(status codes, error objects, ``took``), plus /sim/state and /sim/control for tests and demo."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:  # aiohttp 3.8 (Debian bookworm's) has no typedefs.Middleware
    from aiohttp.typedefs import Middleware

from balupi.aiohttp_compat import app_key, request_key
from balupi.sim.pihole.model import ConfigRefused, SimulatedPihole
from balupi.sim.pihole.server_gravity import add_routes
from balupi.sim.pihole.sessions import Session

SIM_KEY = app_key("pihole", SimulatedPihole)
SESSION_KEY: web.RequestKey[Session | None] = request_key("pihole_session")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(pihole: SimulatedPihole, *, middlewares: Iterable[Middleware] = ()) -> web.Application:
    app = web.Application(middlewares=[*middlewares, _restarting, _slow, _auth, _odd])
    app[SIM_KEY] = pihole
    r = app.router
    r.add_get("/api/auth", get_auth)
    r.add_post("/api/auth", post_auth)
    r.add_delete("/api/auth", delete_auth)
    r.add_get("/api/auth/sessions", get_sessions)
    r.add_get("/api/stats/summary", get_summary)
    r.add_get("/api/stats/top_domains", get_top_domains)
    r.add_get("/api/stats/top_clients", get_top_clients)
    r.add_get("/api/stats/upstreams", get_upstreams)
    r.add_get("/api/dns/blocking", get_blocking)
    r.add_post("/api/dns/blocking", post_blocking)
    r.add_get("/api/config", get_config)
    r.add_patch("/api/config", patch_config)
    r.add_get("/api/config/{element:.+}", get_config_element)
    r.add_put("/api/config/{element:.+}/{value}", put_config_item)
    r.add_delete("/api/config/{element:.+}/{value}", delete_config_item)
    add_routes(app, SIM_KEY, _forbidden_write)
    r.add_route("*", "/api/{rest:.*}", not_found)
    r.add_get("/sim/state", sim_state)
    r.add_post("/sim/control", sim_control)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    return app


async def _start(app: web.Application) -> None:
    await app[SIM_KEY].start()


async def _stop(app: web.Application) -> None:
    await app[SIM_KEY].stop()


def answer(body: dict[str, Any] | None, status: int = 200) -> web.Response:
    if body is None:
        return web.Response(status=status)
    # FTL reports its processing time; ours is too small to matter, so a fixed small figure.
    return web.json_response({**body, "took": 0.0003}, status=status)


def error(status: int, key: str, message: str, hint: str | None = None) -> web.Response:
    return answer({"error": {"key": key, "message": message, "hint": hint}}, status)


def unauthorized() -> web.Response:
    return error(401, "unauthorized", "Unauthorized")


# --- middlewares ---------------------------------------------------------------------------

_OPEN = {("POST", "/api/auth"), ("GET", "/api/auth")}


@web.middleware
async def _restarting(request: web.Request, handler: Handler) -> web.StreamResponse:
    """While FTL restarts its web server is gone: a proxy in front (Docker's, nginx) answers
    502, or with restart_answer "reset" the connection drops, as with no proxy."""
    pihole = request.app[SIM_KEY]
    if pihole.restarting and request.path.startswith("/api/"):
        if pihole.restart_answer == "reset" and request.transport is not None:
            request.transport.abort()
        return web.Response(status=502, text="502 Bad Gateway\n", content_type="text/plain")
    return await handler(request)


@web.middleware
async def _slow(request: web.Request, handler: Handler) -> web.StreamResponse:
    delay = request.app[SIM_KEY].delay_seconds
    if delay and request.path.startswith("/api/"):
        await asyncio.sleep(delay)  # the simulated slowness itself, not synchronisation
    return await handler(request)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """FTL's rule: every /api path except login and its status needs a valid session."""
    pihole = request.app[SIM_KEY]
    sid = request.headers.get("X-FTL-SID") or request.headers.get("sid")
    sid = sid or request.query.get("sid")
    session = pihole.sessions.find(sid)
    request[SESSION_KEY] = session
    if not request.path.startswith("/api/") or (request.method, request.path) in _OPEN:
        return await handler(request)
    if session is None:
        return unauthorized()
    return await handler(request)


@web.middleware
async def _odd(request: web.Request, handler: Handler) -> web.StreamResponse:
    odd = request.app[SIM_KEY].odd_answers
    if request.method == "GET" and request.path in odd:
        return web.json_response(odd[request.path])
    return await handler(request)


# --- authentication ------------------------------------------------------------------------


def _session_json(
    pihole: SimulatedPihole, session: Session | None, message: str | None
) -> dict[str, Any]:
    return {
        "session": {
            "valid": session is not None,
            "totp": pihole.settings.totp,
            "sid": session.sid if session else None,
            "csrf": session.csrf if session else None,
            "validity": pihole.sessions.timeout if session else -1,
            "message": message,
        }
    }


async def get_auth(request: web.Request) -> web.Response:
    pihole, session = request.app[SIM_KEY], request[SESSION_KEY]
    if session is None:
        return answer(_session_json(pihole, None, "no valid session"), 401)
    return answer(_session_json(pihole, session, None))


async def post_auth(request: web.Request) -> web.Response:
    pihole = request.app[SIM_KEY]
    try:
        body = json.loads(await request.text())
    except ValueError:
        return error(400, "bad_request", "No valid JSON payload found")
    if not isinstance(body, dict) or "password" not in body:
        return error(400, "bad_request", "No password found in JSON payload")
    if not isinstance(body["password"], str):
        return error(400, "bad_request", "Field password has to be of type 'string'")
    app = pihole.check_password(body["password"])
    if app is None:
        return answer(_session_json(pihole, None, "password incorrect"), 401)
    if pihole.settings.totp and not app:  # app passwords skip 2FA
        if "totp" not in body:
            return error(400, "bad_request", "No 2FA token found in JSON payload")
        return error(401, "unauthorized", "Invalid 2FA token")
    session = pihole.sessions.login(
        app=app, remote_addr=request.remote or "", user_agent=request.headers.get("User-Agent")
    )
    if session is None:
        return error(
            429, "api_seats_exceeded", "API seats exceeded", "increase webserver.api.max_sessions"
        )
    message = "app-password correct" if app else "password correct"
    return answer(_session_json(pihole, session, message))


def _signed_in(request: web.Request) -> Session:
    """The session of a request that _auth let through to a path that needs one."""
    session = request[SESSION_KEY]
    if session is None:
        raise web.HTTPUnauthorized()  # _auth answers these itself: a route not in _OPEN
    return session


async def delete_auth(request: web.Request) -> web.Response:
    request.app[SIM_KEY].sessions.logout(_signed_in(request))
    return answer(None, 204)


async def get_sessions(request: web.Request) -> web.Response:
    pihole, current = request.app[SIM_KEY], _signed_in(request)
    now = pihole.clock.now()
    listed = [s.as_json(current.sid, now) for s in pihole.sessions.listed()]
    return answer({"sessions": listed})


# --- statistics and blocking ---------------------------------------------------------------


async def get_summary(request: web.Request) -> web.Response:
    return answer(request.app[SIM_KEY].stats.summary())


def _count(request: web.Request) -> int:
    try:
        return max(0, min(int(request.query.get("count", "10")), 1000))
    except ValueError:
        return 10


async def get_top_domains(request: web.Request) -> web.Response:
    blocked = request.query.get("blocked", "false") == "true"
    return answer(request.app[SIM_KEY].stats.top_domains(_count(request), blocked))


async def get_top_clients(request: web.Request) -> web.Response:
    return answer(request.app[SIM_KEY].stats.top_clients(_count(request)))


async def get_upstreams(request: web.Request) -> web.Response:
    return answer(request.app[SIM_KEY].stats.upstreams())


async def get_blocking(request: web.Request) -> web.Response:
    return answer({"blocking": request.app[SIM_KEY].blocking, "timer": None})


async def post_blocking(request: web.Request) -> web.Response:
    pihole = request.app[SIM_KEY]
    try:
        body = json.loads(await request.text())
    except ValueError:
        return error(400, "bad_request", "Invalid request body data (no valid JSON)")
    if not isinstance(body, dict) or not isinstance(body.get("blocking"), bool):
        return error(400, "body_error", 'No "blocking" boolean in body data')
    pihole.blocking = "enabled" if body["blocking"] else "disabled"
    return answer({"blocking": pihole.blocking, "timer": None})


# --- configuration -------------------------------------------------------------------------


def _forbidden_write(request: web.Request) -> web.Response | None:
    """FTL's app_sudo rule: an app-password session may change settings only with it on."""
    session = request[SESSION_KEY]
    if session is not None and session.app and not request.app[SIM_KEY].settings.app_sudo:
        return error(
            403,
            "forbidden",
            "Unable to change configuration (read-only)",
            "The current app session is not allowed to modify Pi-hole config settings "
            "(webserver.api.app_sudo is false)",
        )
    return None


async def get_config(request: web.Request) -> web.Response:
    return answer({"config": request.app[SIM_KEY].config})


async def get_config_element(request: web.Request) -> web.Response:
    path = [p for p in request.match_info["element"].split("/") if p]
    node: Any = request.app[SIM_KEY].config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return error(400, "bad_request", "Config item not found", "/".join(path))
        node = node[key]
    for key in reversed(path):
        node = {key: node}
    return answer({"config": node})


async def patch_config(request: web.Request) -> web.Response:
    pihole = request.app[SIM_KEY]
    refused = _forbidden_write(request)
    if refused is not None:  # a Response is falsy on aiohttp 3.8 (an empty mapping)
        return refused
    try:
        body = json.loads(await request.text())
    except ValueError:
        return error(400, "bad_request", "Invalid request body data (no valid JSON)")
    if not isinstance(body, dict) or "config" not in body:
        return error(400, "bad_request", 'No "config" object in body data')
    try:
        await pihole.patch(body["config"])
    except ConfigRefused as err:
        return error(400, "bad_request", err.message, err.hint)
    return answer({"config": pihole.config})


def _element(request: web.Request) -> tuple[list[str], str]:
    path = [p for p in request.match_info["element"].split("/") if p]
    return path, urllib.parse.unquote(request.match_info["value"])


async def put_config_item(request: web.Request) -> web.Response:
    refused = _forbidden_write(request)
    if refused is not None:  # a Response is falsy on aiohttp 3.8 (an empty mapping)
        return refused
    path, value = _element(request)
    try:
        await request.app[SIM_KEY].add_item(path, value)
    except ConfigRefused as err:
        return error(400, "bad_request", err.message, err.hint)
    return answer(None, 201)


async def delete_config_item(request: web.Request) -> web.Response:
    refused = _forbidden_write(request)
    if refused is not None:  # a Response is falsy on aiohttp 3.8 (an empty mapping)
        return refused
    path, value = _element(request)
    try:
        found = await request.app[SIM_KEY].remove_item(path, value)
    except ConfigRefused as err:
        return error(400, "bad_request", err.message, err.hint)
    return answer(None, 204) if found else answer({}, 404)


async def not_found(request: web.Request) -> web.Response:
    return error(404, "not_found", "Not found", request.path)


# --- the simulator's own side channel ------------------------------------------------------


async def sim_state(request: web.Request) -> web.Response:
    pihole = request.app[SIM_KEY]
    return web.json_response(
        {
            "open_sessions": len(pihole.sessions.open()),
            "logins": pihole.sessions.logins,
            "logouts": pihole.sessions.logouts,
            "max_sessions": pihole.sessions.max_sessions,
            "hosts": pihole.hosts,
            "dns_port": pihole.settings.dns_port,
            "delay_seconds": pihole.delay_seconds,
            "blocking": pihole.blocking,
            "restarting": pihole.restarting,
            "restarts": pihole.restarts,
            "imports": pihole.imports,
            "config_changes": pihole.config_changes,
            "gravity_runs": pihole.gravity_runs,
        }
    )


async def sim_control(request: web.Request) -> web.Response:
    """{"delay_seconds": 2} makes it slow, {"expire_sessions": true} ends every session."""
    pihole = request.app[SIM_KEY]
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise web.HTTPBadRequest(text="send a JSON object\n") from None
    if not isinstance(body, dict) or set(body) - {"delay_seconds", "expire_sessions"}:
        raise web.HTTPBadRequest(text="keys: delay_seconds (number), expire_sessions (true)\n")
    delay = body.get("delay_seconds", pihole.delay_seconds)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 600:
        raise web.HTTPBadRequest(text="delay_seconds must be a number 0..600\n")
    pihole.delay_seconds = float(delay)
    if body.get("expire_sessions") is True:
        pihole.clock.advance(pihole.sessions.timeout + 1)
    return await sim_state(request)
