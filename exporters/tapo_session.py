"""The HTTP session python-kasa talks to a plug through, with a bound on each answer.

python-kasa's HttpClient reads a whole answer into memory (``resp.read()``), however large: a
broken or hostile device on the LAN could take the Pi's memory. It takes a session from
DeviceConfig.http_client, so ours makes its responses read at most MAX_ANSWER_BYTES, and
refuses the rest (python-kasa reports it as a failed query).
"""

from __future__ import annotations

import aiohttp

from balupi.http_client import read_bounded

# A P110's answers are a few KB (the KLAP handshakes less); this leaves plenty of room.
MAX_ANSWER_BYTES = 256 * 1024


class BoundedResponse(aiohttp.ClientResponse):
    async def read(self) -> bytes:
        if self._body is None:
            # AnswerTooLarge as soon as the limit is passed: nothing more is read.
            self._body = await read_bounded(self, MAX_ANSWER_BYTES)
        return await super().read()  # with the body in hand: only the connection's release


def plug_session() -> aiohttp.ClientSession:
    """A session like python-kasa's own (a cookie jar that keeps cookies of bare IP hosts:
    KLAP's session cookie) whose answers are bounded. Make it in the running loop."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True, quote_cookie=False),
        response_class=BoundedResponse,
    )
