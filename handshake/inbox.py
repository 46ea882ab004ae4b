"""How much waits in the SMB inbox for the NAS (shown in status and metrics)."""

from __future__ import annotations

import os
from pathlib import Path


def inbox_usage(folder: Path) -> tuple[int, int] | None:
    """(files, bytes) below ``folder``, or None when the folder is not there."""
    if not folder.is_dir():
        return None
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue  # removed while we counted
            files += 1
    return files, size
