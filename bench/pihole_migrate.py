"""`balupi pihole migrate` of a big Pi-hole: 100 adlists (100 domains each) and 10,000 domains
(exact and regex, allowed and denied), from one simulated Pi-hole with a real dnsmasq to
another, FTL restarts included (the simulator's restart takes --restart-seconds).

Baseline, measured in the same run on the same data: the bare teleporter round trip a script
would do (export from the source, import into the target, wait for FTL, run gravity), with none
of the migration's checks, backup, config filter or verification.

Run: .venv/bin/python -m bench.pihole_migrate [--rounds 3] [--restart-seconds 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

from balupi.devstack.ports import free_port
from balupi.pihole import teleporter
from balupi.pihole.client import PiholeClient
from balupi.pihole.ftl_restart import wait_for_restart
from balupi.pihole.migrate import End, Migration, Options, rebuild_gravity
from balupi.secret import Secret
from balupi.sim.pihole.model import SimSettings, SimulatedPihole
from balupi.sim.pihole.server import make_app

LISTS, PER_LIST, DOMAINS = 100, 100, 10_000
PASSWORD = "bench-pw"


async def start(
    settings: SimSettings, *, seeded: bool = False
) -> tuple[SimulatedPihole, web.AppRunner, str]:
    pihole = SimulatedPihole(settings)
    if seeded:
        seed(pihole)  # before dnsmasq starts, so it serves the records from the start
    runner = web.AppRunner(make_app(pihole), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return pihole, runner, f"http://127.0.0.1:{port}"


def seed(pihole: SimulatedPihole) -> None:
    g = pihole.gravity
    kids = g.add_group("kids")
    for i in range(LISTS):
        g.add_adlist(f"https://lists.example/{i}.txt", groups=(0, kids) if i % 10 == 0 else (0,))
    kinds = (
        [("deny", "exact")] * 14
        + [("allow", "exact")] * 4
        + [("deny", "regex"), ("allow", "regex")]
    )
    for i in range(DOMAINS):
        kind, match = kinds[i % len(kinds)]
        name = f"d{i}.example" if match == "exact" else rf"(^|\.)r{i}\.example$"
        g.add_domain(name, kind, match)
    for i in range(20):
        g.add_client(f"192.168.1.{100 + i}", groups=(kids,))
    list(pihole.rebuild_gravity())
    pihole.config["dns"]["hosts"] += [f"192.168.1.{i} host{i}.lan" for i in range(10, 60)]
    pihole.config["dns"]["cnameRecords"] = ["files.lan,host10.lan"]


def settings(tmp: Path, name: str, internet: dict[str, list[str]], restart: float) -> SimSettings:
    return SimSettings(
        password=PASSWORD,
        hosts=["192.168.1.2 baluhost.local"],
        dns_port=free_port(),
        workdir=tmp / name,
        restart_seconds=restart,
        list_contents=internet,
    )


async def baseline(source_url: str, target_url: str, restart_timeout: float) -> float:
    source = PiholeClient(source_url, Secret(PASSWORD, "bench"), request_timeout=60)
    target = PiholeClient(target_url, Secret(PASSWORD, "bench"), request_timeout=60)
    started = time.perf_counter()
    archive = await source.download("/teleporter")
    await target.upload(
        "/teleporter", teleporter.form(archive, teleporter.gravity_only()), what="import"
    )
    await wait_for_restart(target, timeout=restart_timeout, progress=lambda _: None)
    await rebuild_gravity(target, lambda _: None, timeout=600)
    took = time.perf_counter() - started
    await source.close()
    await target.close()
    return took


async def migration(source_url: str, target_url: str, backups: Path) -> float:
    options = Options(
        source=End(source_url, Secret(PASSWORD, "bench")),
        target=End(target_url, Secret(PASSWORD, "bench")),
        backup_dir=backups,
        request_timeout=60,
    )
    said: list[str] = []
    started = time.perf_counter()
    outcome = await Migration(options, said.append).run()
    took = time.perf_counter() - started
    if outcome.code != 0:
        raise RuntimeError("the migration failed:\n" + "\n".join(said[-30:]))
    return took


async def main(rounds: int, restart: float) -> None:
    internet = {
        f"https://lists.example/{i}.txt": [f"ad{j}.l{i}.example" for j in range(PER_LIST)]
        for i in range(LISTS)
    }
    times: dict[str, list[float]] = {"migrate": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="balupi-bench-migrate-") as folder:
        tmp = Path(folder)
        nas = settings(tmp, "nas", internet, restart)
        source, source_runner, source_url = await start(nas, seeded=True)
        print(
            f"source: {LISTS} adlists ({LISTS * PER_LIST} gravity domains), {DOMAINS} domains, "
            f"20 clients, 50 local records; FTL restart {restart:g} s; {rounds} rounds"
        )
        try:
            for r in range(rounds):
                # Both kinds in each round, each onto a fresh target, in alternating order.
                for kind in ("baseline", "migrate") if r % 2 == 0 else ("migrate", "baseline"):
                    target, runner, url = await start(
                        settings(tmp, f"pi{r}{kind}", internet, restart)
                    )
                    try:
                        if kind == "baseline":
                            took = await baseline(source_url, url, restart_timeout=60)
                        else:
                            took = await migration(source_url, url, tmp / "backups")
                        assert target.gravity.counts() == source.gravity.counts()
                    finally:
                        await runner.cleanup()
                    times[kind].append(took)
                    print(f"  round {r + 1}: {kind:8} {took:6.2f} s")
        finally:
            await source_runner.cleanup()
    m, b = statistics.median(times["migrate"]), statistics.median(times["baseline"])
    print(
        f"migration of {LISTS} adlists and {DOMAINS} domains: median {m:.2f} s; bare teleporter "
        f"round trip (baseline): median {b:.2f} s; ratio {m / b:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--restart-seconds", type=float, default=0.2)
    args = parser.parse_args()
    if args.rounds < 1 or args.restart_seconds < 0:
        sys.exit("--rounds must be at least 1 and --restart-seconds not negative")
    asyncio.run(main(args.rounds, args.restart_seconds))
