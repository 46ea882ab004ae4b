"""What each event does to the NAS's state, from each state: driven through the controller's
public calls (an announcement, a wake, heartbeat answers and misses on a clock the test moves),
checked by where the state ends, where baluhost.local is sent, what is saved, and what is
counted. The expectations are the protocol's rules, written per event; a wrong entry in
states.py's table breaks one of them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from balupi.config_handshake import DnsConfig, HandshakeConfig, NasConfig
from balupi.devstack.ports import free_udp_port
from balupi.handshake.controller import NasController
from balupi.handshake.dns_switch import DnsSwitcher
from balupi.handshake.health_probe import ProbeResult
from balupi.handshake.state_store import PersistedState, StateStore
from balupi.handshake.states import Event, NasState, next_state

S, E = NasState, Event
NAS_IP, PI_IP, MAC = "192.0.2.10", "192.0.2.20", "02:00:00:00:00:10"
NAS = NasConfig(url="http://127.0.0.1:9", ip=NAS_IP, mac=MAC, wol_broadcast="127.0.0.1")
# The defaults the rules below count with.
assert (NAS.misses_before_takeover, NAS.successes_to_recover) == (3, 3)
assert (NAS.health_grace_seconds, NAS.wake_timeout_seconds) == (60.0, 90.0)
SLEEPING = (S.SHUTTING_DOWN, S.OFFLINE, S.UNREACHABLE)  # up to be woken


class Clocks:
    """Wall clock and monotonic clock of the controller, moved by the test."""

    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


class NoBackend:
    """The switcher is never started here: the test reads where the controller wants DNS."""

    name = "none"

    async def switch(self, hostname: str, ip: str) -> None:
        raise AssertionError("not started")

    async def current(self, hostname: str) -> str | None:
        raise AssertionError("not started")

    async def close(self) -> None:
        pass


class Nas:
    """One controller, restored (as after a restart) into the state a test starts from."""

    def __init__(self, tmp_path: Path, wol: socket.socket, start: NasState) -> None:
        self.clocks = Clocks()
        self.state_file = tmp_path / start / "state.json"
        wake_started = self.clocks.wall if start is S.WAKING else None
        StateStore(self.state_file).save(
            PersistedState(state=start, since=self.clocks.wall, wake_started_at=wake_started)
        )
        handshake = HandshakeConfig(secret=None, state_file=self.state_file,
                                    snapshot_dir=tmp_path / start / "snapshot")  # fmt: skip
        nas = replace(NAS, wol_port=wol.getsockname()[1])
        self.switcher = DnsSwitcher(NoBackend(), "baluhost.local")
        self.c = NasController(handshake, nas, DnsConfig(pi_ip=PI_IP), self.switcher,
                               clock=lambda: self.clocks.wall,
                               monotonic=lambda: self.clocks.mono)  # fmt: skip
        self.c.restore()
        assert self.c.state is start
        self.wol = wol

    # What happens in the world ---------------------------------------------------------------

    def answers(self, seconds: float) -> None:
        """The NAS answers its health check once a second for ``seconds``."""
        for _ in range(int(seconds)):
            self.clocks.advance(1)
            self.c.on_probe(ProbeResult(ok=True, seconds=0.01))

    def silent(self, seconds: float) -> None:
        """The NAS answers nothing for ``seconds`` (probed once a second)."""
        for _ in range(int(seconds)):
            self.clocks.advance(1)
            self.c.on_probe(ProbeResult(ok=False, seconds=2.5, error="timeout"))

    # What the controller did -----------------------------------------------------------------

    def packet_arrives(self) -> bool:
        """Whether a magic packet reaches the NAS's Wake-on-LAN port (waits for one a while)."""
        self.wol.settimeout(5)
        try:
            return len(self.wol.recv(1024)) == 102  # 6 x 0xFF, then the MAC 16 times
        except TimeoutError:
            return False

    def no_packet(self) -> bool:
        """Whether nothing reached the Wake-on-LAN port (loopback delivers at once)."""
        self.wol.setblocking(False)
        try:
            self.wol.recv(1024)
        except BlockingIOError:
            return True
        return False

    def assert_in(self, state: NasState) -> None:
        assert self.c.state is state
        assert self.switcher.status.wanted == (NAS_IP if state is S.ONLINE else PI_IP)
        saved = StateStore(self.state_file).load()
        assert saved is not None and saved.state is state


@pytest.fixture
def wol() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", free_udp_port()))
        yield s


@pytest.mark.parametrize("start", list(NasState))
def test_an_announced_shutdown_sends_dns_to_the_pi_from_every_state(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.c.going_offline(None)
    nas.assert_in(S.SHUTTING_DOWN)


@pytest.mark.parametrize("start", list(NasState))
def test_an_announced_boot_sends_dns_to_the_nas_from_every_state(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.c.coming_online()
    nas.assert_in(S.ONLINE)
    assert nas.c.stats.takeovers == 0


@pytest.mark.parametrize("start", SLEEPING)
def test_a_wake_sends_a_packet_and_waits_from_every_sleeping_state(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    answer = nas.c.wake()
    assert answer.sent is True and answer.previous is start
    assert nas.packet_arrives()
    nas.assert_in(S.WAKING)
    assert nas.c.wake_elapsed() == 0.0


@pytest.mark.parametrize("start", [S.ONLINE, S.WAKING])
def test_a_wake_of_a_nas_that_is_up_or_waking_changes_nothing(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    answer = nas.c.wake()
    assert answer.sent is False and answer.reason
    assert nas.no_packet()
    nas.assert_in(start)


# Silence for as long as a takeover needs (3 misses), and no longer than a wake may take.
SHORT_SILENCE = {
    S.ONLINE: S.UNREACHABLE,  # the heartbeat takes over
    S.SHUTTING_DOWN: S.OFFLINE,  # it went down, as announced: no outage
    S.OFFLINE: S.OFFLINE,
    S.UNREACHABLE: S.UNREACHABLE,
    S.WAKING: S.WAKING,  # still booting
}


@pytest.mark.parametrize("start", list(NasState))
def test_silence_is_an_outage_only_for_a_nas_that_should_be_up(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.silent(NAS.misses_before_takeover)
    nas.assert_in(SHORT_SILENCE[start])
    assert nas.c.stats.takeovers == (1 if start is S.ONLINE else 0)


def test_two_misses_are_not_yet_a_takeover(tmp_path, wol):
    nas = Nas(tmp_path, wol, S.ONLINE)
    nas.silent(NAS.misses_before_takeover - 1)
    nas.assert_in(S.ONLINE)


@pytest.mark.parametrize("start", list(NasState))
def test_a_wake_that_gets_no_answer_in_time_ends_offline(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.silent(NAS.wake_timeout_seconds + 1)
    # Only the wake times out; the other states end as after a short silence.
    nas.assert_in(S.OFFLINE if start is S.WAKING else SHORT_SILENCE[start])
    assert nas.c.stats.wakes["timeout"] == (1 if start is S.WAKING else 0)


# A few answers (enough to recover, far short of the grace time).
FEW_ANSWERS = {
    S.UNREACHABLE: S.ONLINE,  # it is back after an outage
    S.ONLINE: S.ONLINE,
    # Announced states wait for the announcement (or the grace time): a shutdown in progress
    # still answers, a woken NAS answers before it announces itself.
    S.SHUTTING_DOWN: S.SHUTTING_DOWN,
    S.OFFLINE: S.OFFLINE,
    S.WAKING: S.WAKING,
}


@pytest.mark.parametrize("start", list(NasState))
def test_a_few_answers_bring_back_only_a_nas_that_was_lost(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.answers(NAS.successes_to_recover)
    nas.assert_in(FEW_ANSWERS[start])


def test_two_answers_are_not_yet_a_recovery(tmp_path, wol):
    nas = Nas(tmp_path, wol, S.UNREACHABLE)
    nas.answers(NAS.successes_to_recover - 1)
    nas.assert_in(S.UNREACHABLE)


@pytest.mark.parametrize("start", list(NasState))
def test_a_nas_healthy_for_the_grace_time_gets_dns_back_without_announcing(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.answers(NAS.health_grace_seconds + 1)
    nas.assert_in(S.ONLINE)
    if start is S.WAKING:  # a wake that ends in health is a successful wake
        assert nas.c.stats.wakes["success"] == 1


@pytest.mark.parametrize("start", [S.SHUTTING_DOWN, S.OFFLINE, S.WAKING])
def test_just_short_of_the_grace_time_an_announced_state_holds(tmp_path, wol, start):
    nas = Nas(tmp_path, wol, start)
    nas.answers(NAS.health_grace_seconds)  # the first answer starts the grace time
    nas.assert_in(start)


def test_events_change_nothing_where_they_cannot_apply():
    """The table's pairs the controller never reaches (it checks the state first) still follow
    the rules, so that a caller that fires them anyway changes nothing."""
    for state in NasState:
        if state is not S.ONLINE:  # only a NAS that should be up can be lost
            assert next_state(state, E.HEARTBEAT_LOST) is None, state
        if state is not S.UNREACHABLE:  # only a lost NAS recovers
            assert next_state(state, E.RECOVERED) is None, state
        if state is not S.SHUTTING_DOWN:  # only an announced shutdown goes down
            assert next_state(state, E.WENT_DOWN) is None, state
        if state is not S.WAKING:  # only a wake times out
            assert next_state(state, E.WAKE_TIMED_OUT) is None, state
    for state in (S.ONLINE, S.WAKING):  # up or booting: never woken again
        assert next_state(state, E.WAKE_SENT) is None, state
    for state in (S.ONLINE, S.UNREACHABLE):  # the grace time is for announced states
        assert next_state(state, E.HEALTHY_WITHOUT_ANNOUNCE) is None, state
    assert next_state(S.ONLINE, E.COMING_ONLINE) is None
    assert next_state(S.SHUTTING_DOWN, E.GOING_OFFLINE) is None
