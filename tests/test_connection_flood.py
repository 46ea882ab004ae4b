"""A flood of idle, slowly-sending connections (no login needed) against balupi-handshake run as
systemd would, with a low open-file limit: new clients are still answered, the heartbeat keeps
the healthy NAS online, and the log stays small."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import shutil
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from balupi.devstack.ports import free_port, free_udp_port
from balupi.devstack.process import ManagedProcess, http_ok
from balupi.sim.nas.server import NasSimConfig, SimulatedNas
from tests.handshake_helpers import NAS_MAC, SECRET, write_config
from tests.waiting import wait_for_async

BIN = Path(sys.executable).parent
OPEN_FILES = 256  # far below the flood: without a bound it runs out of descriptors
FLOOD = 1000
pytestmark = pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit is missing")


class Flood:
    """FLOOD loopback connections that send a request head one byte a second and never end it;
    whatever the server closes is opened again, until stop(). In a process of its own, as a
    flood comes from other machines: in the test's process its loop would hold the GIL and
    delay the test's own client between connecting and sending its request."""

    def __init__(self, port: int) -> None:
        self.port = port
        fork = multiprocessing.get_context("fork")  # the open-file limit raised below is inherited
        self.stopping = fork.Event()
        self._opened = fork.Value("i", 0)
        self.process = fork.Process(target=self._run, daemon=True)

    @property
    def opened(self) -> int:
        return int(self._opened.value)

    def _connect(self) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=0.2)
            s.setblocking(False)
            s.send(b"GET /api/health HTTP/1.1\r\nHost: pi\r\nX-Slow: ")
        except OSError:
            return None
        with self._opened.get_lock():
            self._opened.value += 1
        return s

    def _run(self) -> None:
        conns: list[socket.socket | None] = []
        while not self.stopping.is_set() and len(conns) < FLOOD:
            conns.append(self._connect())
        while not self.stopping.wait(1.0):
            for i, s in enumerate(conns):
                try:
                    if s is None:
                        raise OSError
                    s.send(b"x")
                except OSError:
                    if s is not None:
                        s.close()
                    conns[i] = self._connect()
        for s in conns:
            if s is not None:
                s.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:  # loopback
        return json.loads(answer.read())


async def test_a_connection_flood_does_not_take_the_nas_offline(tmp_path, dnsmasq):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FLOOD + 200:
        pytest.skip(f"this process may open only {hard} files, the flood needs {FLOOD + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, FLOOD + 200), hard))
    nas_port, api_port = free_port(), free_port()
    nas = SimulatedNas(NasSimConfig(mac=NAS_MAC, api_port=nas_port, control_port=free_port(),
                                    wol_port=free_udp_port(), secret=SECRET))  # fmt: skip
    await nas.start()
    config = write_config(
        tmp_path, nas_port=nas_port, wol_port=free_udp_port(), hosts_file=dnsmasq.hosts_file,
        pid_file=dnsmasq.pid_file, handshake=f"listen_port = {api_port}",
    )  # fmt: skip
    service = ManagedProcess(
        "balupi-handshake",
        ["prlimit", f"--nofile={OPEN_FILES}:{OPEN_FILES}", "--",
         str(BIN / "balupi-handshake"), "--config", str(config)],
        log_path=tmp_path / "handshake.log",
    )  # fmt: skip
    base = f"http://127.0.0.1:{api_port}"
    flood = Flood(api_port)
    try:
        service.start()
        await asyncio.to_thread(service.wait_http, f"{base}/api/health")
        await wait_for_async(lambda: get_json(f"{base}/api/status")["nas_state"] == "online",
                    what="online before the flood")  # fmt: skip
        flood.process.start()
        await wait_for_async(lambda: flood.opened >= FLOOD, timeout=60, what="the flood opened")
        flood_began = time.monotonic()
        # For 8 s of flood (80 heartbeats): a new client gets its answer, the NAS stays online.
        while time.monotonic() - flood_began < 8:
            await wait_for_async(lambda: http_ok(f"{base}/api/health"), timeout=5,
                        what="an answer for a new client during the flood")  # fmt: skip
            status = await asyncio.to_thread(get_json, f"{base}/api/status")
            assert status["nas_state"] == "online", status
            await asyncio.sleep(0.5)  # pacing the checks, not a synchronisation
        assert flood.opened > FLOOD  # the server closed slow ones, the flood came back
    finally:
        flood.stopping.set()
        await asyncio.to_thread(flood.process.join, 10)
        service.stop()
        await nas.close()
    status_text = (tmp_path / "handshake.log").read_text()
    assert "heartbeat missed" not in status_text and "Traceback" not in status_text, status_text
    assert len(status_text.splitlines()) < 40, status_text[-3000:]


async def test_a_probe_that_cannot_be_made_here_is_no_missed_heartbeat(make_stack):
    import errno

    import aiohttp

    from balupi.handshake.health_probe import ProbeResult, _local_errno
    from balupi.handshake.states import NasState

    emfile = OSError(errno.EMFILE, "Too many open files")
    assert _local_errno(emfile)
    key = aiohttp.client_reqrep.ConnectionKey("nas", 80, False, True, None, None, None)
    assert _local_errno(aiohttp.ClientConnectorError(key, emfile))
    assert not _local_errno(OSError(errno.ECONNREFUSED, "refused"))  # that is the NAS's

    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    for _ in range(10):
        stack.controller.on_probe(ProbeResult(False, 0.0, "EMFILE", local=True))
    assert stack.controller.state is NasState.ONLINE
    assert stack.controller.status().heartbeat.misses == 0
