"""balupi-exporter with 4 simulated plugs: scrape latency, throughput, device requests per
scrape under concurrency, and resident memory after 10,000 scrapes against a bare floor process.

Run: .venv/bin/python -m bench.exporter_scrape  [--scrapes 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess
from bench.load import LoadResult, load

BIN = Path(sys.executable).parent
USER, PASSWORD = "bench@example.com", "bench-password"
PLUGS = 4
REPO = Path(__file__).resolve().parents[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def plug_requests(ports: list[int]) -> int:
    total = 0
    for port in ports:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sim/state", timeout=5) as a:
            total += json.load(a)["request_count"]
    return total


def show(name: str, r: LoadResult) -> None:
    print(
        f"{name:<34} p50 {r.median * 1000:7.2f} ms  p99 {r.percentile(99) * 1000:7.2f} ms  "
        f"{r.per_second:8.1f} req/s  ({r.requests} requests)"
    )


async def run(scrapes: int, workdir: Path) -> None:
    env = {"BALUPI_SIM_TAPO_PASSWORD": PASSWORD, "BALUPI_TAPO_PASSWORD": PASSWORD}
    procs: list[ManagedProcess] = []
    try:
        plug_ports = [free_port() for _ in range(PLUGS)]
        for i, port in enumerate(plug_ports):
            procs.append(ManagedProcess(
                f"plug{i}",
                [str(BIN / "balupi-sim"), "tapo", "--port", str(port), "--power", str(30 + i),
                 "--username", USER],
                log_path=workdir / f"plug{i}.log", env=env,
            ).start())  # fmt: skip
        exporter_port, floor_port = free_port(), free_port()
        config = workdir / "balupi.toml"
        config.write_text(
            f'[exporter]\nlisten_host = "127.0.0.1"\nlisten_port = {exporter_port}\n'
            f'[tapo]\nusername = "{USER}"\npassword_env = "BALUPI_TAPO_PASSWORD"\n'
            + "".join(
                f'[[tapo.plugs]]\nname = "plug{i}"\nhost = "127.0.0.1"\nport = {p}\n'
                for i, p in enumerate(plug_ports)
            )
        )
        exporter = ManagedProcess(
            "exporter", [str(BIN / "balupi-exporter"), "--config", str(config)],
            log_path=workdir / "exporter.log", env=env,
        ).start()  # fmt: skip
        floor = ManagedProcess(
            "floor", [sys.executable, "-m", "bench.floor_server", str(floor_port)],
            log_path=workdir / "floor.log", cwd=REPO,
        ).start()  # fmt: skip
        procs += [exporter, floor]
        for i, port in enumerate(plug_ports):
            procs[i].wait_http(f"http://127.0.0.1:{port}/sim/state")
        exporter.wait_http(f"http://127.0.0.1:{exporter_port}/")
        floor.wait_http(f"http://127.0.0.1:{floor_port}/")

        url = f"http://127.0.0.1:{exporter_port}/metrics?collect[]=tapo"
        floor_url = f"http://127.0.0.1:{floor_port}/metrics"
        await load(url, requests=5, concurrency=1)  # connect and hand-shake every plug

        print(f"== balupi-exporter, {PLUGS} simulated plugs (KLAP), loopback ==")
        before = plug_requests(plug_ports)
        sequential = await load(url, requests=200, concurrency=1)
        per_scrape_seq = (plug_requests(plug_ports) - before) / sequential.requests
        show("sequential scrapes", sequential)
        before = plug_requests(plug_ports)
        concurrent = await load(url, requests=1000, concurrency=16)
        per_scrape_conc = (plug_requests(plug_ports) - before) / concurrent.requests
        show("16 concurrent scrapers", concurrent)
        floor_load = await load(floor_url, requests=1000, concurrency=16)
        show("floor: trivial route, 16 concurrent", floor_load)
        print(
            f"exporter / floor, same load: p50 x{concurrent.median / floor_load.median:.1f}"
            f", p99 x{concurrent.percentile(99) / floor_load.percentile(99):.1f}"
        )
        ratio = per_scrape_conc / per_scrape_seq
        print(
            f"device requests per scrape: sequential {per_scrape_seq:.2f}, "
            f"16 concurrent {per_scrape_conc:.2f} (ratio {ratio:.2f}: below 1 = shared)"
        )

        print(f"\n== memory after {scrapes} scrapes ==")
        done = sequential.requests + concurrent.requests + 5
        await load(url, requests=max(0, scrapes - done), concurrency=8, progress="scrapes")
        await load(floor_url, requests=1000, concurrency=8)
        exporter_rss = rss_mib(exporter.pid)
        floor_rss = rss_mib(floor.pid)
        print(f"balupi-exporter RSS {exporter_rss:6.1f} MiB")
        print(f"floor process RSS   {floor_rss:6.1f} MiB  (aiohttp + prometheus-client + kasa)")
        print(f"above the floor     {exporter_rss - floor_rss:6.1f} MiB  (target: within 6 MiB; "
              f"ratio {exporter_rss / floor_rss:.3f})")  # fmt: skip
    finally:
        for proc in reversed(procs):
            proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scrapes", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="balupi-bench-") as tmp:
        asyncio.run(run(args.scrapes, Path(tmp)))


if __name__ == "__main__":
    main()
