"""Which files below a folder some process holds open (Samba while a client writes)."""

from __future__ import annotations

import os

FileId = tuple[int, int]  # (st_dev, st_ino)


def open_file_ids(folder: str) -> set[FileId]:
    """The files below ``folder`` that any process we may inspect has open.

    Reads /proc/PID/fd; processes we are not permitted to look into are skipped, so as an
    unprivileged user this sees only our own user's processes (on the Pi the flush runs as the
    user Samba writes the inbox as, see samba/balupi-shares.conf).
    """
    prefix = folder.rstrip("/") + "/"
    found: set[FileId] = set()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            link = f"{fd_dir}/{fd}"
            try:
                if not os.readlink(link).startswith(prefix):
                    continue
                st = os.stat(link)
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
    return found
