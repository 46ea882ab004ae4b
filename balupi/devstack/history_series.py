"""30 days of what the Pi's Prometheus would have scraped, as an OpenMetrics file for
`promtool tsdb create-blocks-from openmetrics`.

One NAS (balupi-handshake's series): asleep most of the day, woken 1-3 times a day for 1-3
hours, shut down with notice, now and then a wake that times out first or an outage without
notice. Two plugs: the NAS's (~40 W online, ~2 W asleep) and a steady one. Pi-hole's rolling
24-hour counts. Seeded, so every run writes the same file. The benchmarks use the Pi's default
targets; a running stack passes its own (``Targets``), so that the history and its live series
are one series each.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

DAY = 86400
STATES = ("online", "shutting_down", "offline", "waking", "unreachable")


@dataclass(frozen=True)
class Targets:
    """The labels each source's series carry: their scrape job's, and Pi-hole's hostname."""

    handshake: str = 'instance="localhost:8000",job="handshake"'
    tapo: str = 'instance="localhost:9877",job="tapo"'
    pihole: str = 'hostname="pi.hole",instance="localhost:9877",job="pihole"'
    # The NAS's plug ("nas", as the rules expect) and any others: a steady draw of ~9 W.
    plugs: tuple[str, ...] = ("nas", "router")


# What the NAS's plug reads in each state: booting draws most, a hung NAS keeps drawing.
WATTS = {"online": 40.0, "shutting_down": 30.0, "offline": 1.9, "waking": 46.0,
         "unreachable": 36.0}  # fmt: skip


@dataclass
class NasHistory:
    """The NAS's state changes and counted events, as (unix time, ...) in time order."""

    changes: list[tuple[int, str]] = field(default_factory=lambda: [])
    wakes: dict[str, list[int]] = field(default_factory=lambda: {"success": [], "timeout": []})
    outages: list[int] = field(default_factory=list)


def nas_history(start: int, days: int, rng: random.Random) -> NasHistory:
    h = NasHistory(changes=[(start, "offline")])
    for day in range(days):
        sessions = rng.choice((1, 2, 2, 3))
        window = (23 - 7) * 3600 // sessions  # the NAS is used between 07:00 and 23:00
        for n in range(sessions):
            begin = start + day * DAY + 7 * 3600 + n * window + rng.randrange(window // 3)
            if rng.random() < 0.1:  # a wake that timed out, retried a minute later
                h.changes += [(begin - 240, "waking"), (begin - 60, "offline")]
                h.wakes["timeout"].append(begin - 60)
            boot = rng.randrange(40, 90)
            end = min(begin + rng.randrange(3600, 3 * 3600), begin + window - 600)
            h.changes += [(begin, "waking"), (begin + boot, "online")]
            h.wakes["success"].append(begin + boot)
            if rng.random() < 0.08:  # gone without notice: hung until the next wake
                h.changes.append((end, "unreachable"))
                h.outages.append(end)
            else:
                h.changes += [(end, "shutting_down"), (end + 30, "offline")]
    return h


def states_at(h: NasHistory, times: range) -> list[str]:
    out, i = [], 0
    for t in times:
        while i + 1 < len(h.changes) and h.changes[i + 1][0] <= t:
            i += 1
        out.append(h.changes[i][1])
    return out


def counts_at(events: list[int], times: range) -> list[int]:
    out, i = [], 0
    for t in times:
        while i < len(events) and events[i] <= t:
            i += 1
        out.append(i)
    return out


def _series(f: TextIO, name: str, labels: str, times: range, values: list) -> None:
    f.write("\n".join(f"{name}{{{labels}}} {v} {t}" for t, v in zip(times, values, strict=True)))
    f.write("\n")


def write_openmetrics(path: Path, *, end: int, days: int = 30, step: int = 15, seed: int = 6,
                      targets: Targets = Targets(), start: int | None = None) -> int:  # fmt: skip
    """Writes the file; returns the number of samples in it. ``start`` (default: ``days``
    before ``end``) is the first day's beginning: at a local midnight, the NAS's hours of use
    (07:00 to 23:00) fall on the clock's."""
    rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not a secret
    if start is None:
        start = end - days * DAY
    else:
        days = -(-(end - start) // DAY)  # the days begun, today's too
    times = range(start, end + 1, step)
    h = nas_history(start, days, rng)
    states = states_at(h, times)
    samples = 0

    def family(f: TextIO, name: str, kind: str, series: list[tuple[str, str, list]]) -> None:
        nonlocal samples
        f.write(f"# TYPE {name} {kind}\n")
        for sample_name, labels, values in series:
            _series(f, sample_name, labels, times, values)
            samples += len(values)

    handshake, tapo = targets.handshake, targets.tapo
    with path.open("w") as f:
        family(f, "balupi_nas_state", "gauge", [
            ("balupi_nas_state", f'{handshake},state="{s}"', [int(x == s) for x in states])
            for s in STATES
        ])  # fmt: skip
        online = [0.0]
        for s in states[:-1]:
            online.append(online[-1] + (step if s == "online" else 0))
        family(f, "balupi_nas_online_seconds", "counter",
               [("balupi_nas_online_seconds_total", handshake, online)])  # fmt: skip
        family(f, "balupi_nas_wakes", "counter", [
            ("balupi_nas_wakes_total", f'{handshake},result="{r}"', counts_at(events, times))
            for r, events in h.wakes.items()
        ])  # fmt: skip
        outages = counts_at(h.outages, times)
        family(f, "balupi_nas_takeovers", "counter",
               [("balupi_nas_takeovers_total", handshake, outages)])  # fmt: skip
        nas = [round(WATTS[s] * rng.uniform(0.93, 1.07), 1) for s in states]
        steady = [round(rng.gauss(9.0, 0.3), 1) for _ in times]  # drawn even when unused
        watts = {p: nas if p == "nas" else steady for p in targets.plugs}
        family(f, "tapo_power_watts", "gauge", [
            ("tapo_power_watts", f'{tapo},plug="{p}"', w) for p, w in watts.items()
        ])  # fmt: skip
        family(f, "tapo_energy_joules", "counter", [
            ("tapo_energy_joules_total", f'{tapo},plug="{p}"', _integrate(w, step))
            for p, w in watts.items()
        ])  # fmt: skip
        family(f, "balupi_energy_price_per_kilowatt_hour", "gauge",
               [("balupi_energy_price_per_kilowatt_hour", f'{tapo},currency="EUR"',
                 [0.32] * len(times))])  # fmt: skip
        queries, blocked = _pihole(times, rng)
        family(f, "pihole_dns_queries_today", "gauge",
               [("pihole_dns_queries_today", targets.pihole, queries)])  # fmt: skip
        family(f, "pihole_ads_blocked_today", "gauge",
               [("pihole_ads_blocked_today", targets.pihole, blocked)])  # fmt: skip
        f.write("# EOF\n")
    return samples


def _integrate(watts: list[float], step: int) -> list[float]:
    joules, total = [], 0.0
    for w in watts:
        joules.append(round(total, 1))
        total += w * step
    return joules


def _pihole(times: range, rng: random.Random) -> tuple[list[int], list[int]]:
    """Rolling 24-hour counts: smooth, busier in the evening, about 15 % blocked."""
    queries, blocked = [], []
    for t in times:
        phase = 2 * math.pi * ((t % DAY) / DAY - 0.3)
        q = 18000 + 2500 * math.sin(phase) + rng.randrange(-50, 50)
        queries.append(int(q))
        blocked.append(int(q * (0.15 + 0.02 * math.sin(phase / 2))))
    return queries, blocked
