"""Bounded connections for our aiohttp servers: whatever clients on the LAN do, the process keeps
file descriptors for its own work (the heartbeat's socket, the state file, Pi-hole's API).

aiohttp accepts every connection and waits for a request's headers without a time limit, so a
thousand idle or slowly-sending clients hold a thousand descriptors. The guard is the protocol
factory of the listening socket instead of aiohttp's own:

* at most ``max_connections`` are open; one more pushes out the oldest that has not sent a whole
  request head yet, or is refused (closed at once) when every open one is busy;
* a connection that has not sent a whole request head within ``header_timeout`` is closed;
* idle keep-alive connections end after the runner's ``keepalive_timeout``.

It reads two attributes of aiohttp's RequestHandler (the count of request heads parsed and
its request task); aiohttp is pinned, and the test of the guard fails loudly
if they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from balupi.repeat_log import RepeatLog

log = logging.getLogger("balupi.connections")

HEADER_TIMEOUT = 10.0  # seconds to send a request head; a browser needs milliseconds
KEEPALIVE_TIMEOUT = 30.0  # aiohttp's default is an hour
RESERVED_FDS = 64  # kept for the process's own sockets and files
# asyncio accepts up to ``backlog`` connections in one turn of the loop before any is closed,
# and a closed one frees its descriptor a turn later: a small batch keeps that burst small. It
# also bounds how many newer connections can push a new one out before its request head is
# read (two turns after its accept: at most 2 * BACKLOG, fewer than the connections ahead of it).
BACKLOG = 16


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (systemd's default soft limit is 1024);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_limit(open_files: int, ceiling: int = 512) -> int:
    """Connections allowed with ``open_files`` descriptors: the reserve and two accept bursts
    stay free, and half of the rest as a margin; at most ``ceiling``."""
    return max(8, min(ceiling, (open_files - RESERVED_FDS - 2 * BACKLOG) // 2))


class _Refused(asyncio.Protocol):
    """Stands in for a connection the guard will not serve: closed as soon as it is made."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]


def _has_sent_a_request(handler: RequestHandler) -> bool:
    return bool(getattr(handler, "_request_count", 1))


class ConnectionGuard:
    def __init__(
        self,
        max_connections: int,
        header_timeout: float = HEADER_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.clock = clock
        self._server: web.Server | None = None
        self._open: dict[RequestHandler, float] = {}  # handler -> accepted at
        self._sweeper: asyncio.TimerHandle | None = None
        self.pushed_out = 0  # closed to make room or for a slow head
        self.refused = 0
        self._log = RepeatLog(log)

    def attach(self, server: web.Server) -> None:
        self._server = server
        self._schedule_sweep()

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()

    @property
    def open_connections(self) -> int:
        self._forget_closed()
        return len(self._open)

    def __call__(self) -> asyncio.BaseProtocol:
        assert self._server is not None, "attach() the aiohttp server first"
        self._forget_closed()
        if len(self._open) >= self.max_connections and not self._push_out_one():
            self.refused += 1
            self._log.warning(
                f"{len(self._open)} connections open (the limit): refusing new ones",
                kind="connections refused",
            )
            return _Refused()
        handler = self._server()
        self._open[handler] = self.clock()
        return handler

    def _forget_closed(self) -> None:
        # transport is None before connection_made too (the same loop turn): only forget those
        # that had their chance to be made.
        made_by = self.clock() - 1.0
        for handler, accepted in list(self._open.items()):
            if handler.transport is None and (accepted < made_by or _started(handler)):
                del self._open[handler]

    def _push_out_one(self) -> bool:
        """Close the oldest connection that has not sent a whole request head yet."""
        for handler in self._open:  # oldest first: dicts keep insertion order
            if not _has_sent_a_request(handler) and handler.transport is not None:
                self._abort(handler, "to make room for a new one")
                return True
        return False

    def _sweep(self) -> None:
        limit = self.clock() - self.header_timeout
        for handler, accepted in list(self._open.items()):
            if accepted > limit:
                break  # the rest are younger
            if not _has_sent_a_request(handler) and handler.transport is not None:
                self._abort(handler, f"no request head within {self.header_timeout:g} s")
        self._forget_closed()
        self._schedule_sweep()

    def _abort(self, handler: RequestHandler, why: str) -> None:
        self.pushed_out += 1
        self._log.warning(f"closing a connection: {why}", kind=why)
        transport = handler.transport
        self._open.pop(handler, None)
        if transport is not None:
            transport.abort()

    def _schedule_sweep(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(max(0.5, self.header_timeout / 4), self._sweep)


def _started(handler: RequestHandler) -> bool:
    return getattr(handler, "_task_handler", None) is not None


class GuardedSite(web.TCPSite):
    """web.TCPSite with a ConnectionGuard in front of the runner's server."""

    __slots__ = ("guard",)

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner, host, port, backlog=BACKLOG)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        server = self._runner.server
        assert server is not None
        self.guard.attach(server)
        self._server = await asyncio.get_running_loop().create_server(
            self.guard, self._host, self._port, backlog=self._backlog,
            reuse_address=self._reuse_address, reuse_port=self._reuse_port,
        )  # fmt: skip

    async def stop(self) -> None:
        self.guard.close()
        await super().stop()
