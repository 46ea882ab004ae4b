"""Where the shutdown hook gets its snapshot: a JSON file, or a command that prints one."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path


class SnapshotUnavailable(Exception):
    pass


def snapshot_from_file(path: Path) -> dict:
    try:
        return _object(json.loads(path.read_text()), str(path))
    except OSError as err:
        raise SnapshotUnavailable(f"cannot read {path}: {err.strerror}") from None
    except ValueError as err:
        raise SnapshotUnavailable(f"{path} is not JSON: {err}") from None


def snapshot_from_command(command: str, timeout: float) -> dict:
    argv = shlex.split(command)
    try:
        run = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except OSError as err:
        raise SnapshotUnavailable(f"cannot run {argv[0]}: {err.strerror}") from None
    except subprocess.TimeoutExpired:
        raise SnapshotUnavailable(f"{argv[0]} took longer than {timeout} s") from None
    if run.returncode != 0:
        tail = run.stderr.decode(errors="replace").strip()[-300:]
        raise SnapshotUnavailable(f"{argv[0]} exited {run.returncode}: {tail}")
    try:
        return _object(json.loads(run.stdout), argv[0])
    except ValueError as err:
        raise SnapshotUnavailable(f"{argv[0]} printed no JSON: {err}") from None


def _object(value: object, source: str) -> dict:
    if not isinstance(value, dict):
        raise SnapshotUnavailable(f"{source}: the snapshot must be a JSON object")
    return value
