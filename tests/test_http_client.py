"""The shared HTTP-client layer against a real aiohttp server on loopback: whole answers, the
bound on what it reads, and the three errors every failure becomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from balupi.devstack.ports import free_port
from balupi.handshake.health_probe import HealthProbe
from balupi.http_client import (
    AnswerTooLarge,
    HttpTimeout,
    HttpUnreachable,
    fetch,
    make_session,
)
from balupi.nas.pi_client import NotAcknowledged, call_pi
from balupi.pihole import errors
from balupi.pihole.client import PiholeClient
from balupi.secret import Secret

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STREAM_BYTES = 64 * 1024 * 1024  # far more than any socket buffer holds


class Streamed:
    """A handler that streams STREAM_BYTES without Content-Length and says how far it got."""

    def __init__(self) -> None:
        self.sent = 0
        self.done = asyncio.Event()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            while self.sent < STREAM_BYTES:
                await response.write(chunk)
                self.sent += len(chunk)
        finally:
            self.done.set()
        return response


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        async def route(request: web.Request) -> web.StreamResponse:
            return await handler(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", route)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


class Hanging:
    """A handler that answers only when released: till then only the client's deadline helps."""

    def __init__(self) -> None:
        self.released = asyncio.Event()

    async def __call__(self, _request: web.Request) -> web.Response:
        await self.released.wait()
        return web.Response(text="too late")


async def test_an_answer_comes_whole_with_status_and_charset(serve):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="grüß", charset="latin-1", status=404)

    url = await serve(handler)
    async with make_session(5.0) as session:
        answer = await fetch(session, "GET", url + "/x", limit=100)
    assert (answer.status, answer.ok, answer.charset) == (404, False, "latin-1")
    assert answer.body == "grüß".encode("latin-1") and answer.text() == "grüß"


async def test_an_answer_of_exactly_the_limit_is_read(serve):
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response({"pad": "y" * 100})

    url = await serve(handler)
    async with make_session(5.0) as session:
        size = len((await fetch(session, "GET", url, limit=10_000)).body)
        assert (await fetch(session, "GET", url, limit=size)).json() == {"pad": "y" * 100}
        with pytest.raises(AnswerTooLarge, match=f"larger than {size - 1} bytes"):
            await fetch(session, "GET", url, limit=size - 1)


async def test_a_declared_length_over_the_limit_is_refused_unread(serve):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=b"z" * 1_000_000)

    url = await serve(handler)
    async with make_session(5.0) as session:
        with pytest.raises(AnswerTooLarge, match="larger than 1000 bytes"):
            await fetch(session, "GET", url, limit=1000)


async def test_an_endless_answer_is_cut_off_at_the_limit(serve):
    streamed = Streamed()
    url = await serve(streamed)
    async with make_session(10.0) as session:
        with pytest.raises(AnswerTooLarge):
            await fetch(session, "GET", url, limit=256 * 1024)
    await asyncio.wait_for(streamed.done.wait(), 10)
    # The client hung up: the server could not send the rest, so nobody read it.
    assert streamed.sent < STREAM_BYTES


async def test_a_hanging_server_is_a_timeout_with_the_deadline(serve):
    hanging = Hanging()
    url = await serve(hanging)
    async with make_session(0.2) as session:
        with pytest.raises(HttpTimeout, match=r"no answer within 0\.2 s") as caught:
            await fetch(session, "GET", url, limit=100)
        assert caught.value.seconds == 0.2
        with pytest.raises(HttpTimeout, match=r"within 0\.1 s"):  # a call's own deadline
            await fetch(session, "GET", url, limit=100, timeout=0.1)
    hanging.released.set()  # else the server's clean-up waits for the handlers


async def test_nobody_listening_is_unreachable():
    async with make_session(5.0) as session:
        with pytest.raises(HttpUnreachable, match="ClientConnectorError") as caught:
            await fetch(session, "GET", f"http://127.0.0.1:{free_port()}/", limit=100)
    assert isinstance(caught.value.cause, aiohttp.ClientConnectorError)


# -- each client keeps its own errors -----------------------------------------------------------


async def test_the_clients_refuse_an_endless_answer_in_their_own_words(serve):
    url = await serve(Streamed())
    pihole = PiholeClient(url, Secret("x", "test"))
    with pytest.raises(errors.PiholeProtocolError, match="POST /auth: the answer is larger"):
        await pihole.summary()
    await pihole.close()

    probe = HealthProbe(await serve(Streamed()), timeout=10.0)
    result = await probe.probe()
    await probe.close()
    assert not result.ok and result.error is not None and "larger than" in result.error

    async with make_session(10.0) as session:
        with pytest.raises(NotAcknowledged, match="/api/x: the answer is larger"):
            await call_pi(session, await serve(Streamed()), "s", "/api/x", None, timeout=10.0)


async def test_the_clients_name_a_timeout_in_their_own_words(serve):
    hanging = Hanging()
    url = await serve(hanging)
    probe = HealthProbe(url, timeout=0.1)
    result = await probe.probe()
    await probe.close()
    assert result == type(result)(False, result.seconds, "no answer within 0.1 s")

    async with make_session(10.0) as session:
        with pytest.raises(NotAcknowledged, match=r"/api/x: no answer within 0\.1 s"):
            await call_pi(session, url, "s", "/api/x", None, timeout=0.1)
    hanging.released.set()
