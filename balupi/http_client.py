"""The one way BaluPi's HTTP clients (Pi-hole, the NAS's health, the NAS's signed calls) talk.

A session with a default deadline, one request whose deadline covers connecting, the headers
and the body, a bounded read of the answer (a server that sends too much is refused before it
fills the Pi's memory), and the many ways aiohttp, the OS and the clock fail turned into three
errors. Each client turns those into its own errors, with its own advice.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

USER_AGENT = "balupi"
_CHUNK = 64 * 1024


class HttpError(Exception):
    """A request that got no usable answer."""


class HttpTimeout(HttpError):
    def __init__(self, seconds: float | None) -> None:
        super().__init__(
            "no answer in time" if seconds is None else f"no answer within {seconds:g} s"
        )
        self.seconds = seconds


class HttpUnreachable(HttpError):
    """Connecting or talking failed (refused, reset, DNS, TLS, a broken answer)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


class AnswerTooLarge(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes: refused unread")
        self.limit = limit


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    charset: str  # as the server declared it; UTF-8 when it did not

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode(self.charset, errors="replace")

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not (undecodable bytes included)."""
        return json.loads(self.body)


def make_session(timeout: float, *, connections: int = 100) -> aiohttp.ClientSession:
    """A session whose requests give up after ``timeout`` seconds unless a call says otherwise.

    Keep it for the client's life: its keep-alive connections are what makes a heartbeat cheap.
    Call it inside a running event loop, as aiohttp wants.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        connector=aiohttp.TCPConnector(limit=connections),
        headers={"User-Agent": USER_AGENT},
        raise_for_status=False,
    )


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    limit: int,
    timeout: float | None = None,
    **request: Any,
) -> Answer:
    """One request and its whole answer (at most ``limit`` bytes), any status.

    ``timeout`` (default: the session's) bounds the whole exchange, body included. Raises
    HttpTimeout, HttpUnreachable or AnswerTooLarge; never an aiohttp or OS error.
    """
    seconds = session.timeout.total if timeout is None else timeout
    # One deadline, ours: aiohttp's own timer off for this request, so the session's cannot cut
    # a longer one short, and two timers never cancel the task at once (aiohttp 3.8, Debian
    # bookworm's, cancels without uncancel(), which leaves asyncio.timeout in the same task
    # raising CancelledError from then on: the heartbeat stopped after its first timeout).
    request["timeout"] = aiohttp.ClientTimeout(total=None)
    try:
        async with asyncio.timeout(seconds):
            async with session.request(method, url, **request) as response:
                body = await read_bounded(response, limit)
                return Answer(response.status, body, response.charset or "utf-8")
    except TimeoutError:  # before OSError: aiohttp's own timeouts are both
        raise HttpTimeout(seconds) from None
    except (aiohttp.ClientError, OSError) as err:
        raise HttpUnreachable(err) from None


async def read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, read in chunks; AnswerTooLarge as soon as it passes ``limit`` bytes.

    The limit counts the bytes after decompression, so a small gzip bomb is refused too.
    """
    declared = response.content_length
    # A compressed answer's length says little about what it unpacks to: counted below.
    encoded = response.headers.get("Content-Encoding")
    if declared is not None and declared > limit and not encoded:
        raise AnswerTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
