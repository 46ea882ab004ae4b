"""Running rsync as a child process without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

_STDERR_LINES = 5


@dataclass(frozen=True)
class RsyncResult:
    code: int
    stdout: bytes
    stderr_tail: str  # the last lines rsync and ssh wrote: file names, never secrets

    @property
    def ok(self) -> bool:
        return self.code == 0


class RsyncRun:
    """An rsync under way. Started with ``names_on_stdin`` (for --files-from=- --from0), it
    connects to the NAS and logs in while the caller still decides what to send, then waits
    for the names."""

    def __init__(self, proc: asyncio.subprocess.Process | None, error: str = "") -> None:
        self._proc = proc
        self._error = error

    @classmethod
    async def start(
        cls, argv: list[str], *, names_on_stdin: bool = False, capture_stdout: bool = False
    ) -> RsyncRun:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.PIPE if names_on_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # rsync's own messages in plain English and C collation, whatever the locale.
                env={**os.environ, "LC_ALL": "C"},
                start_new_session=True,  # a process group of its own, with its ssh: abandon()
            )
        except OSError as err:  # rsync itself is missing: say so, as a shell's 127 would
            return cls(None, f"cannot run {argv[0]}: {err.strerror}")
        return cls(proc)

    async def result(self, names: list[str] | None = None) -> RsyncResult:
        """Hand rsync ``names`` (when it reads them from stdin) and wait for its end.
        Cancelled, rsync is stopped with SIGTERM first: it then keeps the partial file on the
        NAS (--partial-dir) for the next flush to resume."""
        proc = self._proc
        if proc is None:
            return RsyncResult(127, b"", self._error)
        data = None
        if proc.stdin is not None:  # an empty list still has to end: rsync waits for it
            data = b"".join(os.fsencode(n) + b"\0" for n in names or ())
        try:
            # An rsync that ended early (no connection) leaves a closed pipe: its exit says why.
            out, err = await proc.communicate(data)
        except asyncio.CancelledError:
            await self.stop()
            raise
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        code = proc.returncode if proc.returncode is not None else -1
        if code < 0:  # killed by a signal: say which, like a shell would
            lines.append(f"rsync was killed by signal {-code}")
        return RsyncResult(code, out or b"", " | ".join(lines[-_STDERR_LINES:]))

    async def stop(self) -> None:
        """Stop an rsync that is no longer wanted (SIGTERM), and wait for it."""
        await self._end(self._proc.terminate if self._proc else None)

    async def abandon(self) -> None:
        """End an rsync that was never handed names: it has sent nothing and keeps nothing, so
        SIGKILL, to it and its ssh (which shares our pipe, and would hold up the wait until its
        login is done)."""
        proc = self._proc
        await self._end(None if proc is None else lambda: os.killpg(proc.pid, signal.SIGKILL))

    async def _end(self, send: Callable[[], None] | None) -> None:
        if self._proc is None or self._proc.returncode is not None or send is None:
            return
        with contextlib.suppress(ProcessLookupError):
            send()
        await asyncio.shield(self._proc.wait())


async def run_rsync(argv: list[str], *, capture_stdout: bool = False) -> RsyncResult:
    """Run rsync to its end."""
    run = await RsyncRun.start(argv, capture_stdout=capture_stdout)
    return await run.result()
