"""The live checks ``balupi setup`` (and ``balupi doctor``) make: Tapo plugs found and read,
the NAS's MAC from the neighbour table, Pi-hole's login and app_sudo, the SSH login to the NAS.
Each returns what it found or raises ProbeFailed with a sentence that says what to do."""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from balupi.config import PlugConfig
from balupi.secret import Secret


class ProbeFailedError(Exception):
    """A check failed; the message says why and what to do."""


@dataclass(frozen=True)
class FoundPlug:
    host: str
    alias: str
    model: str
    mac: str
    port: int | None  # the plug's HTTP port when its discovery answer names one other than 80


async def discover_plugs(
    target: str, timeout: float, username: str, password: str
) -> list[FoundPlug]:
    """Tapo/Kasa devices answering python-kasa's discovery sent to ``target`` (the LAN's
    broadcast address, or one plug's own address)."""
    from kasa import Credentials, Discover

    found = await Discover.discover(
        target=target,
        discovery_timeout=int(max(1, timeout)),
        credentials=Credentials(username, password),
    )
    plugs = []
    for host, device in sorted(found.items()):
        http_port = device.config.connection_type.http_port
        port = http_port if http_port not in (None, 80) else None
        plugs.append(FoundPlug(host, device.alias or "", device.model or "", device.mac, port))
        await device.disconnect()
    return plugs


async def read_plug(plug: PlugConfig, timeout: float = 5.0) -> float | None:
    """Log in to the plug with the account and read its power (W); ProbeFailedError if not."""
    from balupi.exporters.tapo_plug import PlugReader

    reader = PlugReader(plug, request_timeout=timeout, query_limit=timeout * 2)
    try:
        reading = await reader.read(timeout * 2)
    finally:
        await reader.close()
    if reading is None:
        failure = reader.last_failure
        raise ProbeFailedError(failure.hint if failure else "no reading")
    return reading.power_watts


def neighbour_mac(ip: str) -> str | None:
    """The MAC of ``ip`` in the kernel's neighbour table (after one ping to fill it)."""
    ipaddress.ip_address(ip)  # refuses anything that is not an address before it reaches argv
    subprocess.run(["ping", "-c", "1", "-W", "1", ip], capture_output=True, check=False)
    out = subprocess.run(
        ["ip", "-json", "neigh", "show", ip], capture_output=True, text=True, check=False
    ).stdout
    try:
        entries = json.loads(out or "[]")
    except json.JSONDecodeError:
        return None
    for entry in entries:
        mac = entry.get("lladdr")
        if mac and re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac):
            return str(mac)
    return None


def source_ip_towards(ip: str) -> str | None:
    """The Pi's own address on the way to ``ip`` (what the NAS reaches it at)."""
    ipaddress.ip_address(ip)
    out = subprocess.run(
        ["ip", "-json", "route", "get", ip], capture_output=True, text=True, check=False
    ).stdout
    try:
        routes = json.loads(out or "[]")
    except json.JSONDecodeError:
        return None
    return str(routes[0]["prefsrc"]) if routes and "prefsrc" in routes[0] else None


async def check_pihole(url: str, password: str, timeout: float = 5.0) -> bool:
    """Log in to Pi-hole's API; return whether app_sudo is on. ProbeFailedError if no login."""
    from balupi.pihole.client import PiholeClient
    from balupi.pihole.errors import PiholeError

    client = PiholeClient(url, Secret(password, "setup"), request_timeout=timeout)
    try:
        body = await client.request("GET", "/config/webserver/api/app_sudo")
        return bool(body["config"]["webserver"]["api"]["app_sudo"])
    except PiholeError as err:
        raise ProbeFailedError(str(err)) from None
    except (TimeoutError, OSError) as err:
        raise ProbeFailedError(f"Pi-hole at {url} does not answer: {err}") from None
    except (KeyError, TypeError):
        raise ProbeFailedError(f"Pi-hole at {url} gave no webserver.api.app_sudo") from None
    finally:
        await client.close()


def keyscan(host: str, port: int, out: Path) -> None:
    """The NAS's host keys into ``out`` (the only keys the inbox flush will accept)."""
    run = subprocess.run(
        ["ssh-keyscan", "-T", "5", "-p", str(port), host],
        capture_output=True,
        text=True,
        check=False,
    )
    if not run.stdout.strip():
        raise ProbeFailedError(f"ssh-keyscan found no SSH server at {host}:{port}")
    out.write_text(run.stdout)


def ssh_login(user: str, host: str, port: int, key: Path, known_hosts: Path) -> None:
    """Log in to the NAS with the inbox's key, as the flush will; ProbeFailedError if refused."""
    run = subprocess.run(
        [
            "ssh",
            "-i",
            str(key),
            "-p",
            str(port),
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "IdentitiesOnly=yes",
            f"{user}@{host}",
            "true",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        detail = run.stderr.strip().splitlines()[-1:] or ["no answer"]
        raise ProbeFailedError(f"SSH login {user}@{host}:{port} failed: {detail[0]}")
