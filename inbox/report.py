"""What a flush and a scan tell their callers: plain data, ready for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# A flush's result, the label of balupi_inbox_flushes_total.
OK = "ok"  # every file that was ready is on the NAS now (or there was nothing to move)
PARTIAL = "partial"  # some files moved, others stay in the inbox for the next round
FAILED = "failed"  # nothing could move: the NAS is unreachable, full, or refused
RESULTS = (OK, PARTIAL, FAILED)


@dataclass(frozen=True)
class InboxStatus:
    """What waits in the inbox now."""

    files: int
    bytes: int
    # Since the oldest waiting file arrived (its last change on the Pi); None when empty.
    oldest_age_seconds: float | None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Renamed:
    """A file whose name was taken on the NAS: it arrived under ``nas_name`` instead."""

    inbox_name: str
    nas_name: str


@dataclass(frozen=True)
class FileProblem:
    """A file that stays in the inbox this round, and why."""

    name: str
    reason: str


@dataclass
class FlushReport:
    result: str = OK
    started_at: float = 0.0  # Unix time
    duration_seconds: float = 0.0
    moved_files: int = 0
    moved_bytes: int = 0
    renamed: list[Renamed] = field(default_factory=list)
    # Already on the NAS with the same content (an earlier flush was cut off): removed here.
    already_on_nas: list[str] = field(default_factory=list)
    # Changed recently or open by a process (Samba): waits for the next round.
    not_ready: list[str] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    error: str | None = None  # why the flush failed or was partial, for status and logs

    def as_dict(self) -> dict:
        return asdict(self)

    def conclude(self, error: str | None, duration_seconds: float) -> None:
        """Close the report of a finished flush: ``error`` None means every ready file went."""
        self.duration_seconds = duration_seconds
        self.error = error
        if error is None:
            self.result = OK
        elif self.moved_files or self.already_on_nas:
            self.result = PARTIAL
        else:
            self.result = FAILED

    def summary(self) -> str:
        text = f"{self.result}: moved {self.moved_files} file(s), {self.moved_bytes} bytes"
        if self.renamed:
            text += f", {len(self.renamed)} renamed (name taken on the NAS)"
        if self.already_on_nas:
            text += f", {len(self.already_on_nas)} already on the NAS"
        if self.not_ready:
            text += f", {len(self.not_ready)} still being written"
        if self.problems:
            text += f", {len(self.problems)} left with problems"
        if self.error:
            text += f"; {self.error}"
        return text
