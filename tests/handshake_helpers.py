"""Shared pieces of the handshake tests: a config on free ports, BaluHost's exact request bytes,
real dnsmasq, the simulated NAS, and a bounded wait for a condition."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path

from balupi.config import Config, load_config
from balupi.devstack.dnsmasq import dig

SECRET = "test-secret-0123456789abcdef-XYZ"
NAS_IP, PI_IP = "192.0.2.10", "192.0.2.20"
HOSTNAME = "baluhost.local"
NAS_MAC = "02:00:00:00:00:10"


def write_config(
    tmp_path: Path,
    *,
    nas_port: int,
    wol_port: int,
    hosts_file: Path,
    pid_file: Path,
    handshake: str = "",
    nas: str = "",
) -> Path:
    """A config on the given ports; ``handshake``/``nas`` lines replace the defaults below."""
    secret_file = tmp_path / "handshake-secret"
    secret_file.write_text(SECRET + "\n")
    handshake_lines = {
        "secret_file": f'"{secret_file}"',
        "state_file": f'"{tmp_path / "state" / "state.json"}"',
        "snapshot_dir": f'"{tmp_path / "snapshot"}"',
        "inbox_dir": f'"{tmp_path / "inbox"}"',
        "wake_min_interval_seconds": "0.5",
    }
    nas_lines = {
        "url": f'"http://127.0.0.1:{nas_port}"',
        "ip": f'"{NAS_IP}"',
        "mac": f'"{NAS_MAC}"',
        "wol_broadcast": '"127.0.0.1"',
        "wol_port": str(wol_port),
        "heartbeat_interval_seconds": "0.1",
        "heartbeat_retry_seconds": "0.05",
        "heartbeat_timeout_seconds": "1.0",
        "wake_poll_seconds": "0.05",
        "wake_timeout_seconds": "20",
        "health_grace_seconds": "60",
    }
    for table, extra in ((handshake_lines, handshake), (nas_lines, nas)):
        for line in extra.splitlines():
            if "=" in line:
                key, value = (part.strip() for part in line.split("=", 1))
                table[key] = value

    def section(name: str, table: dict[str, str]) -> str:
        return f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in table.items())

    path = tmp_path / "balupi.toml"
    path.write_text(
        section("handshake", handshake_lines)
        + section("nas", nas_lines)
        + f"""[dns]
backend = "hostsfile"
hostname = "{HOSTNAME}"
pi_ip = "{PI_IP}"
[dns.hostsfile]
path = "{hosts_file}"
pid_file = "{pid_file}"
"""
    )
    return path


def load(path: Path) -> Config:
    return load_config(path)


def baluhost_request(
    path: str, body: dict | None, *, secret: str = SECRET, ts: float | None = None
) -> tuple[dict[str, str], bytes]:
    """(headers, bytes) exactly as BaluHost's httpx client sends them: the hash covers the
    canonical JSON, the bytes on the wire use json.dumps's default separators."""
    timestamp = str(int(time.time() if ts is None else ts))
    if body is None:
        wire, hashed = b"", b""
    else:
        wire = json.dumps(body).encode()
        hashed = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    message = f"POST:{path}:{timestamp}:{hashlib.sha256(hashed).hexdigest()}"
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    headers = {"X-Balupi-Timestamp": timestamp, "X-Balupi-Signature": signature}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return headers, wire


async def dns_is(port: int, address: str) -> bool:
    """Whether dnsmasq on ``port`` answers ``address`` for baluhost.local now (dig runs off the
    event loop, which the service under test shares): a condition for ``wait_for_async``."""
    return await asyncio.to_thread(dig, port, HOSTNAME) == address
