"""The state machine's table: every pair of state and event, and the DNS target of each state."""

from __future__ import annotations

from balupi.handshake.states import TRANSITIONS, Event, NasState, next_state

S, E = NasState, Event
# Every allowed transition; any pair not listed changes nothing.
EXPECTED = {
    (S.ONLINE, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.WAKING, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.UNREACHABLE, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.OFFLINE, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.SHUTTING_DOWN, E.COMING_ONLINE): S.ONLINE,
    (S.OFFLINE, E.COMING_ONLINE): S.ONLINE,
    (S.WAKING, E.COMING_ONLINE): S.ONLINE,
    (S.UNREACHABLE, E.COMING_ONLINE): S.ONLINE,
    (S.OFFLINE, E.WAKE_SENT): S.WAKING,
    (S.UNREACHABLE, E.WAKE_SENT): S.WAKING,
    (S.SHUTTING_DOWN, E.WAKE_SENT): S.WAKING,
    (S.WAKING, E.WAKE_TIMED_OUT): S.OFFLINE,
    (S.SHUTTING_DOWN, E.WENT_DOWN): S.OFFLINE,
    (S.ONLINE, E.HEARTBEAT_LOST): S.UNREACHABLE,
    (S.UNREACHABLE, E.RECOVERED): S.ONLINE,
    (S.OFFLINE, E.HEALTHY_WITHOUT_ANNOUNCE): S.ONLINE,
    (S.WAKING, E.HEALTHY_WITHOUT_ANNOUNCE): S.ONLINE,
    (S.SHUTTING_DOWN, E.HEALTHY_WITHOUT_ANNOUNCE): S.ONLINE,
}


def test_every_pair():
    for state in NasState:
        for event in Event:
            assert next_state(state, event) == EXPECTED.get((state, event)), (state, event)
    assert TRANSITIONS == EXPECTED


def test_every_state_is_reachable_and_can_be_left():
    targets = set(EXPECTED.values())
    sources = {state for state, _ in EXPECTED}
    assert targets == set(NasState) and sources == set(NasState)


def test_an_announced_or_sleeping_nas_is_never_an_outage():
    for state in (S.SHUTTING_DOWN, S.OFFLINE, S.WAKING, S.UNREACHABLE):
        assert next_state(state, E.HEARTBEAT_LOST) is None
