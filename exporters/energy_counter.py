"""A monotonic energy counter in joules, built from the plug's daily and monthly totals.

The plug counts only "today" and "this month" (in Wh) and resets them at local midnight and at
the start of a month; it has no running total. Prometheus's increase() needs one, so we add up
the month's growth between reads (it includes today, and midnight does not reset it), and
today's value when the month total went down (a new month began). Only the energy between the
last read before the month turns and midnight is lost, at most one scrape interval's worth.
"Today" alone would not do: a read at 23:00 with 0 Wh and one at 01:00 with 500 Wh look like
one day's growth, but the month knows the 500 Wh drawn before midnight too.
"""

from __future__ import annotations

import time

JOULES_PER_WH = 3600.0


class EnergyCounter:
    def __init__(self) -> None:
        self.joules = 0.0
        self.created: float | None = None  # Unix time of the first read: the counter's start
        self._last_month: float | None = None

    def observe(self, today_wh: float, month_wh: float) -> float:
        if self._last_month is None:
            self.created = time.time()
        else:
            grown = month_wh - self._last_month
            if grown < 0:  # a new month: both totals started again
                grown = today_wh
            self.joules += grown * JOULES_PER_WH
        self._last_month = month_wh
        return self.joules
