"""A monotonic energy counter in joules, built from the plug's daily and monthly totals.

The plug counts only "today" and "this month" (in Wh) and resets them at local midnight and at
the start of a month; it has no running total. Prometheus's increase() needs one, so we add up
the growth between reads: today's growth within a day, the month's growth across midnight, and
today's value across a month boundary (when both reset). Only the energy between the last read
before the month turns and midnight is lost, at most one scrape interval's worth.
"""

from __future__ import annotations

import time

JOULES_PER_WH = 3600.0


class EnergyCounter:
    def __init__(self) -> None:
        self.joules = 0.0
        self.created: float | None = None  # Unix time of the first read: the counter's start
        self._last: tuple[float, float] | None = None

    def observe(self, today_wh: float, month_wh: float) -> float:
        if self._last is None:
            self.created = time.time()
        else:
            last_today, last_month = self._last
            if today_wh >= last_today:
                grown = today_wh - last_today
            elif month_wh >= last_month:  # midnight passed, the month goes on
                grown = month_wh - last_month
            else:  # a new month: both totals started again
                grown = today_wh
            self.joules += grown * JOULES_PER_WH
        self._last = (today_wh, month_wh)
        return self.joules
