"""The inbox on /metrics (a prometheus_client collector) and the ``balupi inbox`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from balupi.devstack.ports import free_port
from balupi.devstack.sshd import SshServer
from balupi.inbox import InboxCollector
from tests.inbox_helpers import Box, make_box

pytestmark = pytest.mark.integration


@pytest.fixture
def sshd(tmp_path):
    server = SshServer(tmp_path / "sshd", port=free_port()).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_follow_the_flushes(tmp_path, sshd):
    box = make_box(tmp_path, sshd)
    mover = box.mover()
    registry = CollectorRegistry()
    registry.register(InboxCollector(mover))
    before = samples(registry)
    assert before[("balupi_inbox_files", ())] == 0
    assert ("balupi_inbox_oldest_file_age_seconds", ()) not in before  # absent, not 0
    assert ("balupi_inbox_last_flush_timestamp_seconds", ()) not in before
    (box.inbox / "a").mkdir()
    (box.inbox / "a" / "one.txt").write_bytes(b"12345")
    (box.inbox / "two.txt").write_bytes(b"123")
    waiting = samples(registry)
    assert waiting[("balupi_inbox_files", ())] == 2
    assert waiting[("balupi_inbox_bytes", ())] == 8
    assert waiting[("balupi_inbox_oldest_file_age_seconds", ())] >= 0

    await mover.flush()
    after = samples(registry)
    assert after[("balupi_inbox_files", ())] == 0
    assert after[("balupi_inbox_moved_files_total", ())] == 2
    assert after[("balupi_inbox_moved_bytes_total", ())] == 8
    assert after[("balupi_inbox_flushes_total", (("result", "ok"),))] == 1
    assert after[("balupi_inbox_flushes_total", (("result", "failed"),))] == 0
    assert after[("balupi_inbox_last_flush_success", ())] == 1
    assert after[("balupi_inbox_last_flush_timestamp_seconds", ())] > 1.7e9
    assert after[("balupi_inbox_flush_running", ())] == 0

    (box.inbox / "three.txt").write_bytes(b"x")
    failing = box.mover(nas_port=free_port())  # a NAS that does not answer
    registry = CollectorRegistry()
    registry.register(InboxCollector(failing))
    await failing.flush()
    failed = samples(registry)
    assert failed[("balupi_inbox_flushes_total", (("result", "failed"),))] == 1
    assert failed[("balupi_inbox_last_flush_success", ())] == 0
    ((key, value),) = [(k, v) for k, v in failed.items() if k[0] == "balupi_inbox_last_error_info"]
    # rsync says 255 or 12 for a refused connection, depending on who notices first.
    assert value == 1 and "Connection refused" in dict(key[1])["error"]


def write_config(tmp_path: Path, box: Box) -> str:
    c = box.config
    path = tmp_path / "balupi.toml"
    path.write_text(
        f"""
[inbox]
nas_host = "{c.nas_host}"
nas_port = {c.nas_port}
nas_user = "{c.nas_user}"
nas_path = "{c.nas_path}"
ssh_key_file = "{c.ssh_key_file}"
known_hosts_file = "{c.known_hosts_file}"
path = "{c.path}"
staging_path = "{c.staging_path}"
settle_seconds = 0
"""
    )
    return str(path)


def test_inbox_command(tmp_path, sshd):
    box = make_box(tmp_path, sshd)
    config = write_config(tmp_path, box)
    (box.inbox / "neu.txt").write_bytes(b"hallo")
    cli = [sys.executable, "-m", "balupi.cli", "inbox"]
    run = subprocess.run([*cli, "status", "--config", config, "--json"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    assert json.loads(run.stdout)["files"] == 1
    run = subprocess.run([*cli, "flush", "--config", config], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "ok: moved 1 file(s), 5 bytes" in run.stderr
    assert (box.nas / "neu.txt").read_bytes() == b"hallo"
    run = subprocess.run([*cli, "status", "--config", config], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert ": 0 file(s), 0 bytes" in run.stdout
    none = tmp_path / "none.toml"
    none.write_text("")
    run = subprocess.run([*cli, "status", "--config", str(none)], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 2 and "no [inbox] table" in run.stderr
