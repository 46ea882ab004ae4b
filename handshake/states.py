"""The NAS's states and every allowed transition, in one table.

``online``         the NAS is up; baluhost.local points at it
``shutting_down``  it announced its shutdown; DNS already points at the Pi
``offline``        announced and gone (sleeping); DNS at the Pi
``waking``         a magic packet went out; we poll its health fast
``unreachable``    it vanished without announcing: the heartbeat took over (DNS at the Pi)

Only ``online`` sends baluhost.local to the NAS: every other state serves the Pi.
"""

from __future__ import annotations

from enum import StrEnum


class NasState(StrEnum):
    ONLINE = "online"
    SHUTTING_DOWN = "shutting_down"
    OFFLINE = "offline"
    WAKING = "waking"
    UNREACHABLE = "unreachable"


class Event(StrEnum):
    GOING_OFFLINE = "going_offline"  # signed announcement from the NAS
    COMING_ONLINE = "coming_online"  # signed announcement from the NAS
    WAKE_SENT = "wake_sent"  # a magic packet went out
    WAKE_TIMED_OUT = "wake_timed_out"  # no health answer within the wake timeout
    WENT_DOWN = "went_down"  # an announced NAS stopped answering, as it should
    HEARTBEAT_LOST = "heartbeat_lost"  # consecutive misses while it should be up
    RECOVERED = "recovered"  # consecutive answers after a takeover
    HEALTHY_WITHOUT_ANNOUNCE = "healthy_without_announce"  # healthy for the grace time


S, E = NasState, Event
TRANSITIONS: dict[tuple[NasState, Event], NasState] = {
    (S.ONLINE, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.WAKING, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.UNREACHABLE, E.GOING_OFFLINE): S.SHUTTING_DOWN,
    (S.OFFLINE, E.GOING_OFFLINE): S.SHUTTING_DOWN,  # it was up after all
    (S.SHUTTING_DOWN, E.COMING_ONLINE): S.ONLINE,  # a reboot
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
    (S.SHUTTING_DOWN, E.HEALTHY_WITHOUT_ANNOUNCE): S.ONLINE,  # the shutdown was called off
}


# Where a NAS that stays healthy without announcing itself gets DNS back after the grace time:
# read from the table, so the two cannot disagree.
GRACE_STATES: frozenset[NasState] = frozenset(
    state for state, event in TRANSITIONS if event is Event.HEALTHY_WITHOUT_ANNOUNCE
)


def next_state(state: NasState, event: Event) -> NasState | None:
    """The state ``event`` leads to from ``state``, or None when it changes nothing."""
    return TRANSITIONS.get((state, event))


def dns_points_at_nas(state: NasState) -> bool:
    """Whether baluhost.local should point at the NAS in ``state`` (else at the Pi)."""
    return state is NasState.ONLINE
