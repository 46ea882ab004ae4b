"""balupi-handshake's HTTP API (aiohttp). Routes and what each answers: docs/handshake.md and
/api/openapi.json.

NAS calls are HMAC-signed (signing.py); wake and status calls come from the dashboard on the LAN.
A refused request changes nothing: no state, no DNS, no snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from balupi import __version__
from balupi.aiohttp_compat import app_key
from balupi.handshake.controller import NasController
from balupi.handshake.cross_site import cross_site_guard
from balupi.handshake.inbox_flusher import InboxFlusher, NasNotOnline
from balupi.handshake.metrics import HandshakeCollector
from balupi.handshake.openapi import openapi_document
from balupi.handshake.recent_count import RecentCount
from balupi.handshake.request_body import read_limited
from balupi.handshake.signing import Accepted, SignatureError, Verifier
from balupi.handshake.snapshot import SnapshotError, parse_snapshot
from balupi.inbox import FlushBusyError, InboxCollector
from balupi.repeat_log import RepeatLog, kind_of

log = logging.getLogger("balupi.handshake.api")
# A flood of refused calls logs one line a minute per kind of refusal, with a count.
_refusals = RepeatLog(log)

CONTROLLER = app_key("controller", NasController)
VERIFIER = app_key("verifier", Verifier)
INBOX: web.AppKey[InboxFlusher | None] = app_key("inbox")
# Without [inbox]: the one shared, recent count of the inbox folder (with it: the flusher's).
USAGE: web.AppKey[RecentCount[tuple[int, int] | None]] = app_key("usage")

GOING_OFFLINE = ("/api/handshake/nas-going-offline", "/api/nas-going-offline")
COMING_ONLINE = ("/api/handshake/nas-coming-online", "/api/nas-coming-online")
SNAPSHOT = "/api/handshake/snapshot"
WAKE = ("/api/wake-nas", "/api/nas/wol")
INBOX_FLUSH = "/api/inbox/flush"


def error(status: type[web.HTTPException], reason: str, **headers: str) -> web.HTTPException:
    return status(
        text=json.dumps({"error": reason}), content_type="application/json", headers=headers
    )


async def signed_body(request: web.Request) -> tuple[bytes, Accepted]:
    """The body of a NAS call whose size and signature are good; 413 or 401 otherwise.

    The headers are checked before the body is read (and the body is parsed only if the HMAC of
    its raw bytes does not match): a refusal costs little. The signature is used up only by
    ``carried_out``, once the call did what it asked.
    """
    verifier = request.app[VERIFIER]
    try:
        verifier.precheck(request.headers)
        body = await read_limited(request, request.app[CONTROLLER].body_limit)
        accepted = verifier.check(request.method, request.path, request.headers, body)
    except SignatureError as err:
        log_refusal(f"refused {request.method} {request.path}: {err}", request.remote)
        raise error(web.HTTPUnauthorized, str(err)) from None
    return body, accepted


def log_refusal(message: str, remote: str | None) -> None:
    _refusals.warning(f"{message} (from {remote})", kind=kind_of(message))


def carried_out(request: web.Request, accepted: Accepted) -> None:
    """Use the call's signature up (a second identical call is then a replay)."""
    try:
        request.app[VERIFIER].consume(accepted)
    except SignatureError as err:  # the same call, carried out meanwhile by another request
        raise error(web.HTTPUnauthorized, str(err)) from None


def snapshot_in(body: bytes) -> bytes | None:
    """The snapshot carried by a going-offline body; None for an empty body or ``{}``."""
    if not body.strip() or body.strip() == b"{}":
        return None
    try:
        parse_snapshot(body)
    except SnapshotError as err:
        raise error(web.HTTPBadRequest, str(err)) from None
    return body


async def going_offline(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    body, accepted = await signed_body(request)
    snapshot = snapshot_in(body)
    # A snapshot that cannot be stored (full or read-only disk) does not stop the switch.
    stored = controller.going_offline(snapshot)
    carried_out(request, accepted)
    dns = await controller.dns_settled()
    return web.json_response(
        {
            "acknowledged": True,
            "nas_state": controller.state,
            "dns_switched": dns.switched,
            "dns_error": dns.error,
            "snapshot_stored": stored,
        }
    )


async def coming_online(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    _body, accepted = await signed_body(request)  # no body expected, but signed like any other
    controller.coming_online()
    carried_out(request, accepted)
    dns = await controller.dns_settled()
    flusher = request.app[INBOX]
    if flusher is not None:
        flusher.after_coming_online()  # runs after this answer: BaluHost waits at most 5 s
    files, _size = await _inbox(request.app)
    return web.json_response(
        {
            "acknowledged": True,
            "nas_state": controller.state,
            "dns_switched": dns.switched,
            "dns_error": dns.error,
            # The flush starts now and finishes after this answer; /api/status tells how it went.
            "inbox_flush_started": flusher is not None,
            "inbox_flushed": False,
            "files_transferred": 0,
            "inbox_files": files,
        }
    )


async def flush_inbox(request: web.Request) -> web.Response:
    """Move the inbox to the NAS now (the dashboard's button); answers with the report."""
    flusher = request.app[INBOX]
    if flusher is None:
        raise error(web.HTTPNotFound, "no [inbox] section in balupi.toml: nothing to flush to")
    try:
        report = await flusher.flush_now()
    except NasNotOnline as err:
        raise error(web.HTTPConflict, str(err)) from None
    except FlushBusyError as err:
        raise error(web.HTTPConflict, str(err)) from None
    return web.json_response(report.as_dict())


async def snapshot(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    body, accepted = await signed_body(request)
    if not body.strip():
        raise error(web.HTTPBadRequest, "empty body: send the snapshot JSON")
    try:
        parse_snapshot(body)
    except SnapshotError as err:
        raise error(web.HTTPBadRequest, str(err)) from None
    try:
        controller.store_snapshot(body)
    except OSError as err:
        # Nothing was done: the signature stays unused, so the NAS may retry it.
        raise error(
            web.HTTPInternalServerError, f"cannot store the snapshot: {err.strerror}"
        ) from None
    carried_out(request, accepted)
    return web.json_response({"acknowledged": True, "snapshot_stored": True, "bytes": len(body)})


async def wake(request: web.Request) -> web.Response:
    controller = request.app[CONTROLLER]
    answer = controller.wake()
    now = controller.status()
    body = {
        "wol_sent": answer.sent,
        "nas_previous_state": answer.previous,
        "nas_state": now.nas_state,
        "wake_elapsed_seconds": now.wake.elapsed_seconds,
        "wake_timeout_seconds": now.wake.timeout_seconds,
    }
    if answer.error:
        return web.json_response({**body, "error": answer.error}, status=502)
    if answer.retry_after is not None:
        retry = str(max(1, round(answer.retry_after)))
        return web.json_response(
            {**body, "error": answer.reason}, status=429, headers={"Retry-After": retry}
        )
    if not answer.sent:
        return web.json_response({**body, "reason": answer.reason})
    return web.json_response(body, status=202)


async def status(request: web.Request) -> web.Response:
    files, size = await _inbox(request.app)
    now = request.app[CONTROLLER].status()
    hb, dns, wake = now.heartbeat, now.dns, now.wake
    return web.json_response(
        {
            "nas_state": now.nas_state,
            "since": _iso(now.since),
            "dns": {
                "hostname": dns.hostname,
                "backend": dns.backend,
                "target": dns.target,
                "address": dns.current,
                "wanted_address": dns.wanted,
                "pending": dns.pending,
                "last_error": dns.last_error,
                "failed_attempts": dns.failed_attempts,
                "last_switch": _iso(dns.last_switch_at),
            },
            "last_snapshot": _iso(now.last_snapshot_at),
            "wake": {
                "in_progress": wake.in_progress,
                "elapsed_seconds": wake.elapsed_seconds,
                "timeout_seconds": wake.timeout_seconds,
            },
            "heartbeat": {
                "last_result": None if hb.last_ok is None else ("ok" if hb.last_ok else "miss"),
                "last_at": _iso(hb.last_at),
                "last_error": hb.last_error,
                "consecutive_misses": hb.misses,
                "consecutive_successes": hb.successes,
            },
            "inbox": {"files": files, "bytes": size, **_flushes(request.app[INBOX])},
            "online_seconds_total": round(now.online_seconds_total, 3),
        }
    )


async def handshake_status(request: web.Request) -> web.Response:
    """The field names BaluHost's own Pi dashboard reads."""
    files, size = await _inbox(request.app)
    now = request.app[CONTROLLER].status()
    return web.json_response(
        {
            "nas_state": now.nas_state,
            "since": _iso(now.since),
            "last_snapshot": _iso(now.last_snapshot_at),
            "inbox_size_mb": round(size / 1e6, 3),
            "inbox_files": files,
        }
    )


async def health(_request: web.Request) -> web.Response:
    return web.json_response(
        {"status": "ok", "version": __version__, "hostname": socket.gethostname()}
    )


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def make_app(
    controller: NasController, verifier: Verifier, inbox: InboxFlusher | None = None
) -> web.Application:
    # The body limit is enforced by read_limited; aiohttp's own limit is the same, as a backstop.
    # The unsigned buttons (wake, move the inbox now) refuse cross-site browser requests.
    app = web.Application(
        client_max_size=controller.body_limit,
        middlewares=[cross_site_guard((*WAKE, INBOX_FLUSH))],
    )
    app[CONTROLLER] = controller
    app[VERIFIER] = verifier
    app[INBOX] = inbox
    registry = CollectorRegistry(auto_describe=False)
    if inbox is not None:
        registry.register(HandshakeCollector(controller))
        registry.register(InboxCollector(inbox.mover, scan=lambda: inbox.counted.get().value))
    else:
        usage = RecentCount(controller.count_inbox)
        app[USAGE] = usage
        registry.register(HandshakeCollector(controller, inbox_usage=lambda: usage.get().value))

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        # Collecting may wait for the shared inbox count: off the event loop.
        body = await asyncio.to_thread(encoder, registry)
        return web.Response(body=body, headers={"Content-Type": content_type})

    for path in GOING_OFFLINE:
        app.router.add_post(path, going_offline)
    for path in COMING_ONLINE:
        app.router.add_post(path, coming_online)
    app.router.add_post(SNAPSHOT, snapshot)
    for path in WAKE:
        app.router.add_post(path, wake)
    app.router.add_post(INBOX_FLUSH, flush_inbox)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/handshake/status", handshake_status)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/metrics", metrics)
    return app


def _flushes(flusher: InboxFlusher | None) -> dict:
    """The inbox's flushes for /api/status: running, the last report, the last failure."""
    if flusher is None:
        return {"flush": "not configured ([inbox] in balupi.toml)"}
    tally = flusher.mover.tally
    last = tally.last_report
    return {
        "flush_running": flusher.mover.running,
        "last_flush": None if last is None else last.as_dict(),
        "last_error": tally.last_error,
        "last_error_at": _iso(tally.last_error_at),
        "moved_files_total": tally.moved_files_total,
    }


async def _inbox(app: web.Application) -> tuple[int, int]:
    flusher = app[INBOX]
    if flusher is not None:
        scanned = await flusher.scan()
        return scanned.files, scanned.bytes
    usage = (await app[USAGE].get_async()).value
    return usage or (0, 0)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
