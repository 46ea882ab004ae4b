"""Running rsync as a child process without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
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


async def run_rsync(
    argv: list[str], *, files: list[str] | None = None, capture_stdout: bool = False
) -> RsyncResult:
    """Run rsync to its end, handing it ``files`` (for --files-from=- --from0) on stdin.
    Cancelled, it is stopped with SIGTERM first: rsync then keeps the partial file on the NAS
    (--partial-dir) for the next flush to resume."""
    names = None if files is None else b"".join(os.fsencode(f) + b"\0" for f in files)
    try:
        proc = await _start(argv, names, capture_stdout)
    except OSError as err:  # rsync itself is missing: say so, as a shell's 127 would
        return RsyncResult(127, b"", f"cannot run {argv[0]}: {err.strerror}")
    try:
        out, err = await proc.communicate(names)
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await asyncio.shield(proc.wait())
        raise
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    code = proc.returncode if proc.returncode is not None else -1
    if code < 0:  # killed by a signal: say which, like a shell would
        lines.append(f"rsync was killed by signal {-code}")
    return RsyncResult(code, out or b"", " | ".join(lines[-_STDERR_LINES:]))


async def _start(
    argv: list[str], names: bytes | None, capture_stdout: bool
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.DEVNULL if names is None else subprocess.PIPE,
        stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # rsync's own messages in plain English and C collation, whatever the service's locale.
        env={**os.environ, "LC_ALL": "C"},
    )
