"""Checks every request and answer that passes through the simulated Pi-hole against Pi-hole's
own OpenAPI description (FTL v6.4.1), which lives in the `shared/` folder beside the checkout.

The description is a reference, not part of the project: where it is absent the checks skip.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

SPECS = Path(__file__).resolve().parents[2] / "shared" / "pihole-api" / "specs"
SKIP_REASON = f"Pi-hole's OpenAPI description is not at {SPECS} (shared/ beside the checkout)"
# Answers FTL gives although its description lists no such status for the path.
UNDOCUMENTED = {
    ("PATCH", "/api/config", 403),  # app_sudo off: api.c refuses config writes of app sessions
    ("PUT", "/api/config/{element}/{value}", 403),
    ("DELETE", "/api/config/{element}/{value}", 403),
    ("POST", "/api/teleporter", 403),  # an import with an app password without app_sudo
}
# POST /api/teleporter answers {"files": [...]} in FTL (src/api/teleporter.c) where the
# description says "processed"; its schema forbids no key, so the check passes either way and
# tests/test_pihole_spec.py asserts FTL's key itself.

# FTL documents GET of all lists, groups, clients and domains of one type/kind on the path with
# its optional last part ("`{list}` is optional"), which OpenAPI cannot mark optional; such a
# GET is checked against that path with the part empty.
OPTIONAL_TAIL = {
    "/api/lists": ("/api/lists/{list}", "list"),
    "/api/groups": ("/api/groups/{name}", "name"),
    "/api/clients": ("/api/clients/{client}", "client"),
    "/api/domains/{type}/{kind}": ("/api/domains/{type}/{kind}/{domain}", "domain"),
}
# While FTL restarts, its web server is gone: a proxy in front (Docker's, nginx) answers 502,
# which FTL's description cannot list. The simulator's proxy answer is exactly this.
PROXY_502 = b"502 Bad Gateway\n"


def spec_available() -> bool:
    return (SPECS / "main.yaml").is_file()


needs_spec = pytest.mark.skipif(not spec_available(), reason=SKIP_REASON)


class SpecValidator:
    """An aiohttp middleware for the simulator that records every mismatch with the spec."""

    def __init__(self) -> None:
        from openapi_core import OpenAPI

        self.spec = OpenAPI.from_file_path(str(SPECS / "main.yaml"))
        self.problems: list[str] = []
        self.checked: list[tuple[str, str, int]] = []

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read()  # aiohttp keeps it for the handler
        response = await handler(request)
        if request.path.startswith("/api/"):
            self._check(request, body, response)
        return response

    def _check(self, request: web.Request, body: bytes, response: web.StreamResponse) -> None:
        from openapi_core.testing import MockRequest, MockResponse

        resource = request.match_info.route.resource
        assert resource is not None  # every route of the simulator has one
        pattern = resource.canonical  # e.g. /api/config/{element}
        route = pattern
        raw = getattr(response, "body", None) or b""
        status = response.status
        if not isinstance(response, web.Response):
            # A streamed answer (the gravity action) has left already: its status and content
            # type are checked, its text (a string in the description) stands in as one line.
            raw = b"[i] streamed\n"
        if status == 502 and raw == PROXY_502:
            self.checked.append((request.method, route, status))
            return
        view_args = dict(request.match_info)
        path = request.path
        if request.method == "GET" and pattern in OPTIONAL_TAIL:
            pattern, name = OPTIONAL_TAIL[pattern]
            view_args[name] = ""
            path = path + "/"
        # The spec's server template needs an explicit host and port; FTL's path is /api/...
        mock = MockRequest(
            "http://pi.hole:80",
            request.method.lower(),
            path,
            path_pattern=pattern,
            view_args=view_args,
            args=dict(request.query),
            headers=dict(request.headers),
            data=body or None,
            # The whole header (a multipart body cannot be read without its boundary); no body:
            # no media type.
            content_type=request.headers.get("Content-Type", "") if body else "",
        )
        what = f"{request.method} {request.path_qs}"
        result = self.spec.unmarshal_request(mock)
        if result.errors:
            self.problems.append(f"request {what}: {[_text(e) for e in result.errors]}")
        self.checked.append((request.method, route, status))
        answer = MockResponse(
            bytes(raw), status_code=status, content_type=response.content_type if raw else ""
        )
        try:
            self.spec.validate_response(mock, answer)
        except Exception as err:
            known = (request.method, pattern, status) in UNDOCUMENTED
            if type(err).__name__ == "ResponseNotFound" and known and _ftl_error(raw):
                return
            self.problems.append(f"answer {status} to {what}: {_text(err)}")


def _ftl_error(raw: bytes) -> bool:
    """FTL's error object: {"error": {"key", "message", "hint"}, "took"}."""
    try:
        error = json.loads(raw)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error.get("key"), str) and isinstance(error.get("message"), str)


def _text(err: BaseException) -> str:
    cause = err.__cause__
    return f"{type(err).__name__}: {err}" + (f" ({cause})" if cause else "")
