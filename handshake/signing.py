"""HMAC signatures of NAS calls, exactly as BaluHost makes them, and the replay defence.

BaluHost signs ``"{METHOD}:{path}:{ts}:{sha256hex(body)}"`` with HMAC-SHA256, but hashes the body
as ``json.dumps(body, sort_keys=True, separators=(",", ":"))`` while it sends the body with
httpx's own serialisation. So a signature is accepted when it matches the raw bytes or the
canonical form of the JSON they carry.

Replays (docs/robustness.md, "Replays and the Pi's clock"): the NAS's timestamps only ever
increase, so a request is accepted only if its timestamp is at least the highest one accepted
before and its signature was not used yet; that record is persisted. This needs no right clock
on the Pi, which boots with a stale one until NTP syncs. Only while the Pi's clock is known to be
synchronised is the timestamp also held to ±window of it: that bounds how long a request that
was captured and withheld from the Pi stays usable.

Order of the checks: the cheap ones first (headers, their format, time, replay), then the HMAC of
the raw body, and only when that fails and the body is JSON, the HMAC of its canonical form; a
refused request costs no JSON parsing unless its headers were well-formed and current.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from balupi.handshake.replay_record import ReplayRecord

log = logging.getLogger("balupi.handshake")

TIMESTAMP_HEADER = "X-Balupi-Timestamp"
SIGNATURE_HEADER = "X-Balupi-Signature"
_HEX64 = re.compile(r"[0-9a-f]{64}")


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


def canonical_hash(body: bytes) -> str | None:
    """The hash of the canonical form of the JSON in ``body``; None when it is not JSON or is
    canonical already (then the raw hash was the one to try)."""
    if not body:
        return None
    try:
        canonical = canonical_json(json.loads(body))
    except (ValueError, RecursionError):
        return None  # not JSON: only the raw bytes can match
    return None if canonical == body else body_hash(canonical)


@dataclass(frozen=True)
class Accepted:
    """A request whose signature is good; ``Verifier.consume`` uses it up once carried out."""

    timestamp: int
    signature: str


def _always_synchronised() -> bool:
    return True


@dataclass
class Verifier:
    """Checks signatures, the time window and replays; ``clock`` gives Unix seconds.

    ``clock_synchronised`` tells whether ``clock`` can be trusted (NTP synced): only then are
    timestamps held to ±``window_seconds``. ``record`` keeps what was used up across restarts.
    """

    secret: str
    window_seconds: float = 60.0
    clock: Callable[[], float] = time.time
    clock_synchronised: Callable[[], bool] = _always_synchronised
    record: ReplayRecord = field(default_factory=ReplayRecord)

    def __repr__(self) -> str:
        return f"Verifier(window_seconds={self.window_seconds})"

    @property
    def _seen(self) -> dict[str, int]:
        return self.record.seen

    def precheck(self, headers: Mapping[str, str]) -> tuple[int, str]:
        """The checks that need no body: presence, format, time, replay. (timestamp, signature)."""
        timestamp = headers.get(TIMESTAMP_HEADER)
        given = headers.get(SIGNATURE_HEADER)
        if not timestamp or not given:
            raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds")
        given = given.strip().lower()
        if not _HEX64.fullmatch(given):
            raise SignatureError(f"{SIGNATURE_HEADER} must be 64 hex digits (HMAC-SHA256)")
        ts = int(timestamp)
        if self.clock_synchronised():
            now = self.clock()
            self.record.forget_before(now - self.window_seconds, now + self.window_seconds)
            skew = ts - now
            if skew < -self.window_seconds:
                raise SignatureError(
                    f"timestamp is {-skew:.0f} s old (limit {self.window_seconds:.0f} s)"
                )
            if skew > self.window_seconds:
                raise SignatureError(
                    f"timestamp is {skew:.0f} s in the future (limit {self.window_seconds:.0f} s)"
                )
        if ts < self.record.last_timestamp:
            raise SignatureError(
                f"timestamp {ts} is older than the last accepted one ({self.record.last_timestamp})"
            )
        if given in self.record.seen:
            raise SignatureError("replayed request: this signature was already used")
        return ts, given

    def check(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Accepted:
        """An Accepted for a good request, SignatureError otherwise; uses nothing up."""
        ts, given = self.precheck(headers)
        timestamp = headers[TIMESTAMP_HEADER]  # as signed: leading zeros and all
        raw = signature(self.secret, method, path, timestamp, body_hash(body))
        if hmac.compare_digest(given, raw):
            return Accepted(ts, given)
        digest = canonical_hash(body)
        if digest is not None:
            expected = signature(self.secret, method, path, timestamp, digest)
            if hmac.compare_digest(given, expected):
                return Accepted(ts, given)
        raise SignatureError("signature does not match (wrong secret, path or body)")

    def consume(self, accepted: Accepted) -> None:
        """Use the signature up: the request was carried out. Refused if it already was."""
        if accepted.signature in self.record.seen:
            raise SignatureError("replayed request: this signature was already used")
        self.record.accept(accepted.timestamp, accepted.signature)

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> None:
        """Check and use up at once (for a request that cannot fail after its signature)."""
        self.consume(self.check(method, path, headers, body))
