"""The memory floor: a bare process with the exporter's libraries and one trivial route.

Whatever balupi-exporter holds above this is the cost of our own code and state.
"""

from __future__ import annotations

import sys

import kasa  # noqa: F401 - loaded for its memory, as the exporter does
import prometheus_client  # noqa: F401
from aiohttp import web


async def ok(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def main() -> None:
    app = web.Application()
    app.router.add_get("/", ok)
    app.router.add_get("/metrics", ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
