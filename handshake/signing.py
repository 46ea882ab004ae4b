"""HMAC signatures of NAS calls, exactly as BaluHost makes them.

BaluHost signs ``"{METHOD}:{path}:{ts}:{sha256hex(body)}"`` with HMAC-SHA256, but hashes the body
as ``json.dumps(body, sort_keys=True, separators=(",", ":"))`` while it sends the body with
httpx's own serialisation. So a signature is accepted when it matches the raw bytes or the
canonical form of the JSON they carry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

TIMESTAMP_HEADER = "X-Balupi-Timestamp"
SIGNATURE_HEADER = "X-Balupi-Signature"


class SignatureError(Exception):
    """Why a request's signature was refused: safe to send back and to log."""


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signature(secret: str, method: str, path: str, timestamp: str, digest: str) -> str:
    message = f"{method.upper()}:{path}:{timestamp}:{digest}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, method: str, path: str, body: object | None, now: float) -> dict[str, str]:
    """The headers BaluHost sends for ``body`` (a JSON value, or None for no body)."""
    timestamp = str(int(now))
    data = b"" if body is None else canonical_json(body)
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, method, path, timestamp, body_hash(data)),
    }


def _candidate_hashes(body: bytes) -> list[str]:
    hashes = [body_hash(body)]
    if body:
        try:
            canonical = canonical_json(json.loads(body))
        except (ValueError, RecursionError):
            return hashes  # not JSON: only the raw bytes can match
        if canonical != body:
            hashes.append(body_hash(canonical))
    return hashes


@dataclass
class Verifier:
    """Checks signatures, the time window and replays; ``clock`` gives Unix seconds."""

    secret: str
    window_seconds: float = 60.0
    clock: Callable[[], float] = time.time
    max_remembered: int = 10_000

    def __post_init__(self) -> None:
        # signature -> the time it stops being acceptable anyway
        self._seen: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"Verifier(window_seconds={self.window_seconds})"

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get(TIMESTAMP_HEADER)
        given = headers.get(SIGNATURE_HEADER)
        if not timestamp or not given:
            raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds")
        now = self.clock()
        skew = int(timestamp) - now
        if skew < -self.window_seconds:
            raise SignatureError(
                f"timestamp is {-skew:.0f} s old (limit {self.window_seconds:.0f} s)"
            )
        if skew > self.window_seconds:
            raise SignatureError(
                f"timestamp is {skew:.0f} s in the future (limit {self.window_seconds:.0f} s)"
            )
        given = given.strip().lower()
        expected = [
            signature(self.secret, method, path, timestamp, digest)
            for digest in _candidate_hashes(body)
        ]
        # Compare with every candidate so the time taken does not tell which one nearly matched.
        matches = [hmac.compare_digest(given, e) for e in expected]
        if not any(matches):
            raise SignatureError("signature does not match (wrong secret, path or body)")
        self._forget_expired(now)
        if given in self._seen:
            raise SignatureError("replayed request: this signature was already used")
        if len(self._seen) >= self.max_remembered:
            raise SignatureError("too many signed requests in the window; try again shortly")
        self._seen[given] = int(timestamp) + self.window_seconds

    def _forget_expired(self, now: float) -> None:
        expired = [s for s, until in self._seen.items() if until < now]
        for s in expired:
            del self._seen[s]
