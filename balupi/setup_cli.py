"""``sudo balupi setup``: the first-run configuration, asked interactively with defaults (the
current values when run again), or fully scripted with ``--non-interactive`` and flags."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from balupi import setup_probes as probes
from balupi.config import ConfigError, PlugConfig, load_config
from balupi.secret import Secret
from balupi.setup_files import (
    DROP_IN,
    ETC,
    HANDSHAKE_SECRET,
    SYSTEMD_ETC,
    drop_ins,
    toml_text,
    write_file,
)

# Without Pi-hole: the hosts file BaluPi writes and Debian dnsmasq's pid file (its SIGHUP).
NO_PIHOLE_HOSTS = Path("/var/lib/balupi/baluhost.hosts")
DNSMASQ_PID_FILE = Path("/run/dnsmasq/dnsmasq.pid")
UNITS = ("balupi-exporter.service", "balupi-handshake.service")
ALERTMANAGER_UNIT = "prometheus-alertmanager.service"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("setup", help="first-run configuration (run as root)")
    p.add_argument(
        "--non-interactive",
        action="store_true",
        help="ask nothing: flags, current values, defaults",
    )
    p.add_argument("--etc", type=Path, default=ETC, help=argparse.SUPPRESS)
    p.add_argument("--no-restart", action="store_true", help="write the files, restart nothing")
    t = p.add_argument_group("Tapo plugs")
    t.add_argument("--tapo-username", help="the Tapo app account's e-mail")
    t.add_argument("--tapo-password-file", type=Path, help="a file holding its password")
    t.add_argument(
        "--plug",
        action="append",
        type=_plug_arg,
        metavar="NAME=HOST[:PORT]",
        help="a plug (repeat); 'nas' is the NAS's",
    )
    t.add_argument(
        "--discover",
        metavar="ADDRESS",
        help="send the plug discovery here: a broadcast or one plug's address (255.255.255.255)",
    )
    t.add_argument("--price-per-kwh", type=float)
    n = p.add_argument_group("the NAS")
    n.add_argument("--nas-ip", help="its address on the LAN")
    n.add_argument("--nas-url", help="BaluHost's base URL (default http://NAS-IP)")
    n.add_argument("--nas-mac", help="for Wake-on-LAN (default: from `ip neigh`)")
    n.add_argument("--wol-broadcast", help="where the magic packet goes (255.255.255.255)")
    n.add_argument("--wol-port", type=int)
    n.add_argument(
        "--pi-ip", help="this Pi's address, where baluhost.local points while the NAS sleeps"
    )
    h = p.add_argument_group("Pi-hole")
    h.add_argument("--pihole-url", help="e.g. http://127.0.0.1:8080")
    h.add_argument("--pihole-password-file", type=Path, help="a file holding the app password")
    i = p.add_argument_group("the inbox (rsync over SSH to the NAS)")
    i.add_argument("--inbox-user", help="the NAS account the files arrive as")
    i.add_argument("--inbox-path", help="the NAS folder they arrive in")
    i.add_argument("--inbox-ssh-port", type=int)
    i.add_argument("--no-inbox", action="store_true")
    a = p.add_argument_group("alerts")
    a.add_argument("--alert-webhook", help="Alertmanager's receiver: a webhook URL (ntfy, ...)")


class _Asker:
    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive

    def __call__(self, question: str, flag: Any, current: Any, default: Any = None) -> Any:
        """The flag if given, else the answer (current value or default offered)."""
        if flag is not None:
            return flag
        offer = current if current is not None else default
        if not self.interactive:
            return offer
        shown = f" [{offer}]" if offer not in (None, "") else ""
        answer = input(f"{question}{shown}: ").strip()
        return answer or offer

    def secret(self, question: str, flag: Path | None, existing: Path) -> str | None:
        if flag is not None:
            return flag.read_text().strip()
        if existing.exists():
            return None  # keep it
        if not self.interactive:
            return None
        import getpass

        return getpass.getpass(f"{question}: ").strip() or None


def run(args: argparse.Namespace) -> int:
    etc: Path = args.etc
    ask = _Asker(not args.non_interactive and sys.stdin.isatty())
    config_path = etc / "balupi.toml"
    old = _current(config_path)
    problems: list[str] = []
    changed: set[str] = set()
    data: dict[str, Any] = {}

    tapo = old.get("tapo", {})
    username = ask("Tapo account e-mail", args.tapo_username, tapo.get("username"))
    tapo_password = ask.secret(
        "Tapo account password", args.tapo_password_file, etc / "tapo-password"
    )
    if tapo_password:
        changed |= _secret(etc / "tapo-password", tapo_password, UNITS[:1])
    plugs = _plugs(args, ask, tapo, username, etc)
    if plugs:
        data["tapo"] = {"username": username, "password_file": "tapo-password"}
        price = ask("Price per kWh (empty: none)", args.price_per_kwh, tapo.get("price_per_kwh"))
        if price not in (None, ""):
            data["tapo"]["price_per_kwh"] = float(price)
        data["tapo"]["plugs"] = plugs
        problems += _check_plugs(plugs, username, etc / "tapo-password")

    nas, dns = old.get("nas", {}), old.get("dns", {})
    nas_ip = ask("The NAS's IP address", args.nas_ip, nas.get("ip"))
    if not nas_ip:
        print("balupi setup: the NAS's address is required (--nas-ip)", file=sys.stderr)
        return 2
    mac = args.nas_mac or nas.get("mac") or probes.neighbour_mac(nas_ip)
    mac = ask("The NAS's MAC address (Wake-on-LAN)", None, mac)
    if not mac:
        problems.append(f"no MAC for {nas_ip} in the neighbour table: give --nas-mac")
        mac = "00:00:00:00:00:00"
    pi_ip = ask("This Pi's address", args.pi_ip, dns.get("pi_ip"), probes.source_ip_towards(nas_ip))
    nas_url = ask("BaluHost's URL", args.nas_url, nas.get("url"), f"http://{nas_ip}")
    data["handshake"] = {**old.get("handshake", {}), "secret_file": HANDSHAKE_SECRET}
    data["nas"] = {**nas, "url": nas_url, "ip": nas_ip, "mac": mac}
    if args.wol_broadcast is not None:
        data["nas"]["wol_broadcast"] = args.wol_broadcast
    if args.wol_port is not None:
        data["nas"]["wol_port"] = args.wol_port
    secret_path = etc / HANDSHAKE_SECRET
    if not secret_path.exists():
        changed |= _secret(secret_path, secrets.token_hex(32), UNITS[1:])

    pihole = old.get("pihole", {})
    pihole_url = ask(
        "Pi-hole's URL (empty: no Pi-hole)",
        args.pihole_url,
        pihole.get("url"),
        "http://127.0.0.1:8080",
    )
    if pihole_url:
        pihole_password = ask.secret(
            "Pi-hole app password", args.pihole_password_file, etc / "pihole-password"
        )
        if pihole_password:
            changed |= _secret(etc / "pihole-password", pihole_password, UNITS)
        data["pihole"] = {**pihole, "url": pihole_url, "password_file": "pihole-password"}
        data["dns"] = {**dns, "pi_ip": pi_ip, "backend": "pihole"}
        problems += _check_pihole(pihole_url, etc / "pihole-password")
    else:
        # Without Pi-hole the switch writes a hosts file for Debian's dnsmasq and tells it
        # with SIGHUP; until dnsmasq reads that file, a switch fails visibly (DnsSwitchFailing).
        data["dns"] = {
            **dns,
            "pi_ip": pi_ip,
            "backend": "hostsfile",
            "hostsfile": {"path": str(NO_PIHOLE_HOSTS), "pid_file": str(DNSMASQ_PID_FILE)},
        }
        print(
            f"No Pi-hole: baluhost.local goes into {NO_PIHOLE_HOSTS}. For a DNS server that"
            f" serves it, install Debian's dnsmasq and add 'addn-hosts={NO_PIHOLE_HOSTS}' to"
            " /etc/dnsmasq.d/balupi.conf (see docs/install.md)."
        )

    inbox = old.get("inbox", {})
    if not args.no_inbox:
        problems += _inbox(args, ask, inbox, nas_ip, etc, data, changed)

    changed |= _write_config(config_path, data, etc)
    if args.alert_webhook:
        changed |= _alertmanager(etc / "alertmanager.yml", args.alert_webhook)
    try:
        load_config(config_path)  # the same checks as `balupi check-config`
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 1

    print("\nIn BaluHost, set:")
    print(f"  balupi_url              = http://{pi_ip}")
    print(f"  balupi_handshake_secret = {secret_path.read_text().strip()}")
    if not args.no_restart:
        _restart(changed)
    for problem in problems:
        print(f"  ! {problem}", file=sys.stderr)
    print(f"\n{config_path}: written ({len(problems)} check(s) failed)")
    return 1 if problems else 0


def _current(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _plugs(
    args: argparse.Namespace, ask: _Asker, tapo: dict, username: str | None, etc: Path
) -> list[dict]:
    if args.plug:
        return [_plug_spec(spec) for spec in args.plug]
    current = [dict(p) for p in tapo.get("plugs", [])]
    if current or not username:
        return current
    target = args.discover or ("255.255.255.255" if ask.interactive else None)
    if target is None:
        return []
    password_file = etc / "tapo-password"
    password = password_file.read_text().strip() if password_file.exists() else ""
    print(f"Looking for Tapo plugs on {target} (5 s) ...")
    try:
        found = asyncio.run(probes.discover_plugs(target, 5, username, password))
    except OSError as err:  # e.g. an address that is no broadcast and no host
        print(f"  cannot send the discovery to {target}: {err.strerror or err}")
        found = []
    for n, one in enumerate(found, 1):
        where = one.host if one.port is None else f"{one.host}:{one.port}"
        print(f"  {n}. {where}  {one.model}  MAC {one.mac}  {one.alias}".rstrip())
    if not found:
        print(
            f"  no Tapo plug answered on {target}: is it powered and on this LAN? "
            "Give its address (the Tapo app: device info), or --plug nas=HOST"
        )
        return _typed_plug(ask)
    choice = _choice(ask, len(found))
    chosen = found[choice - 1]
    plug: dict[str, Any] = {"name": "nas", "host": chosen.host}
    if chosen.port is not None:
        plug["port"] = chosen.port
    return [plug]


def _typed_plug(ask: _Asker) -> list[dict]:
    """The NAS's plug as the person types it (HOST or HOST:PORT), asked again until it parses."""
    while True:
        where = str(ask("Address of the plug that measures the NAS (empty: none)", None, None, ""))
        if not where:
            return []
        _host, _, port = where.partition(":")
        if not port or (port.isdigit() and 1 <= int(port) <= 65535):
            return [_plug_spec("nas=" + where)]
        print(f"  {where!r}: give HOST or HOST:PORT with a port from 1 to 65535")


def _choice(ask: _Asker, count: int) -> int:
    """The number of the plug that measures the NAS, asked again until it is one of the list."""
    while True:
        answer = str(ask("Which one measures the NAS", None, None, "1"))
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
        print(f"  give a number from 1 to {count}")


def _plug_arg(spec: str) -> str:
    """--plug's value checked where argparse can name it: NAME=HOST[:PORT], a port 1-65535."""
    name, _, where = spec.partition("=")
    host, _, port = where.partition(":")
    if not name or not host:
        raise argparse.ArgumentTypeError(f"{spec!r}: give NAME=HOST or NAME=HOST:PORT")
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise argparse.ArgumentTypeError(f"{spec!r}: the port must be a number from 1 to 65535")
    return spec


def _plug_spec(spec: str) -> dict[str, Any]:
    """NAME=HOST[:PORT] as the config's plug table."""
    name, _, where = spec.partition("=")
    host, _, port = where.partition(":")
    plug: dict[str, Any] = {"name": name, "host": host}
    if port:
        plug["port"] = int(port)
    return plug


def _check_plugs(plugs: list[dict], username: str | None, password_file: Path) -> list[str]:
    problems = []
    password = password_file.read_text().strip() if password_file.exists() else ""
    for p in plugs:
        plug = PlugConfig(
            p["name"], p["host"], p.get("port"), username or "", Secret(password, "setup")
        )
        try:
            watts = asyncio.run(probes.read_plug(plug))
            print(f"plug {p['name']} ({p['host']}): OK, {watts} W")
        except probes.ProbeFailedError as err:
            problems.append(f"plug {p['name']}: {err}")
    return problems


def _check_pihole(url: str, password_file: Path) -> list[str]:
    if not password_file.exists():
        return [f"no Pi-hole password in {password_file}: give --pihole-password-file"]
    try:
        sudo = asyncio.run(probes.check_pihole(url, password_file.read_text().strip()))
    except probes.ProbeFailedError as err:
        return [f"Pi-hole: {err}"]
    print(f"Pi-hole {url}: login OK, app_sudo {'on' if sudo else 'off'}")
    if not sudo:
        return [
            "Pi-hole: webserver.api.app_sudo is off, the baluhost.local switch will be "
            "refused: sudo pihole-FTL --config webserver.api.app_sudo true"
        ]
    return []


def _inbox(
    args: argparse.Namespace,
    ask: _Asker,
    inbox: dict,
    nas_ip: str,
    etc: Path,
    data: dict[str, Any],
    changed: set[str],
) -> list[str]:
    user = ask(
        "NAS account for the inbox (empty: no inbox)", args.inbox_user, inbox.get("nas_user")
    )
    if not user:
        return []
    path = ask(
        "NAS folder the inbox's files arrive in",
        args.inbox_path,
        inbox.get("nas_path"),
        "/srv/baluhost/inbox-from-pi",
    )
    port = int(ask("NAS SSH port", args.inbox_ssh_port, inbox.get("nas_port"), 22))
    key, known = etc / "nas-ssh-key", etc / "nas_known_hosts"
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "balupi-inbox", "-f", str(key)],
            check=True,
        )
        changed.add(UNITS[1])
    data["inbox"] = {
        **inbox,
        "nas_host": nas_ip,
        "nas_port": port,
        "nas_user": user,
        "nas_path": path,
        "ssh_key_file": "nas-ssh-key",
        "known_hosts_file": str(known),
    }
    pub = Path(f"{key}.pub").read_text().strip()
    print(f"\nOn the NAS, add this line to ~{user}/.ssh/authorized_keys:")
    print(f"  {pub}")
    if ask.interactive:
        input("Press Enter once it is there ...")
    try:
        probes.keyscan(nas_ip, port, known)
        probes.ssh_login(user, nas_ip, port, key, known)
        print(f"SSH to {user}@{nas_ip}:{port}: OK")
    except probes.ProbeFailedError as err:
        return [f"inbox: {err}"]
    return []


def _secret(path: Path, value: str, units: tuple[str, ...]) -> set[str]:
    return set(units) if write_file(path, value + "\n", mode=0o600) else set()


def _write_config(path: Path, data: dict[str, Any], etc: Path) -> set[str]:
    changed: set[str] = set()
    if write_file(path, toml_text(data), mode=0o644):
        changed |= set(UNITS)
    present = [
        name
        for name in ("tapo-password", "pihole-password", "nas-ssh-key")
        if (etc / name).exists()
    ]
    for unit, text in drop_ins(etc, present).items():
        if write_file(SYSTEMD_ETC / f"{unit}.d" / DROP_IN, text, mode=0o644):
            changed |= {unit, "daemon-reload"}
    return changed


def _alertmanager(path: Path, url: str) -> set[str]:
    text = (
        "# Written by `balupi setup --alert-webhook`: every alert to one webhook.\n"
        "route:\n  receiver: webhook\n  group_by: [alertname, plug, job]\n"
        f"receivers:\n  - name: webhook\n    webhook_configs:\n      - url: {url!r}\n"
        "        send_resolved: true\n"
    )
    return {ALERTMANAGER_UNIT} if write_file(path, text, mode=0o644) else set()


def _restart(changed: set[str]) -> None:
    if "daemon-reload" in changed:
        subprocess.run(["systemctl", "daemon-reload"], check=False)
    for unit in sorted(changed - {"daemon-reload"}):
        print(f"restarting {unit}")
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True, check=False)
        subprocess.run(["systemctl", "restart", unit], check=False)
