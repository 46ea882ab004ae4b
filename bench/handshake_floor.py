"""The memory floor of balupi-handshake: a bare process with its libraries and a trivial route.

Whatever balupi-handshake holds above this is the cost of our own code and state.
"""

from __future__ import annotations

import sys

import prometheus_client  # noqa: F401 - loaded for its memory, as the service does
import wakeonlan  # noqa: F401
from aiohttp import web


async def ok(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    app = web.Application()
    app.router.add_get("/api/health", ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
