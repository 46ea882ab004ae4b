"""Signed calls from the NAS to the Pi, byte for byte as BaluHost makes them.

BaluHost signs the canonical JSON (sorted keys, no spaces) but sends the body as
``json.dumps`` with default separators; we do the same, so the Pi is tested against the real
thing whenever this code talks to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from balupi.handshake.signing import sign
from balupi.http_client import HttpError, HttpTimeout, fetch, make_session

log = logging.getLogger("balupi.nas")

GOING_OFFLINE = "/api/handshake/nas-going-offline"
COMING_ONLINE = "/api/handshake/nas-coming-online"
# The Pi's answers to the NAS are a few hundred bytes.
MAX_ANSWER_BYTES = 64 * 1024


class NotAcknowledged(Exception):
    pass


async def call_pi(
    session: aiohttp.ClientSession,
    pi_url: str,
    secret: str,
    path: str,
    body: dict | None,
    *,
    timeout: float,
) -> dict[str, Any]:
    """POST one signed call; the Pi's JSON answer if it acknowledged, NotAcknowledged otherwise."""
    headers = sign(secret, "POST", path, body, time.time())
    data = None
    if body is not None:
        data = json.dumps(body).encode()  # default separators: BaluHost's quirk
        headers["Content-Type"] = "application/json"
    url = pi_url.rstrip("/") + path
    try:
        reply = await fetch(
            session, "POST", url, limit=MAX_ANSWER_BYTES, timeout=timeout, data=data,
            headers=headers,
        )  # fmt: skip
    except HttpTimeout:
        raise NotAcknowledged(f"{path}: no answer within {timeout} s") from None
    except HttpError as err:
        raise NotAcknowledged(f"{path}: {err}") from None
    if reply.status != 200:
        raise NotAcknowledged(f"{path}: HTTP {reply.status}: {reply.text()[:300]}")
    try:
        answer = reply.json()
    except ValueError:
        raise NotAcknowledged(f"{path}: the answer is not JSON") from None
    if not isinstance(answer, dict) or answer.get("acknowledged") is not True:
        raise NotAcknowledged(f"{path}: not acknowledged: {answer!r:.300}")
    return answer


async def call_until_acknowledged(
    pi_url: str,
    secret: str,
    path: str,
    body: dict | None,
    *,
    total_seconds: float,
    attempt_seconds: float = 10.0,
) -> dict[str, Any]:
    """Retry with back-off until the Pi acknowledges or ``total_seconds`` have passed.

    Every attempt is signed afresh: the Pi refuses a replayed signature.
    """
    deadline = time.monotonic() + total_seconds
    delay, attempt = 0.25, 0
    async with make_session(attempt_seconds) as session:
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            try:
                return await call_pi(
                    session,
                    pi_url,
                    secret,
                    path,
                    body,
                    timeout=max(0.1, min(attempt_seconds, left)),
                )
            except NotAcknowledged as err:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NotAcknowledged(f"{err} (gave up after {attempt} attempts)") from None
                log.warning("attempt %d: %s; retrying in %.1f s", attempt, err, min(delay, left))
                await asyncio.sleep(min(delay, left))  # back-off between attempts, not a sync
                delay = min(delay * 2, 5.0)
