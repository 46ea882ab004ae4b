"""Moving a file or folder without ever replacing what is at the target.

``os.rename`` silently replaces a file at the target, and an empty folder there. A flush moves
files between the inbox (which Samba users write at any moment) and the staging folder, so it
asks the kernel for renameat2(RENAME_NOREPLACE): the check and the move are one step.
"""

from __future__ import annotations

import ctypes
import errno
import os

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


def move_no_replace(src: str, dst: str) -> bool:
    """Move ``src`` to ``dst`` (same filesystem); False, and nothing moved, when ``dst`` exists.
    Raises OSError for every other failure (``src`` gone, no permission, another filesystem)."""
    if _renameat2 is not None:
        if (
            _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
            == 0
        ):
            return True
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            return False
        if err not in _UNSUPPORTED:
            raise OSError(err, os.strerror(err), src, None, dst)
    return _move_without_renameat2(src, dst)


def _move_without_renameat2(src: str, dst: str) -> bool:
    if not os.path.isdir(src) or os.path.islink(src):
        try:
            os.link(src, dst, follow_symlinks=False)  # fails when dst exists: the same guarantee
        except FileExistsError:
            return False
        os.unlink(src)
        return True
    # A folder cannot be hard-linked. rename() replaces only an empty folder at dst, so even a
    # folder made there in between loses nothing.
    if os.path.lexists(dst):
        return False
    os.rename(src, dst)
    return True
