"""The persisted part of the NAS state: survives restarts of the service and of the Pi.

Every field is checked on load: a file with the wrong kinds or impossible values (valid JSON or
not) is reported and ignored, and the first live probe decides the state, as with no file.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from balupi.handshake.atomic_write import write_atomic
from balupi.handshake.states import NasState

log = logging.getLogger("balupi.handshake")

# Unix seconds a saved time may have: from 1970 (a Pi without fake-hwclock boots there) to 2200.
_EARLIEST, _LATEST = 0.0, 7_258_118_400.0


@dataclass
class PersistedState:
    state: NasState = NasState.OFFLINE
    since: float = 0.0  # Unix seconds of the last transition
    wake_started_at: float | None = None  # Unix seconds; a restart mid-wake continues the wake
    last_snapshot_at: float | None = None
    # Seconds the NAS was online up to the last save (the controller adds the running stretch).
    online_seconds_before: float = 0.0


class BadStateFile(ValueError):
    """What is wrong with a state file's content."""


def _number(data: dict, name: str, *, optional: bool, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadStateFile(f"{name} must be a number, got {value!r:.60}")
    if not low <= value <= high:
        raise BadStateFile(f"{name} = {value!r} is out of range ({low:g} to {high:g})")
    return float(value)


def parse_state(data: object) -> PersistedState:
    """The state in a decoded state file, or BadStateFile naming the first bad field."""
    if not isinstance(data, dict):
        raise BadStateFile(f"the file must hold a JSON object, got {type(data).__name__}")
    # Unknown fields are ignored: a newer version's file still gives an older one its state.
    state = data.get("state")
    if not isinstance(state, str) or state not in {s.value for s in NasState}:
        raise BadStateFile(f"state must be one of {', '.join(NasState)}, got {state!r:.60}")
    times = {"low": _EARLIEST, "high": _LATEST}
    since = _number(data, "since", optional=False, **times)
    online = _number(data, "online_seconds_before", optional=False, low=0, high=1e12)
    assert since is not None and online is not None
    return PersistedState(
        state=NasState(state),
        since=since,
        wake_started_at=_number(data, "wake_started_at", optional=True, **times),
        last_snapshot_at=_number(data, "last_snapshot_at", optional=True, **times),
        online_seconds_before=online,
    )


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> PersistedState | None:
        """The saved state, or None when there is none (or it is unreadable: then we probe)."""
        try:
            return parse_state(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as err:
            # BadStateFile is a ValueError, as are bad JSON and bad UTF-8.
            log.warning("ignoring unreadable state file %s (a live probe decides): %s",
                        self.path, err)  # fmt: skip
            return None

    def save(self, state: PersistedState) -> None:
        data = asdict(state)
        data["state"] = str(state.state)
        write_atomic(self.path, json.dumps(data, indent=1).encode() + b"\n", mode=0o600)
