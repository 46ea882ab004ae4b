"""The handshake's public status: one frozen picture the controller produces on request.

The HTTP API (/api/status, /api/handshake/status, the NAS calls' answers) and /metrics read
only this, never the controller's working parts, so each can change without the other. Times are
Unix seconds; the readers format them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from balupi.handshake.states import NasState

DnsTarget = Literal["nas", "pi"]


@dataclass(frozen=True)
class HistogramView:
    """Cumulative buckets as prometheus_client's HistogramMetricFamily wants them."""

    buckets: tuple[tuple[str, int], ...]
    sum: float


@dataclass(frozen=True)
class DnsView:
    hostname: str
    backend: str  # the backend's name, e.g. "pihole" or "hostsfile"
    addresses: Mapping[DnsTarget, str]  # where "nas" and "pi" are
    current: str | None  # the address the backend last confirmed
    wanted: str | None
    pending: bool  # the record is not yet where the NAS state wants it
    last_error: str | None  # of the last failed switch; None after a success
    failed_attempts: int  # since the last success
    last_switch_at: float | None
    results: Mapping[str, int]  # switch attempts by result

    @property
    def target(self) -> DnsTarget | None:
        """Which of the two the record points at now, or None when neither (or unknown)."""
        for name, address in self.addresses.items():
            if address == self.current:
                return name
        return None


@dataclass(frozen=True)
class HeartbeatView:
    last_ok: bool | None  # None until the first probe
    last_at: float | None
    last_error: str | None
    misses: int  # consecutive
    successes: int  # consecutive
    results: Mapping[str, int]  # probes by result ("ok", "miss")
    durations: HistogramView


@dataclass(frozen=True)
class WakeView:
    elapsed_seconds: float | None  # None unless a wake is in progress
    timeout_seconds: float
    results: Mapping[str, int]  # attempts by result ("success", "timeout", "send_error")
    durations: HistogramView  # from the magic packet to online

    @property
    def in_progress(self) -> bool:
        return self.elapsed_seconds is not None


@dataclass(frozen=True)
class HandshakeStatus:
    nas_state: NasState
    since: float  # of the last state change
    online_seconds_total: float  # kept across restarts
    last_snapshot_at: float | None
    takeovers: int  # the heartbeat missed an online NAS and moved DNS to the Pi
    snapshot_store_failures: int  # snapshots offered but not stored (full or read-only disk)
    dns: DnsView
    wake: WakeView
    heartbeat: HeartbeatView


@dataclass(frozen=True)
class DnsSettled:
    """How a NAS call's DNS switch went within the time BaluHost waits for its answer."""

    switched: bool
    error: str | None  # why not, when not switched
