"""Signatures as BaluHost makes them: accepted in both body forms; everything else refused."""

from __future__ import annotations

import json

import pytest

from balupi.handshake.signing import SignatureError, Verifier, canonical_json, sign
from tests.handshake_helpers import SECRET, baluhost_request

PATH = "/api/handshake/nas-going-offline"
BODY = {"version": 1, "system": {"hostname": "nas", "ram_total_gb": 16.0}, "users": {"total": 2}}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def verifier(now: float = 1_800_000_000.0) -> tuple[Verifier, Clock]:
    clock = Clock(now)
    return Verifier(SECRET, window_seconds=60, clock=clock), clock


def test_baluhost_default_separator_body_with_canonical_hash_is_accepted():
    v, clock = verifier()
    headers, wire = baluhost_request(PATH, BODY, ts=clock.now)
    assert b", " in wire and b": " in wire  # what httpx puts on the wire
    v.verify("POST", PATH, headers, wire)


def test_a_signature_of_the_raw_bytes_is_accepted_too():
    v, clock = verifier()
    wire = b'{"version":1,  "z": 2}'
    import hashlib
    import hmac

    ts = str(int(clock.now))
    message = f"POST:{PATH}:{ts}:{hashlib.sha256(wire).hexdigest()}"
    sig = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    v.verify("POST", PATH, {"X-Balupi-Timestamp": ts, "X-Balupi-Signature": sig}, wire)


def test_no_body_hashes_the_empty_string():
    v, clock = verifier()
    headers, wire = baluhost_request("/api/handshake/nas-coming-online", None, ts=clock.now)
    assert wire == b""
    v.verify("POST", "/api/handshake/nas-coming-online", headers, wire)


def test_our_sign_matches_baluhost():
    headers, _ = baluhost_request(PATH, BODY, ts=1_800_000_000)
    assert sign(SECRET, "POST", PATH, BODY, 1_800_000_000) == {
        k: v for k, v in headers.items() if k.startswith("X-Balupi")
    }
    assert canonical_json(BODY) == json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({**h, "X-Balupi-Signature": "0" * 64}, b), "does not match"),
        (lambda h, b: ({"X-Balupi-Timestamp": h["X-Balupi-Timestamp"]}, b), "missing"),
        (lambda h, b: ({"X-Balupi-Signature": h["X-Balupi-Signature"]}, b), "missing"),
        (lambda h, b: ({**h, "X-Balupi-Timestamp": "soon"}, b), "Unix seconds"),
        (lambda h, b: (h, b.replace(b"nas", b"sam")), "does not match"),
    ],
    ids=["wrong", "no-signature", "no-timestamp", "bad-timestamp", "tampered-body"],
)
def test_bad_signatures_are_refused(change, reason):
    v, clock = verifier()
    headers, wire = change(*baluhost_request(PATH, BODY, ts=clock.now))
    with pytest.raises(SignatureError, match=reason):
        v.verify("POST", PATH, headers, wire)


def test_wrong_method_or_path_is_refused():
    v, clock = verifier()
    headers, wire = baluhost_request(PATH, BODY, ts=clock.now)
    with pytest.raises(SignatureError):
        v.verify("PUT", PATH, headers, wire)
    with pytest.raises(SignatureError):
        v.verify("POST", "/api/nas-going-offline", headers, wire)


def test_window_is_plus_minus_sixty_seconds():
    v, clock = verifier()
    for offset, ok in ((-60, True), (60, True), (-61, False), (61, False)):
        headers, wire = baluhost_request(PATH, {**BODY, "n": offset}, ts=clock.now + offset)
        if ok:
            v.verify("POST", PATH, headers, wire)
        else:
            with pytest.raises(SignatureError, match=r"old|future"):
                v.verify("POST", PATH, headers, wire)


def test_replay_inside_the_window_is_refused_and_forgotten_after_it():
    v, clock = verifier()
    headers, wire = baluhost_request(PATH, BODY, ts=clock.now)
    v.verify("POST", PATH, headers, wire)
    with pytest.raises(SignatureError, match="replayed"):
        v.verify("POST", PATH, headers, wire)
    clock.now += 61  # the old request is now refused as stale anyway
    with pytest.raises(SignatureError, match="old"):
        v.verify("POST", PATH, headers, wire)
    fresh, wire = baluhost_request(PATH, BODY, ts=clock.now)
    v.verify("POST", PATH, fresh, wire)
    assert len(v._seen) == 1  # the expired signature was dropped


def test_the_secret_never_shows():
    v, _ = verifier()
    assert SECRET not in repr(v)
