"""What the flushes of this process did, counted for /metrics and /api/status.

Plain bookkeeping, kept apart from the flush itself: the mover hands every finished report to
``FlushTally.count``; the collector in metrics.py and the status endpoint only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from balupi.inbox.report import RESULTS, FlushReport


@dataclass
class FlushTally:
    moved_files_total: int = 0
    moved_bytes_total: int = 0
    renamed_files_total: int = 0
    flushes_total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULTS, 0))
    last_report: FlushReport | None = None
    last_error: str | None = None  # of the last flush that was not OK
    last_error_at: float | None = None  # Unix time

    def count(self, report: FlushReport, now: float) -> None:
        """Add one finished flush (``now``: when it ended, Unix time)."""
        self.flushes_total[report.result] += 1
        self.moved_files_total += report.moved_files
        self.moved_bytes_total += report.moved_bytes
        self.renamed_files_total += len(report.renamed)
        self.last_report = report
        if report.error is not None:
            self.last_error, self.last_error_at = report.error, now
