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
}


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
        # The spec's server template needs an explicit host and port; FTL's path is /api/...
        mock = MockRequest(
            "http://pi.hole:80",
            request.method.lower(),
            request.path,
            path_pattern=pattern,
            view_args=dict(request.match_info),
            args=dict(request.query),
            headers=dict(request.headers),
            data=body or None,
            content_type=request.content_type if body else "",  # no body: no media type
        )
        what = f"{request.method} {request.path_qs}"
        result = self.spec.unmarshal_request(mock)
        if result.errors:
            self.problems.append(f"request {what}: {[_text(e) for e in result.errors]}")
        status = response.status
        self.checked.append((request.method, pattern, status))
        raw = getattr(response, "body", None) or b""
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
