"""Refuses cross-site browser requests to the buttons that change something without a signature.

The dashboard's wake and inbox buttons have no login (the dashboard is view-only and open on the
LAN), so a page on another site must not be able to press them: a form it submits or a fetch it
makes carries its own Origin, a ``Sec-Fetch-Site`` other than ``same-origin``, and cannot add a
custom header without a CORS preflight (which this service never answers). The dashboard sends
``X-Requested-With: balupi-dashboard``; a tool such as curl can send the same header.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiohttp import web

if TYPE_CHECKING:  # aiohttp 3.8 (Debian bookworm's) has no such name at run time
    from aiohttp.typedefs import Middleware

log = logging.getLogger("balupi.handshake.cross_site")

HEADER = "X-Requested-With"
VALUE = "balupi-dashboard"
DASHBOARD_HEADERS = {HEADER: VALUE}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cross_site_guard(paths: Iterable[str]) -> Middleware:
    """A middleware that lets a POST to one of ``paths`` through only from the dashboard."""
    guarded = frozenset(paths)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        reason = refusal(request) if request.method == "POST" and request.path in guarded else None
        if reason:
            log.warning("refused %s %s from %s: %s", request.method, request.path,
                        request.remote, reason)  # fmt: skip
            raise web.HTTPForbidden(text=json.dumps({"error": reason}),
                                    content_type="application/json")  # fmt: skip
        return await handler(request)

    return guard


def refusal(request: web.Request) -> str | None:
    """Why this request may not press the button, or None when it may."""
    headers = request.headers
    site = headers.get("Sec-Fetch-Site")
    origin = headers.get("Origin")
    if site is not None and site not in ("same-origin", "none"):
        return f"refused: a request from another site (Sec-Fetch-Site: {site})"
    if origin is not None and not _same_origin(origin, headers.get("Host")):
        return f"refused: a request from another site (Origin: {origin})"
    if headers.get(HEADER) == VALUE or site == "same-origin" or origin is not None:
        return None
    return (
        f"refused: send the header '{HEADER}: {VALUE}' (the dashboard does), so that no page "
        "of another site can press this button"
    )


def _same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` names the host the request was sent to (nginx passes it on)."""
    if host is None or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()
