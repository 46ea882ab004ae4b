"""Two simulated Pi-holes for the migration tests: the NAS's (the source, full of lists) and the
Pi's (the target, fresh, with BaluPi's baluhost.local record and local-ttl), each with a real
dnsmasq, and the internet their adlists "download" from shared between them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import os
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balupi.cli import main
from balupi.devstack.ports import free_port
from balupi.sim.pihole.model import SimSettings
from tests.pihole_helpers import RunningSim, start_sim

BALUPI = str(Path(sys.executable).parent / "balupi")
NAS_PASSWORD, NAS_APP = "nas-web-pw", "nas-app-pw"
PI_PASSWORD, PI_APP = "pi-web-pw", "pi-app-pw"
ADS = "https://lists.example/ads.txt"
TRACKERS = "https://lists.example/trackers.txt"
KIDS = "https://lists.example/kids.txt"
ALLOW = "https://lists.example/allow.txt"
INTERNET = {
    ADS: ["ads.example", "allowed.example", "banner.example"],
    TRACKERS: ["tracker.example", "pixel.example"],
    KIDS: ["games.example"],
    ALLOW: ["cdn.example"],
}


@dataclass
class Pair:
    nas: RunningSim
    pi: RunningSim
    workdir: Path

    async def stop(self) -> None:
        await self.nas.stop()
        await self.pi.stop()

    def dns(self, sim: RunningSim) -> int:
        port = sim.pihole.settings.dns_port
        assert port is not None
        return port


async def start_pair(
    tmp_path: Path, *, pi_app_sudo: bool = True, pi_restart: float = 0.3, middlewares: Any = ()
) -> Pair:
    internet = dict(INTERNET)
    nas = await start_sim(
        SimSettings(
            password=NAS_PASSWORD,
            app_password=NAS_APP,
            hosts=["192.168.1.5 nas.lan", "192.168.1.1 router.lan", "192.168.1.5 baluhost.local"],
            dns_port=free_port(),
            workdir=tmp_path / "nas",
            list_contents=internet,
            hostname="nas",
        ),
        middlewares=middlewares,
    )
    pi = await start_sim(
        SimSettings(
            password=PI_PASSWORD,
            app_password=PI_APP,
            app_sudo=pi_app_sudo,
            hosts=["192.168.1.2 baluhost.local"],
            local_ttl=5,
            dns_port=free_port(),
            workdir=tmp_path / "pi",
            restart_seconds=pi_restart,
            list_contents=internet,
            hostname="balupi",
        ),
        middlewares=middlewares,
    )
    pi.pihole.config["dns"]["interface"] = "end0"  # a Raspberry Pi's name for its Ethernet
    await seed_nas(nas)
    return Pair(nas, pi, tmp_path)


async def seed_nas(nas: RunningSim) -> None:
    """What a year of use leaves in the NAS's Pi-hole, set as its web interface would."""
    g = nas.pihole.gravity
    kids = g.add_group("kids", comment="the children's devices")
    iot = g.add_group("iot", enabled=False)
    g.add_adlist(ADS, comment="ads")
    g.add_adlist(TRACKERS, groups=(0, iot))
    g.add_adlist(KIDS, groups=(kids,))
    g.add_adlist(ALLOW, kind="allow")
    g.add_adlist("https://lists.example/old.txt", enabled=False)
    g.add_domain("allowed.example", "allow", comment="the shop needs it")
    g.add_domain("denied.example", "deny")
    g.add_domain("off.example", "deny", enabled=False)
    g.add_domain(r"(^|\.)cdn\.example$", "allow", "regex")
    g.add_domain(r"^ad[0-9]+\.", "deny", "regex", groups=(0, kids))
    g.add_client("192.168.1.30", groups=(kids,), comment="tablet")
    g.add_client("aa:bb:cc:dd:ee:ff")
    client = nas.client(NAS_PASSWORD)
    try:
        await client.request(
            "PATCH",
            "/config",
            json={
                "config": {
                    "dns": {
                        "upstreams": ["1.1.1.1", "9.9.9.9"],
                        "cnameRecords": ["files.lan,nas.lan", "photos.lan,nas.lan,300"],
                        "revServers": ["true,192.168.1.0/24,192.168.1.1,lan"],
                        "interface": "eth0",
                        "dnssec": True,
                        "hostRecord": "nas-pihole.lan,127.0.0.1",  # names the source host
                        "blocking": {"mode": "NULL"},
                    },
                    "dhcp": {"active": True, "hosts": ["11:22:33:44:55:66,192.168.1.40,printer"]},
                    "webserver": {"api": {"max_sessions": 20}},
                    "misc": {"dnsmasq_lines": ["local-ttl=60", "log-queries=extra"]},
                    "ntp": {"sync": {"server": "nas-ntp.lan"}},
                }
            },
        )
        await _gravity(client)
    finally:
        await client.close()
    nas.pihole.config["webserver"]["port"] = "8080"  # the NAS's Docker maps it there
    assert nas.pihole.dnsmasq is not None


async def _gravity(client: Any) -> None:
    async for _ in client.stream_lines("POST", "/action/gravity"):
        pass


def password_file(folder: Path, name: str, value: str) -> Path:
    path = folder / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


async def run_cli(*args: str, timeout: float = 120) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALUPI_PIHOLE_")}
    proc = await asyncio.create_subprocess_exec(
        BALUPI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def run_balupi(*args: str, timeout: float = 120) -> tuple[int, str]:
    """`balupi ARGS` in this process, on its own event loop in a thread (the simulators keep
    answering on the test's loop): the same code as the command without a process start."""

    def call() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(list(args))
        return code, out.getvalue()

    return await asyncio.wait_for(asyncio.to_thread(call), timeout)


def migrate_args(pair: Pair, *extra: str) -> list[str]:
    folder = pair.workdir
    return [
        "pihole",
        "migrate",
        "--from",
        pair.nas.url,
        "--from-password-file",
        str(password_file(folder, "nas-pw", NAS_APP)),  # reading needs no app_sudo
        "--to",
        pair.pi.url,
        "--to-password-file",
        str(password_file(folder, "pi-pw", PI_APP)),
        "--backup-dir",
        str(folder / "backups"),
        "--config",
        str(folder / "no-config.toml"),
        *extra,
    ]


def target_state(pair: Pair) -> dict[str, Any]:
    """What must not move when nothing should change: config, tables, counters."""
    p = pair.pi.pihole
    return {
        "config": copy.deepcopy(p.config),
        "groups": p.gravity.groups(),
        "lists": [{k: v for k, v in x.items() if k != "date_updated"} for x in p.gravity.lists()],
        "domains": p.gravity.domains(),
        "clients": p.gravity.clients(),
    }


def v5_archive(folder: Path) -> Path:
    """A Pi-hole v5 teleporter backup as v5's web interface writes it: JSON dumps of the
    gravity tables (v5's columns), custom.list, the CNAME file and v5's settings files."""
    now = 1_700_000_000
    stamp = {"date_added": now, "date_modified": now}

    def domain(i: int, name: str, kind: int, enabled: int = 1) -> dict[str, Any]:
        return {"id": i, "domain": name, "enabled": enabled, "comment": None, "type": kind, **stamp}

    files: dict[str, Any] = {
        "group.json": [
            {"id": 0, "enabled": 1, "name": "Default", "description": "The default group", **stamp},
            {"id": 1, "enabled": 1, "name": "kids", "description": None, **stamp},
        ],
        "adlist.json": [
            {
                "id": 1,
                "address": ADS,
                "enabled": 1,
                "comment": "ads",
                "date_updated": now,
                "number": 3,
                "invalid_domains": 0,
                "status": 2,
                **stamp,
            },
            {
                "id": 2,
                "address": KIDS,
                "enabled": 1,
                "comment": None,
                "date_updated": now,
                "number": 1,
                "invalid_domains": 0,
                "status": 2,
                **stamp,
            },
        ],
        "adlist_by_group.json": [
            {"adlist_id": 1, "group_id": 0},
            {"adlist_id": 2, "group_id": 1},
        ],
        "whitelist.exact.json": [domain(1, "allowed.example", 0)],
        "blacklist.exact.json": [domain(2, "denied.example", 1), domain(3, "off.example", 1, 0)],
        "whitelist.regex.json": [],
        "blacklist.regex.json": [domain(4, r"^ad[0-9]+\.", 3)],
        "domainlist_by_group.json": [{"domainlist_id": i, "group_id": 0} for i in (1, 2, 3, 4)],
        "client.json": [{"id": 1, "ip": "192.168.1.30", "comment": "tablet", **stamp}],
        "client_by_group.json": [{"client_id": 1, "group_id": 1}],
    }
    path = folder / "pi-hole-nas-teleporter_2024-01-01_00-00-00.tar.gz"
    texts = {name: json.dumps(rows).encode() for name, rows in files.items()}
    texts["custom.list"] = (
        b"192.168.1.5 nas.lan\n192.168.1.1 router.lan\n192.168.1.5 baluhost.local\n"
    )
    texts["dnsmasq.d/05-pihole-custom-cname.conf"] = b"cname=files.lan,nas.lan\n"
    texts["setupVars.conf"] = b"WEBPASSWORD=0123abcd\nPIHOLE_INTERFACE=eth0\nDHCP_ACTIVE=true\n"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in texts.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
