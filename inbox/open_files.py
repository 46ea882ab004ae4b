"""Which files some process holds open (smbd while a client copies): a file still open may
still grow, and must wait for the next flush.

Two ways to tell, because neither works everywhere:
- a write lease (fcntl F_SETLEASE): the kernel grants it only while no other process has the
  file open. It needs the file's owner (Samba's ``force user`` makes the flush's user the owner
  of every inbox file) or CAP_LEASE, and sees every process, whoever runs it;
- /proc/PID/fd: sees the processes we may inspect (our own user's, or all as root).
"""

from __future__ import annotations

import errno
import fcntl
import os

FileId = tuple[int, int]  # (st_dev, st_ino)


def open_file_ids(folder: str) -> tuple[set[FileId], bool]:
    """The files below ``folder`` that processes we may inspect have open, and whether we
    could inspect every process (as root, or with nobody else's processes running).

    Reads /proc/PID/fd; processes we are not permitted to look into are skipped, so as an
    unprivileged user this sees only our own user's processes.
    """
    prefix = folder.rstrip("/") + "/"
    found: set[FileId] = set()
    # Only root is sure to see every process: others may not even be listed to a service
    # user (systemd's ProtectProc=invisible, hidepid).
    complete = os.geteuid() == 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found, False
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue  # gone meanwhile
        except OSError:
            complete = False  # not ours to look at
            continue
        for fd in fds:
            link = f"{fd_dir}/{fd}"
            try:
                if not os.readlink(link).startswith(prefix):
                    continue
                st = os.stat(link)
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
    return found, complete


def held_open_elsewhere(path: str) -> bool | None:
    """True if another process has ``path`` open, False if none has, None if the kernel will
    not say (not the owner, or leases switched off)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
    except OSError as err:
        return True if err.errno == errno.EAGAIN else None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)
