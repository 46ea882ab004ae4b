"""The NAS's units do what their comments promise: the shutdown hook runs whatever the boot
announcement did (its start cannot fail), the boot announcement retries in the background, and
a suspend is announced before sleep.target and the resume after it. Each unit's own command
lines run here, as systemd would run them, against the real handshake service."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from pathlib import Path

from balupi.devstack.ports import free_port
from balupi.handshake.states import NasState
from balupi.sim.nas.server import EXAMPLE_SNAPSHOT
from tests.handshake_helpers import NAS_IP, PI_IP, SECRET, dns_is
from tests.waiting import wait_for_async

UNITS = Path(__file__).resolve().parents[1] / "nas" / "systemd"
INSTALLED_BIN = "/opt/balupi/venv/bin/"


def unit(name: str) -> dict[str, list[str]]:
    """The unit's settings, each key with all its values in order (sections merged)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


async def run_line(line: str, pi_url: str, tmp_path: Path) -> int:
    """One Exec line as systemd runs it: "-" ignores its failure, ${BALUPI_PI_URL} from
    nas.env, the secret from $CREDENTIALS_DIRECTORY; this checkout's venv; the NAS's snapshot
    file in tmp_path. Returns the exit status systemd would see (0 for a "-" line)."""
    ignore = line.startswith("-")
    line = line.removeprefix("-").replace(INSTALLED_BIN, str(Path(sys.executable).parent) + "/")
    line = line.replace("${BALUPI_PI_URL}", pi_url)
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(EXAMPLE_SNAPSHOT))
    line = line.replace("/var/lib/baluhost/snapshot.json", str(snapshot))
    line = line.replace("--total-timeout 300", "--total-timeout 1")  # the Pi is down: end soon
    credentials = tmp_path / "credentials"
    credentials.mkdir(exist_ok=True)
    (credentials / "handshake-secret").write_text(SECRET)
    env = {"PATH": os.environ["PATH"], "CREDENTIALS_DIRECTORY": str(credentials)}
    proc = await asyncio.create_subprocess_exec(*shlex.split(line), env=env)
    code = await proc.wait()
    return 0 if ignore else code


def test_the_shutdown_hook_unit_cannot_fail_to_start():
    hook = unit("balupi-nas-handshake.service")
    assert hook["Type"] == ["oneshot"] and hook["RemainAfterExit"] == ["yes"]
    assert hook["ExecStart"] == ["/usr/bin/true"]  # systemd runs ExecStop= only after a start
    assert "shutdown-hook" in hook["ExecStop"][0]
    assert "balupi-nas-announce-online.service" in hook["Wants"][0]


def test_the_boot_announcement_retries_in_the_background():
    announce = unit("balupi-nas-announce-online.service")
    assert announce["Type"] == ["exec"]  # never holds up the boot
    assert announce["Restart"] == ["on-failure"] and announce["StartLimitIntervalSec"] == ["0"]
    # Stopped before the shutdown hook runs: no "online" after the "going offline".
    assert any("balupi-nas-handshake.service" in after for after in announce["After"])
    assert "announce-online" in announce["ExecStart"][0]


def test_the_sleep_unit_is_hooked_into_sleep_target():
    sleep = unit("balupi-nas-sleep.service")
    assert sleep["WantedBy"] == ["sleep.target"] and sleep["Before"] == ["sleep.target"]
    assert sleep["StopWhenUnneeded"] == ["yes"] and sleep["RemainAfterExit"] == ["yes"]
    assert sleep["ExecStart"][0].startswith("-") and "suspend-hook" in sleep["ExecStart"][0]
    assert sleep["ExecStop"][0].startswith("-") and "resume-hook" in sleep["ExecStop"][0]


async def test_with_the_pi_down_at_boot_the_next_shutdown_is_still_announced(make_stack, tmp_path):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    hook, announce = (
        unit("balupi-nas-handshake.service"),
        unit("balupi-nas-announce-online.service"),
    )
    closed = f"http://127.0.0.1:{free_port()}"  # the Pi is down while the NAS boots
    assert await run_line(announce["ExecStart"][0], closed, tmp_path) != 0  # -> Restart=
    assert await run_line(hook["ExecStart"][0], closed, tmp_path) == 0  # so ExecStop= will run
    pi = str(stack.client.make_url("")).rstrip("/")
    assert await run_line(hook["ExecStop"][0], pi, tmp_path) == 0
    assert stack.controller.state is NasState.SHUTTING_DOWN
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what=f"dig answers {PI_IP}")


async def test_the_sleep_unit_announces_suspend_and_resume(make_stack, tmp_path):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    sleep = unit("balupi-nas-sleep.service")
    pi = str(stack.client.make_url("")).rstrip("/")
    assert await run_line(sleep["ExecStart"][0], pi, tmp_path) == 0
    assert stack.controller.state is NasState.SHUTTING_DOWN
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, PI_IP), what=f"dig answers {PI_IP}")
    assert (stack.tmp_path / "snapshot" / "snapshot.json").exists()
    assert await run_line(sleep["ExecStop"][0], pi, tmp_path) == 0
    assert stack.controller.status().nas_state is NasState.ONLINE
    await wait_for_async(lambda: dns_is(stack.dnsmasq.port, NAS_IP), what=f"dig answers {NAS_IP}")
    # With the Pi down the suspend still goes on (the "-"), and so does the resume later.
    closed = f"http://127.0.0.1:{free_port()}"
    assert await run_line(sleep["ExecStart"][0].replace("20", "1"), closed, tmp_path) == 0
