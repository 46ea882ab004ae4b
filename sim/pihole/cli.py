"""`balupi-sim pihole`: a simulated Pi-hole v6 API with a real dnsmasq, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

PASSWORD_ENV = "BALUPI_SIM_PIHOLE_PASSWORD"  # noqa: S105 - a variable name
APP_PASSWORD_ENV = "BALUPI_SIM_PIHOLE_APP_PASSWORD"  # noqa: S105
DEFAULT_PORT = 8080
DEFAULT_DNS_PORT = 5353
EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    """Add the `pihole` subcommand to balupi-sim's parser."""
    parser = subparsers.add_parser(
        "pihole",
        help="a Pi-hole v6 API (sessions, stats, records, lists, teleporter) with a real dnsmasq",
        description=(
            "Serve the Pi-hole v6 API endpoints BaluPi uses, answering as FTL does, and a real "
            "dnsmasq that serves the local DNS records (dns.hosts) on a loopback port. The web "
            f"password comes from ${PASSWORD_ENV} or --password-file, an optional app password "
            f"from ${APP_PASSWORD_ENV} or --app-password-file, never from the command line."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address of the API")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (0: any)")
    parser.add_argument("--dns-port", type=int, default=DEFAULT_DNS_PORT, help="dnsmasq's port")
    parser.add_argument(
        "--dns-address", action="append", default=[], metavar="IP",
        help="another address dnsmasq answers on, besides 127.0.0.1 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--no-dns", action="store_true", help="serve the API only, no dnsmasq")
    parser.add_argument("--workdir", type=Path, help="for the hosts file and dnsmasq's log")
    parser.add_argument("--password-file", type=Path, help=f"instead of ${PASSWORD_ENV}")
    parser.add_argument("--app-password-file", type=Path, help=f"instead of ${APP_PASSWORD_ENV}")
    parser.add_argument("--app-sudo", action="store_true", help="app passwords may change config")
    parser.add_argument("--totp", action="store_true", help="2FA on: the web password is refused")
    parser.add_argument("--max-sessions", type=int, default=16, help="API session seats")
    parser.add_argument("--session-timeout", type=int, default=1800, help="seconds")
    parser.add_argument("--local-ttl", type=int, help="local-ttl line in misc.dnsmasq_lines")
    parser.add_argument(
        "--restart-seconds",
        type=float,
        default=0.0,
        help="how long FTL is away when it restarts (after a teleporter import)",
    )
    parser.add_argument(
        "--record",
        action="append",
        metavar="'IP NAME'",
        help="a local DNS record (repeatable; default: '192.168.1.5 baluhost.local')",
    )
    parser.set_defaults(run=run)


add_parser = register  # the name the project's brief uses


class _UsageError(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except _UsageError as err:
        _error(str(err))
        return EXIT_USAGE
    try:
        return asyncio.run(_serve(args, settings))
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Any:
    from balupi.sim.pihole.model import SimSettings

    for name, port in (("--port", args.port), ("--dns-port", args.dns_port)):
        if not 0 <= port <= 65535:
            raise _UsageError(f"{name} must be 0..65535, not {port}")
    if not 1 <= args.max_sessions <= 100:
        raise _UsageError("--max-sessions must be 1..100")
    if args.session_timeout < 1:
        raise _UsageError("--session-timeout must be at least 1 second")
    if args.local_ttl is not None and not 0 <= args.local_ttl <= 86400:
        raise _UsageError("--local-ttl must be 0..86400")
    if not 0 <= args.restart_seconds <= 600:
        raise _UsageError("--restart-seconds must be 0..600")
    records = args.record or ["192.168.1.5 baluhost.local"]
    for record in records:
        if len(record.split()) < 2:
            raise _UsageError(f"--record wants 'IP NAME', got {record!r}")
    password = _secret(args.password_file, PASSWORD_ENV, required=True)
    return SimSettings(
        password=password or "",
        app_password=_secret(args.app_password_file, APP_PASSWORD_ENV, required=False),
        app_sudo=args.app_sudo,
        totp=args.totp,
        max_sessions=args.max_sessions,
        session_timeout=args.session_timeout,
        hosts=records,
        local_ttl=args.local_ttl,
        dns_port=None if args.no_dns else args.dns_port,
        restart_seconds=args.restart_seconds,
        dns_addresses=tuple(_address(a) for a in args.dns_address),
    )


def _address(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise _UsageError(f"--dns-address wants an IPv4 address, got {text!r}") from None


def _secret(path: Path | None, env: str, *, required: bool) -> str | None:
    if path is not None:
        try:
            value = path.read_text().removesuffix("\n")
        except OSError as err:
            raise _UsageError(f"cannot read {path}: {err.strerror}") from err
        if not value:
            raise _UsageError(f"{path} is empty")
        return value
    from_env = os.environ.get(env)
    if required and not from_env:
        raise _UsageError(f"no password: set ${env} or pass --password-file")
    return from_env or None


async def _serve(args: argparse.Namespace, settings: Any) -> int:
    from aiohttp import web

    from balupi.sim.pihole.dnsmasq import DnsmasqError
    from balupi.sim.pihole.model import SimulatedPihole
    from balupi.sim.pihole.server import make_app

    with tempfile.TemporaryDirectory(prefix="balupi-sim-pihole-") as tmp:
        settings.workdir = args.workdir or Path(tmp)
        pihole = SimulatedPihole(settings)
        runner = web.AppRunner(make_app(pihole), access_log=None)
        try:
            await runner.setup()  # starts dnsmasq
        except DnsmasqError as err:
            _error(str(err))
            return EXIT_USAGE
        site = web.TCPSite(runner, args.host, args.port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            reason = "address already in use" if err.errno == errno.EADDRINUSE else err.strerror
            _error(f"cannot listen on {args.host}:{args.port}: {reason}")
            return EXIT_USAGE
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        where = ", ".join(("127.0.0.1", *settings.dns_addresses))
        dns = "no DNS" if settings.dns_port is None else f"DNS on {where} port {settings.dns_port}"
        print(
            f"balupi-sim pihole: API on http://{args.host}:{port}/api ({dns}); "
            f"state: GET http://{args.host}:{port}/sim/state",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await runner.cleanup()  # stops dnsmasq too
    return 0


def _error(message: str) -> None:
    print(f"balupi-sim pihole: {message}", file=sys.stderr)
