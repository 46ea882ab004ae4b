"""Typed aiohttp keys on every aiohttp BaluPi runs with. Debian bookworm's python3-aiohttp is
3.8, which has no ``web.AppKey`` (3.9) or ``web.RequestKey`` (3.11); there the key is its plain
name, which every aiohttp version accepts (the newer ones only warn about plain names)."""

from __future__ import annotations

from typing import TypeVar, cast

import aiohttp
from aiohttp import web

_T = TypeVar("_T")


def app_key(name: str, t: type[_T] | None = None) -> web.AppKey[_T]:
    if hasattr(web, "AppKey"):
        return web.AppKey(name, t)
    return cast("web.AppKey[_T]", name)


def request_key(name: str, t: type[_T] | None = None) -> web.RequestKey[_T]:
    if hasattr(web, "RequestKey"):
        return web.RequestKey(name, t)
    return cast("web.RequestKey[_T]", name)


# aiohttp 3.9 moved the graceful-shutdown timeout from the site to the runner; 3.8 passes
# unknown runner arguments on to each connection's handler, which then fails.
_VERSION = tuple(int(part) for part in aiohttp.__version__.split(".")[:2])
SHUTDOWN_TIMEOUT_ON_RUNNER = _VERSION >= (3, 9)
