"""Moving a file or folder without ever replacing what is at the target.

``os.rename`` silently replaces a file at the target, and an empty folder there. A flush moves
files between the inbox (which Samba users write at any moment) and the staging folder, so it
asks the kernel for renameat2(RENAME_NOREPLACE): the check and the move are one step.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
# The errors of a kernel or filesystem that cannot do RENAME_NOREPLACE.
_UNSUPPORTED = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)

_libc = ctypes.CDLL(None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)  # glibc 2.28 and later
if _renameat2 is not None:
    _renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    _renameat2.restype = ctypes.c_int


def move_no_replace(
    src: str, dst: str, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None
) -> bool:
    """Move ``src`` to ``dst`` (same filesystem); False, and nothing moved, when ``dst`` exists.
    Raises OSError for every other failure (``src`` gone, no permission, another filesystem).
    With a ``*_dir_fd`` the path is a name in that open folder (renameat2's dirfd)."""
    src_at = _AT_FDCWD if src_dir_fd is None else src_dir_fd
    dst_at = _AT_FDCWD if dst_dir_fd is None else dst_dir_fd
    if _renameat2 is not None:
        if _renameat2(src_at, os.fsencode(src), dst_at, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return True
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            return False
        if err not in _UNSUPPORTED:
            raise OSError(err, os.strerror(err), src, None, dst)
    return _move_without_renameat2(src, dst, src_dir_fd, dst_dir_fd)


def _move_without_renameat2(
    src: str, dst: str, src_dir_fd: int | None, dst_dir_fd: int | None
) -> bool:
    st = os.stat(src, dir_fd=src_dir_fd, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode):
        try:
            # Fails when dst exists: the same guarantee.
            os.link(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, follow_symlinks=False)
        except FileExistsError:
            return False
        os.unlink(src, dir_fd=src_dir_fd)
        return True
    # A folder cannot be hard-linked. rename() replaces only an empty folder at dst, so even a
    # folder made there in between loses nothing.
    try:
        os.stat(dst, dir_fd=dst_dir_fd, follow_symlinks=False)
        return False
    except FileNotFoundError:
        pass
    os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
    return True
