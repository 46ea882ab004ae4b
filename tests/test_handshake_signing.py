"""Signatures as BaluHost makes them: accepted in both body forms; everything else refused."""

from __future__ import annotations

import json

import pytest

from balupi.handshake.replay_record import ReplayRecord
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


# -- a Pi without a real-time clock (docs/robustness.md, "Replays and the Pi's clock") ----------


def unsynced(now: float, record: ReplayRecord | None = None) -> tuple[Verifier, Clock]:
    clock = Clock(now)
    v = Verifier(SECRET, window_seconds=60, clock=clock, clock_synchronised=lambda: False,
                 record=record or ReplayRecord())  # fmt: skip
    return v, clock


def test_an_unsynchronised_pi_clock_hours_behind_still_accepts_the_nas():
    nas_now = 1_800_000_000
    v, _ = unsynced(nas_now - 5 * 3600)  # fake-hwclock: the time of the last shutdown
    headers, wire = baluhost_request(PATH, BODY, ts=nas_now)
    v.verify("POST", PATH, headers, wire)
    with pytest.raises(SignatureError, match="replayed"):
        v.verify("POST", PATH, headers, wire)


def test_timestamps_must_not_go_back_without_a_clock():
    v, _ = unsynced(0)
    late, wire = baluhost_request(PATH, BODY, ts=1_800_000_100)
    v.verify("POST", PATH, late, wire)
    other, wire2 = baluhost_request(PATH, {**BODY, "n": 1}, ts=1_800_000_100)
    v.verify("POST", PATH, other, wire2)  # the same second, another request: fine
    early, wire3 = baluhost_request(PATH, {**BODY, "n": 2}, ts=1_800_000_099)
    with pytest.raises(SignatureError, match="older than the last accepted"):
        v.verify("POST", PATH, early, wire3)  # e.g. a captured going-offline, held back


def test_what_was_used_up_survives_a_restart(tmp_path):
    from balupi.handshake.replay_record import ReplayRecord

    path = tmp_path / "signatures.json"
    v, _ = unsynced(0, ReplayRecord(path))
    headers, wire = baluhost_request(PATH, BODY, ts=1_800_000_000)
    v.verify("POST", PATH, headers, wire)
    older, wire_older = baluhost_request(PATH, {"version": 1}, ts=1_799_999_000)
    restarted, _ = unsynced(0, ReplayRecord(path))
    with pytest.raises(SignatureError, match="replayed"):
        restarted.verify("POST", PATH, headers, wire)
    with pytest.raises(SignatureError, match="older"):
        restarted.verify("POST", PATH, older, wire_older)


def test_a_bad_replay_record_is_reported_and_ignored(tmp_path, caplog):
    from balupi.handshake.replay_record import ReplayRecord

    for content in ('{"last_timestamp": "x", "seen": {}}', "[]", "{", '{"last_timestamp": 1}'):
        path = tmp_path / "signatures.json"
        path.write_text(content)
        record = ReplayRecord(path)
        assert record.last_timestamp == 0 and record.seen == {}
    assert caplog.text.count("ignoring unreadable replay record") == 4


def test_once_synchronised_a_nas_clock_that_ran_ahead_no_longer_blocks():
    from balupi.handshake.replay_record import ReplayRecord

    record = ReplayRecord()
    synced = {"now": False}
    clock = Clock(1_700_000_000)  # stale
    v = Verifier(SECRET, window_seconds=60, clock=clock,
                 clock_synchronised=lambda: synced["now"], record=record)  # fmt: skip
    ahead, wire = baluhost_request(PATH, BODY, ts=1_800_003_600)  # the NAS's clock: 1 h ahead
    v.verify("POST", PATH, ahead, wire)
    clock.now, synced["now"] = 1_800_000_000, True  # NTP stepped the Pi's clock
    current, wire2 = baluhost_request(PATH, {**BODY, "n": 1}, ts=clock.now)
    v.verify("POST", PATH, current, wire2)
    with pytest.raises(SignatureError, match="future"):
        v.verify("POST", PATH, ahead, wire)  # the window holds again


def test_a_signature_is_used_up_only_when_consumed():
    v, clock = verifier()
    headers, wire = baluhost_request(PATH, BODY, ts=clock.now)
    accepted = v.check("POST", PATH, headers, wire)
    assert v.check("POST", PATH, headers, wire) == accepted  # not carried out yet: retry ok
    v.consume(accepted)
    with pytest.raises(SignatureError, match="replayed"):
        v.check("POST", PATH, headers, wire)
    with pytest.raises(SignatureError, match="replayed"):
        v.consume(accepted)


# -- cheap checks first ------------------------------------------------------------------------


class CountingLoads:
    def __init__(self) -> None:
        self.calls = 0
        self.loads = json.loads

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.loads(*args, **kwargs)


@pytest.fixture
def counted_parsing(monkeypatch):
    counter = CountingLoads()
    # signing.py's json is this json module: its loads is what the verifier calls.
    monkeypatch.setattr(json, "loads", counter)
    return counter


BIG = json.dumps({"version": 1, "pad": ["x" * 100] * 10_000}).encode()  # ~1 MiB, valid JSON


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Balupi-Timestamp": "1800000000"},
        {"X-Balupi-Timestamp": "1800000000", "X-Balupi-Signature": "not-hex"},
        {"X-Balupi-Timestamp": "1700000000", "X-Balupi-Signature": "0" * 64},  # stale
    ],
    ids=["unsigned", "no-signature", "malformed-signature", "stale"],
)
def test_a_refusal_by_headers_parses_no_json(counted_parsing, headers):
    v, _ = verifier()
    with pytest.raises(SignatureError):
        v.check("POST", PATH, headers, BIG)
    assert counted_parsing.calls == 0


def test_the_raw_hash_is_tried_before_parsing(counted_parsing):
    v, clock = verifier()
    import hashlib
    import hmac

    ts = str(int(clock.now))
    message = f"POST:{PATH}:{ts}:{hashlib.sha256(BIG).hexdigest()}"
    sig = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    v.check("POST", PATH, {"X-Balupi-Timestamp": ts, "X-Balupi-Signature": sig}, BIG)
    assert counted_parsing.calls == 0  # the raw bytes matched: never parsed
    headers, wire = baluhost_request(PATH, BODY, ts=clock.now)
    v.check("POST", PATH, headers, wire)
    assert counted_parsing.calls == 1  # BaluHost's canonical hash: parsed once, after the raw
