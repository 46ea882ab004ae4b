"""`balupi setup` finds the plug with python-kasa's discovery and checks the account on it.

The simulated P110 runs as its own process (`balupi-sim tapo --discovery-port 20002`) on an
address of its own in 127/8, so the probe python-kasa sends to UDP 20002 there reaches only it.
Setup runs as the real command with `--discover ADDRESS` aimed at that address: discovery,
the KLAP login on the port the discovery answer names, and the config it writes, all unmocked.
"""

from __future__ import annotations

import os
import pty
import random
import re
import select
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from balupi.config import load_config
from tests.waiting import wait_for

BIN = Path(sys.executable).parent
USERNAME = "nas-owner@example.com"
PASSWORD = "plug-secret-1"
MAC = "5C-62-8B-4E-21-A7"  # the sim's default


def _loopback_address() -> str:
    """An address in 127/8 no other test is likely to use (UDP 20002 is fixed)."""
    return f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"


def _started(proc: subprocess.Popen[str], log: Path, wanted: str) -> str | None:
    """The process's output once it shows ``wanted`` or the process has ended."""
    text = log.read_text()
    return text if wanted in text or proc.poll() is not None else None


class Sim:
    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc, self.host, self.port = proc, host, port


def _start_sim(tmp_path: Path, *, discovery: bool) -> Sim:
    host = _loopback_address()
    log = tmp_path / f"sim-{host}.log"
    args = [str(BIN / "balupi-sim"), "tapo", "--host", host, "--port", "0", "--power", "41.5"]
    args += ["--username", USERNAME] + (["--discovery-port", "20002"] if discovery else [])
    with log.open("w") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "BALUPI_SIM_TAPO_PASSWORD": PASSWORD},
        )
    wanted = "answering discovery" if discovery else "listening on"
    text = wait_for(lambda: _started(proc, log, wanted), what=f"the Tapo sim on {host} to start")
    match = re.search(rf"listening on http://{re.escape(host)}:(\d+)", text)
    assert proc.poll() is None and match, text
    return Sim(proc, host, int(match.group(1)))


@pytest.fixture(scope="module")
def pihole(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A Pi-hole (the sim) so that setup's config is whole; its URL and app password file."""
    work = tmp_path_factory.mktemp("pihole")
    app_password = work / "app-password"
    app_password.write_text("pihole-app-pw\n")
    log = work / "sim.log"
    with log.open("w") as out:
        proc: subprocess.Popen[str] = subprocess.Popen(
            [
                *(str(BIN / "balupi-sim"), "pihole", "--host", "127.0.0.1", "--port", "0"),
                *("--no-dns", "--app-sudo", "--workdir", str(work / "state")),
                *("--app-password-file", str(app_password)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "BALUPI_SIM_PIHOLE_PASSWORD": "web-pw"},
        )
    text = wait_for(lambda: _started(proc, log, "API on"), what="the Pi-hole sim to start")
    match = re.search(r"API on (http://127\.0\.0\.1:\d+)/api", text)
    assert proc.poll() is None and match, text
    yield match.group(1), app_password
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[list[Sim]]:
    started: list[Sim] = []
    yield started
    for sim in started:
        sim.proc.terminate()
        sim.proc.wait(10)


def _setup_args(etc: Path, password: str, pihole: tuple[str, Path], *extra: str) -> list[str]:
    password_file = etc.parent / "tapo-password-given"
    password_file.write_text(password + "\n")
    return [
        str(BIN / "balupi"),
        "setup",
        "--etc",
        str(etc),
        "--no-restart",
        "--tapo-username",
        USERNAME,
        "--tapo-password-file",
        str(password_file),
        "--price-per-kwh",
        "0.3",
        "--nas-ip",
        "127.0.0.1",
        "--nas-mac",
        "02:00:00:00:00:01",
        "--nas-url",
        "http://127.0.0.1:1",
        "--pi-ip",
        "127.0.0.1",
        "--pihole-url",
        pihole[0],
        "--pihole-password-file",
        str(pihole[1]),
        "--no-inbox",
        *extra,
    ]


def _run_setup(
    etc: Path, password: str, pihole: tuple[str, Path], *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_setup_args(etc, password, pihole, "--non-interactive"), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _plugs_written(etc: Path) -> list[dict]:
    return list(tomllib.loads((etc / "balupi.toml").read_text())["tapo"]["plugs"])


def test_setup_discovers_the_plug_and_the_account_logs_in(tmp_path, sims, pihole):
    sims.append(sim := _start_sim(tmp_path, discovery=True))
    etc = tmp_path / "etc"

    run = _run_setup(etc, PASSWORD, pihole, "--discover", sim.host)

    assert run.returncode == 0, run.stdout + run.stderr
    # Found: its address with the HTTP port from the discovery answer, model and MAC.
    assert f"1. {sim.host}:{sim.port}  P110  MAC {MAC.replace('-', ':')}" in run.stdout
    # The account checked on the plug found: a KLAP login and a power reading.
    assert f"plug nas ({sim.host}): OK, 41.5 W" in run.stdout
    assert _plugs_written(etc) == [{"name": "nas", "host": sim.host, "port": sim.port}]


def test_wrong_password_is_refused_with_setup_s_message(tmp_path, sims, pihole):
    sims.append(sim := _start_sim(tmp_path, discovery=True))
    etc = tmp_path / "etc"

    run = _run_setup(etc, "not-the-password", pihole, "--discover", sim.host)

    assert run.returncode == 1, run.stdout + run.stderr
    assert f"1. {sim.host}:{sim.port}  P110" in run.stdout  # discovery needs no account
    assert (
        f"! plug nas: plug 'nas' ({sim.host}:{sim.port}) refused the credentials: "
        "check tapo.username and the password" in run.stderr
    )
    assert "not-the-password" not in run.stdout + run.stderr
    # The plug is kept, so fixing the password file and running setup again is enough.
    assert _plugs_written(etc) == [{"name": "nas", "host": sim.host, "port": sim.port}]


def test_nothing_answers_non_interactive_says_so_and_writes_no_plug(tmp_path, sims, pihole):
    sims.append(sim := _start_sim(tmp_path, discovery=False))  # a plug that does not answer
    etc = tmp_path / "etc"

    run = _run_setup(etc, PASSWORD, pihole, "--discover", sim.host)

    assert f"no Tapo plug answered on {sim.host}" in run.stdout, run.stdout + run.stderr
    assert "--plug nas=HOST" in run.stdout
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tapo" not in tomllib.loads((etc / "balupi.toml").read_text())


class _Terminal:
    """setup on a pseudo-terminal, as a person runs it: read up to a prompt, type an answer."""

    def __init__(self, args: list[str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        self.seen = ""
        self._unread = 0  # where the next read_until starts looking

    def read_until(self, text: str, timeout: float = 60) -> str:
        """Read until ``text`` appears after what earlier calls matched."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self._unread :]:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(0.0, left))
            if not ready:
                raise AssertionError(
                    f"no {text!r} in {timeout} s; the terminal shows:\n{self.seen}"
                )
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the process ended and closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"setup ended before {text!r}:\n{self.seen}")
            self.seen += chunk.decode(errors="replace")
        self._unread = self.seen.index(text, self._unread) + len(text)
        return self.seen

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self) -> int:
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 60)
                chunk = os.read(self.master, 4096) if ready else b""
                if not chunk:
                    break
                self.seen += chunk.decode(errors="replace")
        except OSError:
            pass
        os.close(self.master)
        return self.proc.wait(60)


def test_nothing_answers_and_the_person_types_the_address(tmp_path, sims, pihole):
    sims.append(sim := _start_sim(tmp_path, discovery=False))
    etc = tmp_path / "etc"
    term = _Terminal(_setup_args(etc, PASSWORD, pihole, "--discover", sim.host))

    term.read_until(f"no Tapo plug answered on {sim.host}")
    term.read_until("Address of the plug that measures the NAS (empty: none): ")
    term.type(f"{sim.host}:http")  # a typing error is asked again, not a traceback
    term.read_until("give HOST or HOST:PORT with a port from 1 to 65535")
    term.read_until("Address of the plug that measures the NAS (empty: none): ")
    term.type(f"{sim.host}:{sim.port}")
    term.read_until("The NAS's MAC address (Wake-on-LAN) [02:00:00:00:00:01]: ")
    term.type("")
    status = term.finish()

    assert f"plug nas ({sim.host}): OK, 41.5 W" in term.seen, term.seen
    assert status == 0, term.seen
    assert _plugs_written(etc) == [{"name": "nas", "host": sim.host, "port": sim.port}]


def test_without_pihole_setup_writes_a_config_its_own_check_accepts(tmp_path, sims, pihole):
    sims.append(sim := _start_sim(tmp_path, discovery=True))
    etc = tmp_path / "etc"

    run = _run_setup(etc, PASSWORD, pihole, "--discover", sim.host, "--pihole-url", "")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "addn-hosts=/var/lib/balupi/baluhost.hosts" in run.stdout
    config = load_config(etc / "balupi.toml")  # what `balupi check-config` runs
    assert config.dns is not None and config.dns.backend == "hostsfile"
    assert config.dns.hostsfile.pid_file == Path("/run/dnsmasq/dnsmasq.pid")
    assert config.pihole is None


@pytest.mark.parametrize("spec", ["nas=10.0.0.5:http", "nas=10.0.0.5:0", "=10.0.0.5", "nas"])
def test_a_bad_plug_flag_is_refused_with_a_clear_message(tmp_path, spec):
    run = subprocess.run(
        [str(BIN / "balupi"), "setup", "--etc", str(tmp_path), "--non-interactive",
         "--plug", spec],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"argument --plug: {spec!r}" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "balupi.toml").exists()  # nothing written
