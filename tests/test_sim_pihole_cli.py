"""`balupi-sim pihole` refuses bad input with one clear line and exit code 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SIM = str(Path(sys.executable).parent / "balupi-sim")


def run(*args: str, password: str | None = "pw") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALUPI_SIM_PIHOLE")}
    if password is not None:
        env["BALUPI_SIM_PIHOLE_PASSWORD"] = password
    return subprocess.run(
        [SIM, "pihole", *args], capture_output=True, text=True, timeout=30, env=env, check=False
    )


@pytest.mark.parametrize(
    ("args", "password", "words"),
    [
        ((), None, "no password: set $BALUPI_SIM_PIHOLE_PASSWORD"),
        (("--port", "70000"), "pw", "--port must be 0..65535"),
        (("--max-sessions", "0"), "pw", "--max-sessions must be 1..100"),
        (("--restart-seconds", "-1"), "pw", "--restart-seconds must be 0..600"),
        (("--record", "10.0.0.1"), "pw", "--record wants 'IP NAME'"),
        (("--password-file", "/nonexistent/pw"), "pw", "cannot read /nonexistent/pw"),
    ],
)
def test_bad_arguments(args, password, words):
    result = run(*args, password=password)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_taken_ports_are_named(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        api = run("--port", str(port), "--no-dns")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            dns = run(
                "--port", "0", "--dns-port", str(udp.getsockname()[1]), "--workdir", str(tmp_path)
            )
    assert api.returncode == 2 and "address already in use" in api.stderr
    assert dns.returncode == 2 and "dnsmasq exited" in dns.stderr
    assert "Address already in use" in dns.stderr
