"""balupi-handshake against real dnsmasq and the simulated NAS: how fast `dig` follows the NAS.

  planned shutdown   nas-going-offline sent -> dig answers the Pi's address
  takeover           NAS killed (port closed) or hung (probes time out) without notice ->
                     dig answers the Pi's address (default settings)
  wake               NAS healthy -> dig answers the NAS's address (the NAS announces itself)
  nas-coming-online  answer latency p50/p99 (includes the DNS switch)
  memory             RSS after 2,000 heartbeats (interval shortened) and 10,000 API calls,
                     against a bare aiohttp + prometheus-client + wakeonlan process

Every figure is printed with a ratio against a baseline measured in the same run.
Run: .venv/bin/python -m bench.handshake_switch  [--takeover-runs 3] [--api-calls 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from balupi.devstack.dnsmasq import Dnsmasq, dig
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess
from balupi.handshake.signing import sign
from bench.exporter_scrape import rss_mib
from bench.load import load
from tests.waiting import wait_for, wait_for_async

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789abcdef"
NAS_IP, PI_IP, NAME = "192.0.2.10", "192.0.2.20", "baluhost.local"
MAC = "02:00:00:00:00:10"
ENV = {"BALUPI_HANDSHAKE_SECRET": SECRET}


class Part:
    """One handshake service with its own dnsmasq and simulated NAS."""

    def __init__(self, workdir: Path, name: str, nas_settings: str, announce: bool) -> None:
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True)
        self.port, self.nas_port, self.nas_control = free_port(), free_port(), free_port()
        self.wol_port = free_udp_port()
        self.dnsmasq = Dnsmasq(
            self.workdir / "dnsmasq", port=free_port(), hosts_file=self.workdir / "hosts"
        )
        self.url = f"http://127.0.0.1:{self.port}"
        config = self.workdir / "balupi.toml"
        config.write_text(f"""
[handshake]
secret_env = "BALUPI_HANDSHAKE_SECRET"
listen_port = {self.port}
state_file = "{self.workdir / "state.json"}"
snapshot_dir = "{self.workdir / "snapshot"}"
inbox_dir = "{self.workdir / "inbox"}"
wake_min_interval_seconds = 1
[nas]
url = "http://127.0.0.1:{self.nas_port}"
ip = "{NAS_IP}"
mac = "{MAC}"
wol_broadcast = "127.0.0.1"
wol_port = {self.wol_port}
{nas_settings}
[dns]
backend = "hostsfile"
pi_ip = "{PI_IP}"
[dns.hostsfile]
path = "{self.dnsmasq.hosts_file}"
pid_file = "{self.dnsmasq.pid_file}"
""")
        self.service = ManagedProcess(
            f"handshake-{name}",
            [str(BIN / "balupi-handshake"), "--config", str(config), "--log-level", "WARNING"],
            log_path=self.workdir / "handshake.log", env=ENV,
        )  # fmt: skip
        nas_argv = [str(BIN / "balupi-sim"), "nas", "--port", str(self.nas_port),
                    "--control-port", str(self.nas_control), "--wol-port", str(self.wol_port),
                    "--mac", MAC, "--boot-seconds", "2"]  # fmt: skip
        if announce:
            nas_argv += ["--pi-url", self.url]
        self.nas = ManagedProcess(
            f"sim-nas-{name}", nas_argv, log_path=self.workdir / "nas.log", env=ENV
        )

    def start(self) -> None:
        self.dnsmasq.start()
        self.dnsmasq.wait_ready()
        self.nas.start()
        self.nas.wait_http(f"http://127.0.0.1:{self.nas_control}/sim/state")
        self.service.start()
        self.service.wait_http(f"{self.url}/api/health")

    def stop(self) -> None:
        for proc in (self.service, self.nas, self.dnsmasq):
            proc.stop()

    def sim(self, action: str | None = None) -> dict:
        url = f"http://127.0.0.1:{self.nas_control}/sim/" + ("control" if action else "state")
        data = json.dumps({"action": action}).encode() if action else None
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as r:
            return json.load(r)

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/api/status", timeout=10) as r:
            return json.load(r)

    def heartbeats(self) -> float:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as r:
            text = r.read().decode()
        return sum(
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "balupi_nas_heartbeats_total"
        )

    def dig(self) -> str | None:
        return dig(self.dnsmasq.port, NAME)

    def answered_at(self, address: str) -> float | None:
        """The time.time() at which dig answered ``address``, if it does now: polled (with no
        pause: dig itself takes ~20 ms) to time a switch."""
        return time.time() if self.dig() == address else None

    def in_state(self, state: str) -> bool:
        return self.status()["nas_state"] == state


async def signed_post(
    session: aiohttp.ClientSession, url: str, path: str, body: dict | None, ts: float
) -> float:
    """One call as BaluHost makes it; returns its latency in seconds."""
    headers = sign(SECRET, "POST", path, body, ts)
    data = json.dumps(body).encode() if body is not None else None
    t0 = time.perf_counter()
    async with session.post(url + path, data=data, headers=headers) as answer:
        text = await answer.text()
        if answer.status != 200:
            raise RuntimeError(f"{path}: {answer.status} {text}")
    return time.perf_counter() - t0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def planned_and_coming_online(part: Part, runs: int) -> None:
    digs = []
    for _ in range(20):
        t0 = time.perf_counter()
        part.dig()
        digs.append(time.perf_counter() - t0)
    dig_ms = statistics.median(digs)
    print(f"baseline: one dig round trip            median {ms(dig_ms)}")

    switch, online = [], []
    async with aiohttp.ClientSession() as session:
        for i in range(runs):
            snap = {"version": 1, "generated_at": f"bench-{i}"}
            t0 = time.perf_counter()
            await signed_post(session, part.url, "/api/handshake/nas-going-offline", snap,
                              time.time())  # fmt: skip
            wait_for(
                lambda: part.answered_at(PI_IP), what="dig answers the Pi", timeout=10, interval=0
            )
            switch.append(time.perf_counter() - t0)
            # BaluHost sends no body; a tiny one keeps each signed call distinct, since the
            # same call twice in one second would be refused as a replay.
            path = "/api/handshake/nas-coming-online"
            online.append(await signed_post(session, part.url, path, {"bench": i}, time.time()))
            wait_for(
                lambda: part.answered_at(NAS_IP), what="dig answers the NAS", timeout=10, interval=0
            )
    health = await load(f"{part.url}/api/health", requests=runs, concurrency=1)
    print(
        f"planned shutdown -> dig answers the Pi    median {ms(statistics.median(switch))}  "
        f"max {ms(max(switch))}  ({runs} runs; target < 1 s; "
        f"{statistics.median(switch) / dig_ms:.1f}x one dig)"
    )
    p99, base99 = pct(online, 99), health.percentile(99)
    print(
        f"nas-coming-online answered              p50 {ms(statistics.median(online))}  "
        f"p99 {ms(p99)}  ({runs} calls; target p99 < 100 ms; {p99 / base99:.1f}x "
        f"GET /api/health p99 {ms(base99).strip()})"
    )


def wake(part: Part, runs: int) -> None:
    after_healthy, total = [], []
    for _ in range(runs):
        part.sim("shutdown")  # announces itself through balupi-nas, then sleeps
        wait_for(lambda: part.answered_at(PI_IP), what="dig answers the Pi", timeout=10, interval=0)
        t0 = time.time()
        with urllib.request.urlopen(
            urllib.request.Request(f"{part.url}/api/wake-nas", data=b""), timeout=10
        ) as r:
            if r.status != 202:
                raise RuntimeError(f"wake answered {r.status}")
        at = wait_for(
            lambda: part.answered_at(NAS_IP), what="dig answers the NAS", timeout=60, interval=0
        )
        healthy = part.sim()["healthy_since"]
        after_healthy.append(at - healthy)
        total.append(at - t0)
        time.sleep(1.1)  # the bench's rate limit is 1 s between magic packets
    print(
        f"wake: NAS healthy -> dig answers the NAS  median {ms(statistics.median(after_healthy))}"
        f"  max {ms(max(after_healthy))}  ({runs} runs; target < 3 s; "
        f"{max(after_healthy) / 3:.3f}x the target)"
    )
    print(
        f"wake: POST /api/wake-nas -> dig NAS      median {ms(statistics.median(total))}  "
        f"(includes the simulated 2 s boot; {statistics.median(total) / 2:.2f}x the boot)"
    )


def takeover(part: Part, runs: int, action: str) -> None:
    """``kill``: the port closes (probes refused at once); ``hang``: probes run into timeouts."""
    times = []
    for i in range(runs):
        wait_for(lambda: part.in_state("online"), what="the NAS online", timeout=60, interval=0.05)
        wait_for(
            lambda: part.answered_at(NAS_IP), what="dig answers the NAS", timeout=10, interval=0
        )
        t0 = time.time()
        part.sim(action)
        seen = wait_for(
            lambda: part.answered_at(PI_IP), what="dig answers the Pi", timeout=120, interval=0
        )
        times.append(seen - t0)
        print(f"  takeover ({action}) run {i + 1}: {times[-1]:.1f} s", flush=True)
        part.sim("revive")  # comes back and announces itself
    worst = 30 + 2 * 3 + 2.5  # interval + (misses - 1) * retry + probe timeout
    print(
        f"takeover, NAS {'killed' if action == 'kill' else 'hung':6} (defaults)   "
        f"median {statistics.median(times):6.1f} s  "
        f"max {max(times):6.1f} s  ({runs} runs; bound {worst:.1f} s; target < 45 s; "
        f"plan's 3 x 30 s = up to 120 s: {max(times) / 120:.2f}x)"
    )


async def api_calls(url: str, calls: int) -> None:
    """A realistic mix: dashboards polling status, Prometheus scraping, snapshots arriving."""
    gets = ["/api/status", "/api/handshake/status", "/api/health", "/metrics"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=8)) as session:

        async def one(i: int) -> None:
            if i % 5 == 0:
                snap = {"version": 1, "generated_at": f"bench-{i}", "files_summary": {"n": i}}
                await signed_post(session, url, "/api/handshake/snapshot", snap, time.time())
                return
            async with session.get(url + gets[i % len(gets)]) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"{answer.status}")

        for start in range(0, calls, 100):
            await asyncio.gather(*(one(i) for i in range(start, min(calls, start + 100))))


async def memory(workdir: Path, calls: int) -> None:
    part = Part(workdir, "memory", "heartbeat_interval_seconds = 0.01", announce=False)
    floor_port = free_port()
    floor = ManagedProcess(
        "floor", [sys.executable, "-m", "bench.handshake_floor", str(floor_port)],
        log_path=workdir / "floor.log", cwd=REPO,
    )  # fmt: skip
    try:
        part.start()
        floor.start()
        floor.wait_http(f"http://127.0.0.1:{floor_port}/api/health")
        await wait_for_async(
            lambda: part.heartbeats() >= 2000, what="2,000 heartbeats", timeout=300, interval=0.5
        )
        await api_calls(part.url, calls)
        await load(f"http://127.0.0.1:{floor_port}/api/health", requests=calls, concurrency=8)
        service_rss = rss_mib(part.service.pid)
        floor_rss = rss_mib(floor.pid)
        beats = part.heartbeats()
        print(f"balupi-handshake RSS {service_rss:6.1f} MiB  after {beats:.0f} heartbeats and "
              f"{calls} API calls")  # fmt: skip
        print(f"floor process RSS    {floor_rss:6.1f} MiB  (aiohttp + prometheus-client + "
              f"wakeonlan, {calls} requests)")  # fmt: skip
        print(f"above the floor      {service_rss - floor_rss:6.1f} MiB  (target: within 6 MiB; "
              f"ratio {service_rss / floor_rss:.3f})")  # fmt: skip
    finally:
        floor.stop()
        part.stop()


async def run(args: argparse.Namespace, workdir: Path) -> None:
    part = Part(workdir, "defaults", "", announce=True)
    try:
        part.start()
        wait_for(lambda: part.in_state("online"), what="the NAS online", timeout=60, interval=0.05)
        wait_for(
            lambda: part.answered_at(NAS_IP), what="dig answers the NAS", timeout=10, interval=0
        )
        print("== balupi-handshake, default heartbeat settings, dnsmasq via SIGHUP, loopback ==")
        await planned_and_coming_online(part, args.runs)
        wake(part, args.wake_runs)
        takeover(part, args.takeover_runs, "kill")
        takeover(part, args.hang_runs, "hang")
    finally:
        part.stop()
    print("\n== memory ==")
    await memory(workdir, args.api_calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="planned shutdowns / coming-online")
    parser.add_argument("--wake-runs", type=int, default=3)
    parser.add_argument("--takeover-runs", type=int, default=3)
    parser.add_argument("--hang-runs", type=int, default=1, help="takeovers of a hung NAS")
    parser.add_argument("--api-calls", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="balupi-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
