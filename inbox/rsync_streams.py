"""Running a flush's rsyncs: started before the flush knows what it sends, then shared.

Logging in to the NAS takes longer than most scans of the inbox, so a flush starts its rsyncs
first: they connect, log in and wait for the names of what to send on stdin. ``EarlyRsyncs``
owns them from start to end, so that none outlives the flush: ``share(parts)`` hands each part
of the names to one of them and waits for them; those without a part end unused (they have sent
nothing and keep nothing); leaving the ``async with`` stops any still running.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from balupi.inbox import rsync_command as cmd
from balupi.inbox.rsync_run import RsyncResult, RsyncRun


class EarlyRsyncs:
    """``count`` rsyncs of ``argv`` (which reads the names to send from stdin)."""

    def __init__(self, argv: list[str], count: int) -> None:
        self._argv = argv
        self._count = count
        self._runs: list[RsyncRun] = []

    @property
    def count(self) -> int:
        return len(self._runs)

    async def __aenter__(self) -> EarlyRsyncs:
        try:
            for _ in range(self._count):
                self._runs.append(await RsyncRun.start(self._argv, names_on_stdin=True))
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def share(self, parts: list[list[str]]) -> RsyncResult | None:
        """Hand each of ``parts`` (at most ``count``) to one rsync and wait for all of them;
        the rsyncs left without a part end at once. One result for all (see ``worst``), or
        None when no rsync got a part (none was started, or ``parts`` is empty). Call it once."""
        used, unused = self._runs[: len(parts)], self._runs[len(parts) :]
        for run in unused:
            await run.abandon()
        if not used:
            return None
        names = parts[: len(used)]
        return worst(
            await asyncio.gather(*(run.result(n) for run, n in zip(used, names, strict=True)))
        )

    async def _stop(self) -> None:
        for run in self._runs:
            await run.stop()  # those that ran have ended already


def worst(results: list[RsyncResult]) -> RsyncResult:
    """One result for rsyncs that shared a send: the first that broke off, else the first
    that left files, else OK."""
    broken = [r for r in results if r.code not in cmd.PER_FILE_CODES]
    return (broken or [r for r in results if not r.ok] or results)[0]


def error_text(result: RsyncResult) -> str:
    """What went wrong, for the report: ssh's reason where it could not log in, else rsync's
    exit code in words; then their last lines."""
    reason = cmd.ssh_failure(result.stderr_tail) if result.code not in cmd.PER_FILE_CODES else None
    text = f"ssh to the NAS failed, {reason}" if reason else cmd.describe_exit(result.code)
    return f"{text}: {result.stderr_tail}" if result.stderr_tail else text
