"""`balupi-sim tapo`: run a simulated P110 until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from pathlib import Path
from typing import Any

PASSWORD_ENV = "BALUPI_SIM_TAPO_PASSWORD"  # noqa: S105 - a variable name, not a secret
DEFAULT_PORT = 9999
EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    """Add the `tapo` subcommand to balupi-sim's parser."""
    parser = subparsers.add_parser(
        "tapo",
        help="a TP-Link Tapo P110 plug that python-kasa can talk to",
        description=(
            "Serve a simulated Tapo P110 smart plug (KLAP v2 or AES) and a control side "
            "channel (GET /sim/state, POST /sim/control). The password comes from "
            f"${PASSWORD_ENV} or --password-file, never from the command line."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (0: any free one; it is printed)"
    )
    parser.add_argument(
        "--discovery-port",
        type=int,
        metavar="PORT",
        help=(
            "also answer python-kasa's discovery on UDP --host:PORT "
            "(20002 is where it looks; default: off)"
        ),
    )
    parser.add_argument("--power", type=float, default=35.0, help="the load's draw in W")
    parser.add_argument("--transport", choices=("klap", "aes"), default="klap")
    parser.add_argument(
        "--no-voltage",
        action="store_true",
        help="act like older firmware that reports no voltage or current",
    )
    parser.add_argument("--nickname", default="NAS")
    parser.add_argument("--username", required=True, help="the Tapo account e-mail")
    parser.add_argument(
        "--password-file", type=Path, help=f"read the password here, not ${PASSWORD_ENV}"
    )
    parser.set_defaults(run=run)


class _UsageError(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    try:
        password = _password(args)
        if not 0 <= args.port <= 65535:
            raise _UsageError(f"--port must be 0..65535, not {args.port}")
        if args.discovery_port is not None and not 0 <= args.discovery_port <= 65535:
            raise _UsageError(f"--discovery-port must be 0..65535, not {args.discovery_port}")
        if not args.power >= 0:  # also refuses nan
            raise _UsageError("--power must be a number >= 0")
    except _UsageError as err:
        _error(str(err))
        return EXIT_USAGE
    try:
        return asyncio.run(_serve(args, password))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 130


def _password(args: argparse.Namespace) -> str:
    if args.password_file is not None:
        try:
            # One trailing newline is the file's, not the password's.
            return args.password_file.read_text().removesuffix("\n")
        except OSError as err:
            raise _UsageError(f"cannot read {args.password_file}: {err.strerror}") from err
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        raise _UsageError(f"no password: set ${PASSWORD_ENV} or pass --password-file")
    return password


async def _serve(args: argparse.Namespace, password: str) -> int:
    # Imported here so `balupi-sim --help` stays fast.
    from balupi.sim.tapo.device_model import SimulatedP110
    from balupi.sim.tapo.server import TapoSimServer

    plug = SimulatedP110(
        nickname=args.nickname, power_watts=args.power, reports_voltage=not args.no_voltage
    )
    server = TapoSimServer(
        plug,
        username=args.username,
        password=password,
        transport=args.transport,
        host=args.host,
        port=args.port,
        discovery_port=args.discovery_port,
    )
    try:
        port = await server.start()
    except OSError as err:
        reason = "address already in use" if err.errno == errno.EADDRINUSE else err.strerror
        where = f"{args.port}" + (
            f" (or UDP {args.discovery_port})" if args.discovery_port is not None else ""
        )
        _error(f"cannot listen on {args.host}:{where}: {reason}")
        return EXIT_USAGE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base = f"http://{_url_host(args.host)}:{port}"
    print(
        f"balupi-sim tapo: P110 {args.nickname!r} ({args.transport}) listening on {base}; "
        f"state: GET {base}/sim/state; control: POST {base}/sim/control "
        """e.g. '{"power_watts": 45}'""",
        flush=True,
    )
    if server.discovery_port is not None:
        print(
            f"balupi-sim tapo: answering discovery on UDP {args.host}:{server.discovery_port}",
            flush=True,
        )
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _error(message: str) -> None:
    print(f"balupi-sim tapo: {message}", file=sys.stderr)
