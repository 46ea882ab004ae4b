"""How much waits in the SMB inbox for the NAS, when the service only counts it (no [inbox])."""

from __future__ import annotations

from pathlib import Path

from balupi.inbox.scan import status


def inbox_usage(folder: Path) -> tuple[int, int] | None:
    """(files, bytes) below ``folder``, or None when the folder is not there."""
    try:
        found = status(str(folder))
    except FileNotFoundError:
        return None
    return found.files, found.bytes
