"""What the signature check has used up: the highest accepted timestamp and the signatures
accepted recently, persisted next to the state so a restart (or a reboot with a stale clock)
cannot make an old request acceptable again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from balupi.handshake.atomic_write import write_atomic

log = logging.getLogger("balupi.handshake")

MAX_REMEMBERED = 1000  # a NAS sends a few signed calls a day: months of them
_MAX_TIMESTAMP = 10**12  # the header allows 12 digits


class ReplayRecord:
    def __init__(self, path: Path | None = None, max_remembered: int = MAX_REMEMBERED) -> None:
        self.path = path
        self.max_remembered = max_remembered
        self.last_timestamp = 0
        self.seen: dict[str, int] = {}  # signature -> its timestamp
        if path is not None:
            self._load(path)

    def accept(self, timestamp: int, signature: str) -> None:
        self.seen[signature] = timestamp
        self.last_timestamp = max(self.last_timestamp, timestamp)
        if len(self.seen) > self.max_remembered:
            # The oldest go first; they are older than last_timestamp, refused anyway.
            keep = sorted(self.seen.items(), key=lambda item: item[1])[-self.max_remembered :]
            self.seen = dict(keep)
        self._save()

    def forget_before(self, oldest: float, newest: float) -> None:
        """With a synchronised clock: drop what the time window refuses anyway, and a highest
        timestamp beyond the window (left by a NAS whose clock ran ahead while the Pi's was not
        synchronised), which would otherwise refuse every current request."""
        changed = False
        for sig in [s for s, ts in self.seen.items() if ts < oldest]:
            del self.seen[sig]
            changed = True
        if self.last_timestamp > newest:
            log.warning(
                "the last accepted timestamp %d is %.0f s ahead of the synchronised clock: "
                "a NAS clock ran ahead; it no longer holds back current requests",
                self.last_timestamp, self.last_timestamp - newest,
            )  # fmt: skip
            self.last_timestamp = max((t for t in self.seen.values() if t <= newest), default=0)
            changed = True
        if changed:
            self._save()

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
            last, seen = data["last_timestamp"], data["seen"]
            if not _timestamp(last) or not isinstance(seen, dict):
                raise ValueError("last_timestamp must be Unix seconds and seen an object")
            if not all(isinstance(s, str) and _timestamp(t) for s, t in seen.items()):
                raise ValueError("seen must map signatures to Unix seconds")
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
            log.warning("ignoring unreadable replay record %s: %s", path, err)
            return
        self.last_timestamp, self.seen = last, dict(seen)

    def _save(self) -> None:
        if self.path is None:
            return
        data = {"last_timestamp": self.last_timestamp, "seen": self.seen}
        try:
            write_atomic(self.path, json.dumps(data).encode() + b"\n", mode=0o600)
        except OSError as err:
            # Kept in memory: this run stays safe, a restart forgets what this write held.
            log.error("cannot save the replay record to %s: %s", self.path, err.strerror)


def _timestamp(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _MAX_TIMESTAMP
