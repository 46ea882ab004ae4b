"""`balupi-nas` as systemd runs it on the NAS: the shutdown hook, the boot announcement and the
minimal health server, against the real handshake service."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess, http_ok
from balupi.handshake.states import NasState
from tests.handshake_helpers import SECRET
from tests.waiting import wait_for_async

BIN = Path(sys.executable).parent


async def balupi_nas(*args: str, secret: str | None = SECRET) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "BALUPI_HANDSHAKE_SECRET"}
    if secret is not None:
        env["BALUPI_HANDSHAKE_SECRET"] = secret
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "balupi-nas"), *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode is not None  # communicate() waits for the exit
    return proc.returncode, out.decode()


async def test_shutdown_hook_and_announce_online(make_stack, tmp_path):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    pi = str(stack.client.make_url("")).rstrip("/")
    snapshot = {"version": 1, "baluhost_version": "cli-test", "users": {"total": 1}}
    command = f"{sys.executable} -c 'print({json.dumps(json.dumps(snapshot))})'"

    code, out = await balupi_nas("shutdown-hook", "--pi-url", pi, "--snapshot-command", command)
    assert code == 0, out
    assert stack.controller.state is NasState.SHUTTING_DOWN
    stored = json.loads((stack.tmp_path / "snapshot" / "snapshot.json").read_text())
    assert stored == snapshot

    code, out = await balupi_nas("announce-online", "--pi-url", pi)
    assert code == 0 and "acknowledged" in out, out
    assert stack.controller.status().nas_state is NasState.ONLINE  # read anew after the call
    assert SECRET not in out


async def test_shutdown_hook_without_a_snapshot_still_announces(make_stack, tmp_path):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    pi = str(stack.client.make_url("")).rstrip("/")
    missing = tmp_path / "no-such-snapshot.json"
    code, out = await balupi_nas("shutdown-hook", "--pi-url", pi, "--snapshot-file", str(missing))
    assert code == 0 and "without a snapshot" in out, out
    assert stack.controller.state is NasState.SHUTTING_DOWN


async def test_exit_status_for_systemd():
    unreachable = f"http://127.0.0.1:{free_port()}"
    code, out = await balupi_nas(
        "announce-online", "--pi-url", unreachable, "--total-timeout", "0.5"
    )
    assert code == 1 and "gave up after" in out, out
    code, out = await balupi_nas("announce-online", "--pi-url", unreachable, secret=None)
    assert code == 2 and "no handshake secret" in out, out


async def test_a_wrong_secret_is_not_acknowledged(make_stack):
    stack = await make_stack()
    pi = str(stack.client.make_url("")).rstrip("/")
    code, out = await balupi_nas(
        "announce-online", "--pi-url", pi, "--total-timeout", "0.5", secret="wrong" * 8
    )
    assert code == 1 and "HTTP 401" in out and "does not match" in out, out


def test_health_server(tmp_path):
    port = free_port()
    server = ManagedProcess(
        "health-server",
        [str(BIN / "balupi-nas"), "health-server", "--host", "127.0.0.1", "--port", str(port)],
        log_path=tmp_path / "health.log",
    ).start()
    try:
        server.wait_http(f"http://127.0.0.1:{port}/api/health", timeout=20)
        assert http_ok(f"http://127.0.0.1:{port}/api/health")
    finally:
        server.stop()
