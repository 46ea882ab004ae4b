"""Soak: the whole stack through hundreds of planned sleeps, suspends and unannounced outages.

Simulated plug, Pi-hole (real dnsmasq), NAS and the NAS's disk (Debian's sshd); our exporter and
handshake service; Debian's Prometheus with the repository's rules and Alertmanager with its
alertmanager.yml, both with shortened timings, notifying a webhook of this benchmark. Files are
dropped into the inbox during the cycles and must all reach the NAS's disk exactly once.

    .venv/bin/python -m bench.soak [--cycles N]     (default 250: about 11 minutes)

Prints: false takeovers (goal 0), missed takeovers (0), outage alerts per unannounced outage
(exactly 1) and per planned sleep (0), inbox files lost (0), RSS and open files of each
service at start and end (flat), Pi-hole sessions held (at most 1), and the time until a
client resolves baluhost.local to the Pi after an outage (goal takeover + TTL) and after a
planned sleep (goal under TTL + 1 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from balupi.devstack.alertmanager import Alertmanager
from balupi.devstack.alertmanager import render_config as render_alertmanager
from balupi.devstack.dnsmasq import dig
from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import Prometheus, render_config, render_rules
from balupi.devstack.sshd import SshServer
from balupi.handshake.cross_site import DASHBOARD_HEADERS
from tests.waiting import wait_for

BIN = Path(sys.executable).parent
SECRET = "soak-handshake-secret-0123456789"  # a benchmark's secret, loopback only
PASSWORD = "soak-password"  # the simulated plug's and Pi-hole's, loopback only
NAS_IP, PI_IP, NAS_MAC = "192.0.2.10", "192.0.2.20", "02:00:00:00:00:10"
HOSTNAME = "baluhost.local"
TTL = 2
INTERVAL, RETRY, TIMEOUT, MISSES = 0.5, 0.2, 0.5, 3
TAKEOVER = INTERVAL + MISSES * (TIMEOUT + RETRY)  # the heartbeat's worst case
WARM_UP = 10  # cycles before the second RSS reading: connection pools and caches have filled
EVAL = "500ms"  # Prometheus's scrape and rule interval here (15 s / 30 s on a Pi)
ENV = {
    "BALUPI_HANDSHAKE_SECRET": SECRET,
    "BALUPI_SIM_TAPO_PASSWORD": PASSWORD,
    "BALUPI_TAPO_PASSWORD": PASSWORD,
    "BALUPI_SIM_PIHOLE_PASSWORD": PASSWORD,
    "BALUPI_PIHOLE_PASSWORD": PASSWORD,
}


class Webhook:
    """Alertmanager's receiver: every firing NasDownUnannounced alert, by its start time."""

    def __init__(self) -> None:
        firing = self.firing = set[str]()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                note = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                for alert in note.get("alerts", []):
                    if (alert["labels"].get("alertname") == "NasDownUnannounced"
                            and alert["status"] == "firing"):  # fmt: skip
                        firing.add(alert["startsAt"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/balupi-alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def http(url: str, body: dict | None = None, timeout: float = 40) -> dict:
    data = None if body is None else json.dumps(body).encode()
    # The dashboard's header: the wake and flush buttons refuse requests without it.
    asked = urllib.request.Request(url, data=data, headers=DASHBOARD_HEADERS)
    with urllib.request.urlopen(asked, timeout=timeout) as a:
        return json.load(a)


def until(condition: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until ``condition`` held (tests.waiting polls it); fails after ``timeout``."""
    t0 = time.monotonic()
    wait_for(condition, what=what, timeout=timeout)
    return time.monotonic() - t0


def usage(pid: int) -> tuple[float, int]:
    """(RSS in MiB, open file descriptors) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Soak:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[ManagedProcess] = []
        self.webhook = Webhook()
        p = self.ports = {name: free_port() for name in (
            "plug", "pihole", "dns", "nas", "control", "handshake", "exporter", "am", "prom",
            "sshd")}  # fmt: skip
        self.wol = free_udp_port()
        self.api = f"http://127.0.0.1:{p['handshake']}"
        self.control = f"http://127.0.0.1:{p['control']}/sim/control"
        self.disk = work / "nas-disk"
        self.inbox = work / "inbox"
        self.sshd = SshServer(work / "sshd", port=p["sshd"])

    def config(self) -> Path:
        p = self.ports
        path = self.work / "balupi.toml"
        path.write_text(f"""\
[exporter]
listen_host = "127.0.0.1"
listen_port = {p["exporter"]}

[tapo]
username = "soak@balupi.local"
password_env = "BALUPI_TAPO_PASSWORD"

[[tapo.plugs]]
name = "nas"
host = "127.0.0.1"
port = {p["plug"]}

[pihole]
url = "http://127.0.0.1:{p["pihole"]}"
password_env = "BALUPI_PIHOLE_PASSWORD"

[handshake]
secret_env = "BALUPI_HANDSHAKE_SECRET"
listen_host = "127.0.0.1"
listen_port = {p["handshake"]}
state_file = "{self.work / "state.json"}"
snapshot_dir = "{self.work / "snapshot"}"
inbox_dir = "{self.inbox}"
wake_min_interval_seconds = 0

[nas]
url = "http://127.0.0.1:{p["nas"]}"
ip = "{NAS_IP}"
mac = "{NAS_MAC}"
wol_broadcast = "127.0.0.1"
wol_port = {self.wol}
heartbeat_interval_seconds = {INTERVAL}
heartbeat_retry_seconds = {RETRY}
heartbeat_timeout_seconds = {TIMEOUT}
misses_before_takeover = {MISSES}
successes_to_recover = 2
wake_poll_seconds = 0.1
wake_timeout_seconds = 20
health_grace_seconds = 30

[dns]
backend = "pihole"
hostname = "{HOSTNAME}"
pi_ip = "{PI_IP}"

[inbox]
nas_host = "127.0.0.1"
nas_port = {self.sshd.port}
nas_user = "{self.sshd.user}"
nas_path = "{self.disk}"
ssh_key_file = "{self.sshd.client_key}"
known_hosts_file = "{self.sshd.known_hosts}"
path = "{self.inbox}"
staging_path = "{self.work / "inbox-staging"}"
settle_seconds = 0
interval_seconds = 5
""")
        return path

    def start(self) -> None:
        p, work = self.ports, self.work
        for folder in (self.disk, self.inbox):
            folder.mkdir(parents=True, exist_ok=True)
        config = self.config()
        sim = str(BIN / "balupi-sim")

        def proc(name: str, argv: list[str]) -> ManagedProcess:
            made = ManagedProcess(name, argv, log_path=work / f"{name}.log", env=ENV).start()
            self.procs.append(made)
            return made

        self.procs.append(self.sshd.start())
        self.sshd.wait_ready()
        proc("plug", [sim, "tapo", "--host", "127.0.0.1", "--port", str(p["plug"]),
                      "--username", "soak@balupi.local"]).wait_http(
            f"http://127.0.0.1:{p['plug']}/sim/state")  # fmt: skip
        proc("pihole", [sim, "pihole", "--port", str(p["pihole"]), "--dns-port", str(p["dns"]),
                        "--workdir", str(work / "pihole"), "--local-ttl", str(TTL),
                        "--record", f"{PI_IP} {HOSTNAME}"]).wait_http(
            f"http://127.0.0.1:{p['pihole']}/sim/state")  # fmt: skip
        proc("nas", [sim, "nas", "--port", str(p["nas"]), "--control-port", str(p["control"]),
                     "--wol-port", str(self.wol), "--mac", NAS_MAC, "--boot-seconds", "0.3",
                     "--pi-url", self.api]).wait_http(
            f"http://127.0.0.1:{p['control']}/sim/state")  # fmt: skip
        self.handshake = proc("handshake", [str(BIN / "balupi-handshake"), "--config", str(config)])
        self.handshake.wait_http(f"{self.api}/api/health")
        self.exporter = proc("exporter", [str(BIN / "balupi-exporter"), "--config", str(config)])
        self.exporter.wait_http(f"http://127.0.0.1:{p['exporter']}/")
        am_text = render_alertmanager(self.webhook.url).replace(
            "group_interval: 5m", "group_interval: 1s"
        )  # a new outage is told at once
        am = Alertmanager(work / "am", am_text, port=p["am"])
        self.procs.append(am.start())
        targets = {"localhost:8000": f"127.0.0.1:{p['handshake']}",
                   "localhost:9877": f"127.0.0.1:{p['exporter']}",
                   "localhost:9093": f"127.0.0.1:{p['am']}",
                   "localhost:9090": f"127.0.0.1:{p['prom']}"}  # fmt: skip
        rules = render_rules(work / "rules", interval=EVAL)
        self.prometheus = Prometheus(
            work / "prom", render_config(targets, scrape_interval=EVAL, evaluation_interval=EVAL,
                                         rules_dir=rules), port=p["prom"])  # fmt: skip
        self.procs.append(self.prometheus.start())
        am.wait_ready()
        self.prometheus.wait_ready()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.webhook.server.shutdown()

    # -- readings ----------------------------------------------------------------------------

    def state(self) -> str:
        return http(f"{self.api}/api/status")["nas_state"]

    def resolves(self) -> str | None:
        return dig(self.ports["dns"], HOSTNAME)

    def takeovers(self) -> float:
        text = urllib.request.urlopen(f"{self.api}/metrics", timeout=10).read().decode()
        found = re.search(r"^balupi_nas_takeovers_total (\S+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    def sessions(self) -> tuple[int, int]:
        """(Pi-hole API sessions open now, logins since it started)."""
        state = http(f"http://127.0.0.1:{self.ports['pihole']}/sim/state")
        return int(state["open_sessions"]), int(state["logins"])

    def evaluations(self) -> float:
        result = self.prometheus.query(
            'sum(prometheus_rule_group_iterations_total{rule_group=~".*balupi-nas"})'
        )
        return float(result[0]["value"][1]) if result else 0.0  # fmt: skip

    def scraped(self, state: str) -> bool:
        return bool(self.prometheus.query(f'balupi_nas_state{{state="{state}"}} == 1'))

    def settle_rules(self) -> None:
        """Let Prometheus scrape the state and run the rules on it three times."""
        seen = self.evaluations()
        until(lambda: self.evaluations() >= seen + 3, 20, "three rule evaluations")


def cycle_kinds(suspend: bool) -> list[str]:
    return ["planned", "suspend", "outage"] if suspend else ["planned", "outage"]


def run_cycle(soak: Soak, kind: str, results: dict) -> None:
    before = soak.takeovers()
    t0, wall0 = time.monotonic(), time.time()
    if kind == "outage":
        # A dead NAS refuses connections; a hung one (frozen, cable pulled) answers nothing.
        outages = sum(1 for window in results["windows"] if window[0] == "outage")
        http(soak.control, {"action": "hang" if outages % 2 else "kill"})
        results["outage_dns"].append(until(lambda: soak.resolves() == PI_IP, 30, "DNS at Pi"))
        until(lambda: soak.scraped("unreachable"), 20, "Prometheus sees the outage")
        soak.settle_rules()
        if soak.takeovers() != before + 1:
            results["missed"] += 1
        http(soak.control, {"action": "revive"})
    else:
        action = "shutdown" if kind == "planned" else "suspend"
        http(soak.control, {"action": action})
        results["planned_dns"].append(until(lambda: soak.resolves() == PI_IP, 30, "DNS at Pi"))
        until(lambda: soak.scraped("offline"), 20, "Prometheus sees the planned sleep")
        soak.settle_rules()
        # The Pi's magic packet boots a sleeping NAS and resumes a suspended one.
        http(f"{soak.api}/api/wake-nas", {})
        results["false"] += soak.takeovers() - before
    until(lambda: soak.state() == "online" and soak.resolves() == NAS_IP, 30, "back online")
    held, results["logins"] = soak.sessions()
    results["max_sessions"] = max(results["max_sessions"], held)
    # The Prometheus side of "online" too, so the next outage starts from a resolved alert.
    until(lambda: soak.scraped("online"), 20, "Prometheus sees the NAS online")
    results["cycle_seconds"].append(time.monotonic() - t0)
    results["windows"].append((kind, wall0, time.time()))


def alerts_by_cycle(windows: list[tuple[str, float, float]], starts: set[str]) -> list[int]:
    """How many outage alerts began inside each cycle (by the alert's startsAt)."""
    times = [_unix(text) for text in starts]
    return [sum(1 for t in times if begin <= t <= end) for _, begin, end in windows]


def _unix(rfc3339: str) -> float:
    # Alertmanager writes nanoseconds; datetime reads up to microseconds.
    whole, _, rest = rfc3339.rstrip("Z").partition(".")
    fraction = float("0." + rest) if rest else 0.0
    return datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp() + fraction


def supports_suspend(soak: Soak) -> bool:
    """Whether this simulated NAS can suspend (issue 14, point 4)."""
    try:
        http(soak.control, {"action": "nothing"})
    except urllib.error.HTTPError as err:
        return "suspend" in err.read().decode()
    return False


def summary(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(values):.2f} s, p95 {p95:.2f} s, max {max(values):.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=250, help="sleep/wake cycles (all kinds)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="balupi-soak-"))
    soak = Soak(work)
    results: dict = {"false": 0.0, "missed": 0, "max_sessions": 0, "logins": 0, "outage_dns": [],
                     "planned_dns": [], "cycle_seconds": [], "windows": []}  # fmt: skip
    counts = {"planned": 0, "suspend": 0, "outage": 0}
    dropped: list[str] = []
    try:
        print(f"Starting the stack in {work} ...", flush=True)
        soak.start()
        until(lambda: soak.state() == "online" and soak.resolves() == NAS_IP, 30, "online")
        kinds = cycle_kinds(supports_suspend(soak))
        if "suspend" not in kinds:
            print("The simulated NAS cannot suspend (issue 14, point 4): planned sleeps and "
                  "outages only.", flush=True)  # fmt: skip
        services = {"balupi-handshake": soak.handshake, "balupi-exporter": soak.exporter}
        start_usage = {name: usage(p.proc.pid) for name, p in services.items() if p.proc}
        warm_usage = dict(start_usage)
        t0 = time.monotonic()
        for i in range(args.cycles):
            kind = kinds[i % len(kinds)]
            # A file dropped into the inbox during every cycle, while the NAS is up or not.
            name = f"soak-{i:04d}.txt"
            (soak.inbox / name).write_text(f"cycle {i} {kind}\n")
            dropped.append(name)
            run_cycle(soak, kind, results)
            counts[kind] += 1
            if i + 1 == WARM_UP:
                warm_usage = {n: usage(p.proc.pid) for n, p in services.items() if p.proc}
            if (i + 1) % 10 == 0 or i + 1 == args.cycles:
                left = (time.monotonic() - t0) / (i + 1) * (args.cycles - i - 1)
                print(f"  cycle {i + 1}/{args.cycles} ({kind}); about {left:.0f} s left; "
                      f"takeovers false {results['false']:.0f}, missed {results['missed']}, "
                      f"alerts {len(soak.webhook.firing)}", flush=True)  # fmt: skip
        print("Waiting for the inbox to reach the NAS ...", flush=True)
        http(f"{soak.api}/api/inbox/flush", {})
        with contextlib.suppress(AssertionError):  # what did not arrive is reported below
            until(lambda: not any(soak.inbox.iterdir()), 60, "the inbox empty")
        # Alertmanager's last notification may still be on its way.
        with contextlib.suppress(AssertionError):
            until(lambda: len(soak.webhook.firing) >= counts["outage"], 15, "the last alerts")
    except AssertionError as err:  # a wait that ran out: the stack did not do its part
        print(f"\nThe soak stopped: {err}\nLogs in {work}", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        end_usage = {name: usage(p.proc.pid) for name, p in services.items()
                     if p.proc and p.running} if "services" in locals() else {}  # fmt: skip
        soak.stop()
    arrived = sorted(p.name for p in soak.disk.rglob("*") if p.is_file())
    lost = [n for n in dropped if n not in arrived]
    duplicates = len(arrived) - len(set(arrived)) + len([n for n in arrived if n not in dropped])
    outages = counts["outage"]
    planned = counts["planned"] + counts["suspend"]
    per_cycle = alerts_by_cycle(results["windows"], soak.webhook.firing)
    per_outage = [n for (kind, _, _), n in zip(results["windows"], per_cycle, strict=True)
                  if kind == "outage"]  # fmt: skip
    on_planned = sum(n for (kind, _, _), n in zip(results["windows"], per_cycle, strict=True)
                     if kind != "outage")  # fmt: skip
    exactly_one = sum(1 for n in per_outage if n == 1)
    alerts = len(soak.webhook.firing)
    print(f"""
Soak: {args.cycles} cycles ({counts["planned"]} planned sleeps, {counts["suspend"]} suspends, \
{outages} unannounced outages) in {time.monotonic() - t0:.0f} s
  false takeovers:            {results["false"]:.0f}   (goal 0)
  missed takeovers:           {results["missed"]}   (goal 0)
  outage alerts per outage:   {sum(per_outage) / outages if outages else 0:.2f}; exactly one \
for {exactly_one} of {outages} outages, none for {per_outage.count(0)}   (goal exactly 1)
  outage alerts per planned:  {on_planned / planned if planned else 0:.2f} ({on_planned} in \
{planned} planned sleeps; {alerts} alerts received in all)   (goal 0)
  inbox files lost:           {len(lost)} of {len(dropped)}, arrived twice or unknown: \
{duplicates}   (goal 0)
  Pi-hole sessions held:      at most {results["max_sessions"]} at once, {results["logins"]} \
logins in all (two services log in: handshake and exporter)   (goal at most 1 each)
  client resolves the Pi after an outage:  {summary(results["outage_dns"])}   \
(goal takeover + TTL = {TAKEOVER + TTL:.1f} s)
  client resolves the Pi after a planned sleep: {summary(results["planned_dns"])}   \
(goal under TTL + 1 = {TTL + 1} s)""")
    print(f"  RSS and open files at the start, after {WARM_UP} cycles and at the end:")
    for name, (rss, fds) in start_usage.items():
        rss_warm, fds_warm = warm_usage.get(name, (float("nan"), -1))
        rss_end, fds_end = end_usage.get(name, (float("nan"), -1))
        print(f"    {name}: RSS {rss:.1f} / {rss_warm:.1f} / {rss_end:.1f} MiB, "
              f"open files {fds} / {fds_warm} / {fds_end}")  # fmt: skip
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
