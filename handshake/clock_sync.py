"""Whether the Pi's wall clock is synchronised (NTP), so that timestamps can be held to it.

A Pi 3B+ has no real-time clock: after a power cut it boots with the time fake-hwclock saved at
the last shutdown until NTP steps it. The kernel knows: adjtimex() reports TIME_ERROR while the
clock is unsynchronised. Where seccomp refuses adjtimex (the unit's SystemCallFilter drops
@clock), systemd-timesyncd's marker file tells the same.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

TIME_ERROR = 5  # adjtimex(2): "clock not synchronized"
TIMESYNCD_MARKER = Path("/run/systemd/timesync/synchronized")
_TIMEX_SIZE = 512  # struct timex is 208 bytes on 64-bit; room to spare


def _adjtimex_state() -> int | None:
    """adjtimex()'s clock state with modes 0 (a read), or None when it cannot be asked."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    buf = ctypes.create_string_buffer(_TIMEX_SIZE)  # zeroed: modes = 0 reads only
    state = libc.adjtimex(buf)
    return None if state < 0 else int(state)


def clock_synchronised() -> bool:
    state = _adjtimex_state()
    if state is not None:
        return state != TIME_ERROR
    return TIMESYNCD_MARKER.exists()
