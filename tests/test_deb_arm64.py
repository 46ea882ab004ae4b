"""The .deb's code on arm64, the Pi's architecture: Debian bookworm's arm64 python3 and libraries
in a chroot, run by qemu-user-static, with this checkout's package unpacked there. The exporter
reads the simulated plug, which runs natively on the host; the handshake service answers its
health check; the operator's command its --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from balupi.devstack.demo import tapo_config
from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess
from tests import arm64_root
from tests.arm64_root import EM_AARCH64, REPO, Arm64Root, elf_machine
from tests.tapo_helpers import parse

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(arm64_root.unavailable() is not None, reason=str(arm64_root.unavailable())),
]

BIN = Path(sys.executable).parent
USER = "arm64@example.com"
PASSWORD = "arm64-sim-password"  # the simulated plug's, not a real one
POWER = 37.25  # the simulated plug's draw, in W
STARTUP = 120  # seconds for a service to answer: Python under emulation starts slowly


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arm64Root]:
    if (why := arm64_root.prepare()) is not None:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("deb")
    built = subprocess.run(
        [str(REPO / "packaging" / "build-deb"), "0.0.3~arm64", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    with Arm64Root(Path(built.stdout.strip().splitlines()[-1])) as unpacked:
        yield unpacked


def emulated(proc: ManagedProcess) -> bool:
    """The process (chroot, exec'd into the root's python3) runs in qemu's aarch64 emulator."""
    return "qemu-aarch64" in os.readlink(f"/proc/{proc.pid}/exe")


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None  # not listening yet


def plug_watts(url: str) -> float | None:
    text = get(url)
    return None if text is None else parse(200, text).value("tapo_power_watts", plug="nas")


def test_the_roots_python_is_arm64_code_and_runs(root):
    python = root.path("/usr/bin/python3").resolve()  # python3 -> python3.11, inside the root
    assert python.is_relative_to(root.merged)
    assert elf_machine(python) == EM_AARCH64
    said = root.run("/usr/bin/python3", "-c", "import platform; print(platform.machine())")
    assert (said.returncode, said.stdout.strip()) == (0, "aarch64"), said.stderr


def test_the_exporter_reads_the_simulated_plug(root, tmp_path):
    plug_port, port = free_port(), free_port()
    root.write("/etc/balupi/exporter.toml",
               tapo_config(exporter_port=port, plug_port=plug_port, user=USER))  # fmt: skip
    plug = ManagedProcess(
        "plug",
        [str(BIN / "balupi-sim"), "tapo", "--port", str(plug_port), "--username", USER,
         "--power", str(POWER)],
        log_path=tmp_path / "plug.log", env={"BALUPI_SIM_TAPO_PASSWORD": PASSWORD},
    ).start()  # fmt: skip
    exporter = ManagedProcess(
        "exporter",
        root.argv("/usr/bin/balupi-exporter", "--config", "/etc/balupi/exporter.toml",
                  env={"BALUPI_TAPO_PASSWORD": PASSWORD}),
        log_path=tmp_path / "exporter.log",
    ).start()  # fmt: skip
    try:
        plug.wait_http(f"http://127.0.0.1:{plug_port}/sim/state")
        url = f"http://127.0.0.1:{port}/metrics"
        exporter.wait_until(lambda: plug_watts(url) is not None, timeout=STARTUP,
                            what="tapo_power_watts on /metrics")  # fmt: skip
        assert plug_watts(url) == POWER
        assert emulated(exporter)
    finally:
        exporter.stop()
        plug.stop()


def test_the_handshake_service_answers_its_health_check(root, tmp_path):
    port, nas_port = free_port(), free_port()  # nothing listens on nas_port: the NAS sleeps
    root.write("/etc/balupi/handshake-secret", "arm64-test-secret-0123456789\n")
    root.write("/etc/balupi/handshake.toml", f"""\
[handshake]
secret_file = "/etc/balupi/handshake-secret"
listen_port = {port}
state_file = "/var/lib/balupi/state.json"
snapshot_dir = "/var/lib/balupi/snapshot"
inbox_dir = "/var/lib/balupi/inbox"

[nas]
url = "http://127.0.0.1:{nas_port}"
ip = "127.0.0.1"
mac = "02:00:00:00:00:10"

[dns]
backend = "hostsfile"
pi_ip = "127.0.0.2"
[dns.hostsfile]
path = "/var/lib/balupi/hosts"
reload_command = ["/bin/true"]
""")  # fmt: skip
    handshake = ManagedProcess(
        "handshake",
        root.argv("/usr/bin/balupi-handshake", "--config", "/etc/balupi/handshake.toml"),
        log_path=tmp_path / "handshake.log",
    ).start()  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/health"
        handshake.wait_until(lambda: get(url) is not None, timeout=STARTUP, what=url)
        assert json.loads(get(url) or "{}")["status"] == "ok"
        assert emulated(handshake)
    finally:
        handshake.stop()


def test_the_operators_command_answers_help(root):
    said = root.run("/usr/bin/balupi", "--help")
    assert said.returncode == 0, said.stderr
    assert "check-config" in said.stdout
