"""The persisted part of the NAS state: survives restarts of the service and of the Pi."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from balupi.handshake.atomic_write import write_atomic
from balupi.handshake.states import NasState

log = logging.getLogger("balupi.handshake")


@dataclass
class PersistedState:
    state: NasState = NasState.OFFLINE
    since: float = 0.0  # Unix seconds of the last transition
    wake_started_at: float | None = None  # Unix seconds; a restart mid-wake continues the wake
    last_snapshot_at: float | None = None
    # Seconds the NAS was online before ``since``; the running stretch is added on reading.
    online_seconds_before: float = 0.0


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> PersistedState | None:
        """The saved state, or None when there is none (or it is unreadable: then we probe)."""
        try:
            data = json.loads(self.path.read_text())
            saved = PersistedState(**data)
            saved.state = NasState(saved.state)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as err:
            log.warning("ignoring unreadable state file %s: %s", self.path, err)
            return None
        return saved

    def save(self, state: PersistedState) -> None:
        data = asdict(state)
        data["state"] = str(state.state)
        write_atomic(self.path, json.dumps(data, indent=1).encode() + b"\n", mode=0o600)
