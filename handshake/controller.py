"""The NAS controller: the one place that moves the state machine and acts on each transition.

Announcements, wake requests and heartbeat results all come here; every transition is logged in
one line, persisted atomically, and sets where baluhost.local should point.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from balupi.config_handshake import DnsConfig, HandshakeConfig, NasConfig
from balupi.handshake.dns_switch import DnsSwitcher
from balupi.handshake.health_probe import ProbeResult
from balupi.handshake.histogram import Histogram
from balupi.handshake.inbox import inbox_usage
from balupi.handshake.snapshot import store_snapshot
from balupi.handshake.state_store import PersistedState, StateStore
from balupi.handshake.states import GRACE_STATES, Event, NasState, dns_points_at_nas, next_state
from balupi.handshake.status import (
    DnsSettled,
    DnsView,
    HandshakeStatus,
    HeartbeatView,
    WakeView,
)
from balupi.handshake.wol import WakeError, send_magic_packet
from balupi.repeat_log import RepeatLog

log = logging.getLogger("balupi.handshake")

WAKE_BUCKETS = (5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0)
HEARTBEAT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class HeartbeatStatus:
    last_ok: bool | None = None  # None until the first probe
    last_at: float | None = None
    last_error: str | None = None
    misses: int = 0  # consecutive
    successes: int = 0  # consecutive
    healthy_since: float | None = None  # monotonic
    results: dict[str, int] = field(default_factory=lambda: {"ok": 0, "miss": 0})
    durations: Histogram = field(default_factory=lambda: Histogram(HEARTBEAT_BUCKETS))


@dataclass
class Stats:
    wakes: dict[str, int] = field(
        default_factory=lambda: {"success": 0, "timeout": 0, "send_error": 0}
    )
    wake_durations: Histogram = field(default_factory=lambda: Histogram(WAKE_BUCKETS))
    takeovers: int = 0
    snapshot_store_failures: int = 0  # a snapshot offered but not stored (full disk, read-only)


@dataclass(frozen=True)
class WakeAnswer:
    sent: bool
    previous: NasState
    reason: str | None = None
    retry_after: float | None = None  # set when rate-limited
    error: str | None = None  # set when the packet could not be sent


class NasController:
    def __init__(
        self,
        handshake: HandshakeConfig,
        nas: NasConfig,
        dns: DnsConfig,
        switcher: DnsSwitcher,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.handshake = handshake
        self.nas = nas
        self.dns = dns
        self.switcher = switcher
        self.clock = clock
        self.monotonic = monotonic
        self.store = StateStore(handshake.state_file)
        self.saved = PersistedState(since=clock())
        self.heartbeat = HeartbeatStatus()
        self.stats = Stats()
        self.restored = False  # True when a saved state was loaded at start
        self._last_packet_at: float | None = None  # monotonic
        # Durations run on the monotonic clock: the wall clock of a Pi without an RTC jumps when
        # NTP steps it. The wall times in ``saved`` are for reports and for a restart only.
        self._online_from: float | None = None  # start of the online stretch not yet saved
        self._wake_from: float | None = None  # when the wake in progress began
        self._errors = RepeatLog(log)
        # Set whenever the heartbeat should look again at once (a wake, a new state).
        self.poke = asyncio.Event()

    # -- start-up -----------------------------------------------------------------------------

    def restore(self) -> None:
        """Load the saved state; the first heartbeat and the DNS switcher reconcile it live."""
        saved = self.store.load()
        if saved is not None:
            self.saved, self.restored = saved, True
            log.info("restored state %s (since %s)", saved.state, _iso(saved.since))
            self._start_clocks_after_restart()
            self.switcher.want(self._dns_target(saved.state))
        # Without a saved state the first probe decides: no switch before we know.

    def first_probe(self, result: ProbeResult) -> None:
        """Without a saved state, the live probe decides where we start (a probe that could
        not be made here decides nothing: the next one will)."""
        if not self.restored and not result.local:
            state = NasState.ONLINE if result.ok else NasState.OFFLINE
            self.saved = PersistedState(state=state, since=self.clock())
            self._online_from = self.monotonic() if state is NasState.ONLINE else None
            self._persist()
            log.info("no saved state: starting %s from a live probe", state)
            self.switcher.want(self._dns_target(state))
            self.restored = True
        self.on_probe(result)

    # -- reading ------------------------------------------------------------------------------

    @property
    def state(self) -> NasState:
        return self.saved.state

    def online_seconds_total(self) -> float:
        """Never goes back, whatever the wall clock does."""
        total = self.saved.online_seconds_before
        if self.state is NasState.ONLINE and self._online_from is not None:
            total += max(0.0, self.monotonic() - self._online_from)
        return total

    def wake_elapsed(self) -> float | None:
        if self.state is not NasState.WAKING or self._wake_from is None:
            return None
        return max(0.0, self.monotonic() - self._wake_from)

    def close(self) -> None:
        """Save the running online stretch (the service stops)."""
        if self.restored:
            self._persist()

    def status(self) -> HandshakeStatus:
        """Everything the API and /metrics report, as one frozen picture taken now."""
        hb, dns, stats = self.heartbeat, self.switcher.status, self.stats
        return HandshakeStatus(
            nas_state=self.state,
            since=self.saved.since,
            online_seconds_total=self.online_seconds_total(),
            last_snapshot_at=self.saved.last_snapshot_at,
            takeovers=stats.takeovers,
            snapshot_store_failures=stats.snapshot_store_failures,
            dns=DnsView(
                hostname=self.dns.hostname,
                backend=self.switcher.backend.name,
                addresses={"nas": self.nas.ip, "pi": self.dns.pi_ip},
                current=dns.current,
                wanted=dns.wanted,
                pending=dns.pending,
                last_error=dns.last_error,
                failed_attempts=dns.failed_attempts,
                last_switch_at=dns.last_switch_at,
                results=dict(dns.results),
            ),
            wake=WakeView(
                elapsed_seconds=self.wake_elapsed(),
                timeout_seconds=self.nas.wake_timeout_seconds,
                results=dict(stats.wakes),
                durations=stats.wake_durations.view(),
            ),
            heartbeat=HeartbeatView(
                last_ok=hb.last_ok,
                last_at=hb.last_at,
                last_error=hb.last_error,
                misses=hb.misses,
                successes=hb.successes,
                results=dict(hb.results),
                durations=hb.durations.view(),
            ),
        )

    @property
    def body_limit(self) -> int:
        """The most bytes a NAS call's body may have (a snapshot is the biggest)."""
        return self.handshake.snapshot_max_bytes

    def count_inbox(self) -> tuple[int, int] | None:
        """(files, bytes) waiting in the SMB inbox, None without the folder. Disk work: call it
        off the event loop."""
        return inbox_usage(self.handshake.inbox_dir)

    async def dns_settled(self) -> DnsSettled:
        """Waits, at most as long as BaluHost waits for its answer, for DNS to be in place."""
        switched = await self.switcher.wait_settled(self.handshake.dns_wait_seconds)
        return DnsSettled(switched, None if switched else self.switcher.status.last_error)

    def next_probe_delay(self) -> float:
        state, hb = self.state, self.heartbeat
        if state is NasState.WAKING:
            return self.nas.wake_poll_seconds
        if state is NasState.ONLINE and hb.misses > 0:
            return self.nas.heartbeat_retry_seconds
        if state is NasState.UNREACHABLE and hb.successes > 0:
            return self.nas.heartbeat_retry_seconds
        if state is NasState.SHUTTING_DOWN:
            return self.nas.heartbeat_retry_seconds
        return self.nas.heartbeat_interval_seconds

    # -- events -------------------------------------------------------------------------------

    def going_offline(self, snapshot: bytes | None) -> bool:
        """The NAS announced its shutdown; returns whether a snapshot was stored.

        A snapshot that cannot be stored (full or read-only disk) is counted and logged, and
        the announcement still moves DNS: the NAS will be gone either way.
        """
        stored = False
        if snapshot is not None:
            try:
                stored = self.store_snapshot(snapshot)
            except OSError as err:
                self._errors.error(
                    f"cannot store the snapshot in {self.handshake.snapshot_dir}: "
                    f"{err.strerror}; the shutdown is handled without it"
                )
        self._fire(Event.GOING_OFFLINE, "announced by the NAS")
        return stored

    def coming_online(self) -> None:
        self._fire(Event.COMING_ONLINE, "announced by the NAS")

    def store_snapshot(self, body: bytes) -> bool:
        try:
            store_snapshot(self.handshake.snapshot_dir, body)
        except OSError:
            self.stats.snapshot_store_failures += 1
            raise
        self.saved.last_snapshot_at = self.clock()
        self._persist()
        log.info("stored a snapshot of %d bytes", len(body))
        return True

    def wake(self) -> WakeAnswer:
        previous = self.state
        if previous is NasState.ONLINE:
            return WakeAnswer(False, previous, reason="the NAS is already online")
        if previous is NasState.WAKING:
            return WakeAnswer(False, previous, reason="a wake is already in progress")
        now = self.monotonic()
        gap = self.handshake.wake_min_interval_seconds
        if self._last_packet_at is not None and now - self._last_packet_at < gap:
            wait = gap - (now - self._last_packet_at)
            return WakeAnswer(
                False, previous, reason=f"rate-limited: one magic packet per {gap:g} s",
                retry_after=wait,
            )  # fmt: skip
        try:
            send_magic_packet(self.nas.mac, self.nas.wol_broadcast, self.nas.wol_port)
        except WakeError as err:
            self.stats.wakes["send_error"] += 1
            log.warning("wake failed: %s", err)
            return WakeAnswer(False, previous, error=str(err))
        self._last_packet_at = now
        self._wake_from = now
        self.saved.wake_started_at = self.clock()
        self._fire(Event.WAKE_SENT, f"magic packet to {self.nas.wol_broadcast}:{self.nas.wol_port}")
        return WakeAnswer(True, previous)

    def on_probe(self, result: ProbeResult) -> None:
        hb, nas = self.heartbeat, self.nas
        if result.local:
            # Our own trouble (no free descriptor): the NAS was not asked, so it did not miss.
            hb.last_error = result.error
            self._errors.error(f"heartbeat not sent: {result.error}", kind="heartbeat local")
            return
        if not self.restored:  # the first probe that reached the NAS at all
            self.first_probe(result)
            return
        hb.last_ok, hb.last_at, hb.last_error = result.ok, self.clock(), result.error
        hb.durations.observe(result.seconds)
        if result.ok:
            hb.results["ok"] += 1
            hb.misses = 0
            hb.successes += 1
            if hb.healthy_since is None:
                hb.healthy_since = self.monotonic()
        else:
            hb.results["miss"] += 1
            hb.successes = 0
            hb.misses += 1
            hb.healthy_since = None
            if self.state is NasState.ONLINE:
                log.warning(
                    "heartbeat missed (%d of %d before a takeover): %s",
                    hb.misses, nas.misses_before_takeover, result.error,
                )  # fmt: skip
        state = self.state
        if state is NasState.ONLINE and hb.misses >= nas.misses_before_takeover:
            self.stats.takeovers += 1
            self._fire(Event.HEARTBEAT_LOST, f"{hb.misses} missed heartbeats ({result.error})")
        elif state is NasState.SHUTTING_DOWN and not result.ok:
            self._fire(Event.WENT_DOWN, "stopped answering after its announcement")
        elif state is NasState.UNREACHABLE and hb.successes >= nas.successes_to_recover:
            self._fire(Event.RECOVERED, f"{hb.successes} healthy heartbeats in a row")
        elif state in GRACE_STATES and self._healthy_for_grace():
            self._fire(Event.HEALTHY_WITHOUT_ANNOUNCE, "healthy without announcing itself")
        elif state is NasState.WAKING and not result.ok:
            elapsed = self.wake_elapsed()
            if elapsed is not None and elapsed >= nas.wake_timeout_seconds:
                self.stats.wakes["timeout"] += 1
                self._fire(Event.WAKE_TIMED_OUT, f"no health answer within {elapsed:.0f} s")

    # -- transitions --------------------------------------------------------------------------

    def _healthy_for_grace(self) -> bool:
        since = self.heartbeat.healthy_since
        return since is not None and self.monotonic() - since >= self.nas.health_grace_seconds

    def _fire(self, event: Event, reason: str) -> None:
        old = self.state
        new = next_state(old, event)
        if new is None:
            log.debug("event %s changes nothing in state %s", event, old)
            return
        now = self.clock()
        if old is NasState.ONLINE:
            self._fold_online_stretch()
            self._online_from = None
        if new is NasState.ONLINE:
            self._online_from = self.monotonic()
        if old is NasState.WAKING and new is NasState.ONLINE:
            self._wake_done()
        if new is not NasState.WAKING:
            self.saved.wake_started_at = None
            self._wake_from = None
        self.saved.state, self.saved.since = new, now
        self._reset_streaks_for(new)
        self._persist()
        target = self._dns_target(new)
        log.info("NAS %s -> %s on %s: %s; DNS -> %s", old, new, event, reason, target)
        self.switcher.want(target)
        self.poke.set()

    def _wake_done(self) -> None:
        elapsed = self.wake_elapsed()
        if elapsed is not None:
            self.stats.wakes["success"] += 1
            self.stats.wake_durations.observe(elapsed)

    def _start_clocks_after_restart(self) -> None:
        # The time the service was down is not counted online: nobody watched the NAS then.
        now = self.monotonic()
        self._online_from = now if self.state is NasState.ONLINE else None
        self._wake_from = None
        started = self.saved.wake_started_at
        if self.state is NasState.WAKING and started is not None:
            # A restart mid-wake continues the wake; the wall clock is all that survives it.
            elapsed = min(max(0.0, self.clock() - started), self.nas.wake_timeout_seconds)
            self._wake_from = now - elapsed

    def _fold_online_stretch(self) -> None:
        if self.state is NasState.ONLINE and self._online_from is not None:
            now = self.monotonic()
            self.saved.online_seconds_before += max(0.0, now - self._online_from)
            self._online_from = now

    def _reset_streaks_for(self, state: NasState) -> None:
        # Streaks count within one state: a takeover needs fresh misses after coming online.
        hb = self.heartbeat
        hb.misses = hb.successes = 0
        if state is not NasState.WAKING:
            hb.healthy_since = None

    def _dns_target(self, state: NasState) -> str:
        return self.nas.ip if dns_points_at_nas(state) else self.dns.pi_ip

    def _persist(self) -> None:
        self._fold_online_stretch()  # the file holds the total up to now
        try:
            self.store.save(self.saved)
        except OSError as err:
            # The state in memory still drives DNS; a full disk must not stop the switch.
            self._errors.error(f"cannot save the state to {self.store.path}: {err.strerror}")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
