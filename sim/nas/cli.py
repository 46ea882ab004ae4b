"""`balupi-sim nas`: run a simulated NAS until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import math
import signal
import sys
from typing import Any

from balupi.sim.nas.plug_feed import DEFAULT_ONLINE_WATTS

EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    """Add the `nas` subcommand to balupi-sim's parser."""
    parser = subparsers.add_parser(
        "nas",
        help="a NAS that sleeps, wakes on a magic packet and announces itself to BaluPi",
        description=(
            "Serve /api/health like BaluHost while the simulated NAS runs; sleep after a "
            'shutdown (POST /sim/control {"action": "shutdown"}) or a suspend ("suspend"; '
            '"resume" or a magic packet brings it back at once); boot when a magic packet '
            "for --mac reaches the UDP --wol-port. With --pi-url it announces itself through "
            "balupi-nas; the secret comes from $BALUPI_HANDSHAKE_SECRET or --secret-file."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="its /api/health")
    parser.add_argument("--control-port", type=int, default=8091, help="/sim/state, /sim/control")
    parser.add_argument("--wol-port", type=int, default=8009, help="UDP port for magic packets")
    parser.add_argument(
        "--wol-host", help="address the WoL socket binds (default --host; 0.0.0.0 for broadcasts)"
    )
    parser.add_argument("--mac", default="02:00:00:00:00:10")
    parser.add_argument("--boot-seconds", type=float, default=5.0)
    parser.add_argument("--pi-url", help="BaluPi's handshake service, e.g. http://127.0.0.1:8000")
    parser.add_argument("--secret-file", help="the handshake secret (else the environment)")
    parser.add_argument("--asleep", action="store_true", help="start asleep, not running")
    parser.add_argument(
        "--plug-control",
        help="the simulated plug's /sim/control URL: it is told the NAS's draw in each state",
    )
    parser.add_argument(
        "--online-watts",
        type=float,
        default=DEFAULT_ONLINE_WATTS,
        help="the draw while running (--plug-control)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from balupi.nas.secret_source import NoSecret, load_secret

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not math.isfinite(args.online_watts) or args.online_watts < 0:
        print("balupi-sim nas: --online-watts must be a finite number >= 0", file=sys.stderr)
        return EXIT_USAGE
    secret = None
    if args.pi_url:
        try:
            secret = load_secret(Path(args.secret_file) if args.secret_file else None)
        except NoSecret as err:
            print(f"balupi-sim nas: {err}", file=sys.stderr)
            return EXIT_USAGE
    try:
        return asyncio.run(_serve(args, secret))
    except KeyboardInterrupt:
        return 130


async def _serve(args: argparse.Namespace, secret: str | None) -> int:
    from balupi.sim.nas.server import NasSimConfig, SimulatedNas

    nas = SimulatedNas(
        NasSimConfig(
            mac=args.mac, host=args.host, api_port=args.port, control_port=args.control_port,
            wol_port=args.wol_port, wol_host=args.wol_host, boot_seconds=args.boot_seconds,
            pi_url=args.pi_url, secret=secret, start_running=not args.asleep,
            plug_control_url=args.plug_control, online_watts=args.online_watts,
        )
    )  # fmt: skip
    try:
        await nas.start()
    except OSError as err:
        reason = "address already in use" if err.errno == errno.EADDRINUSE else err.strerror
        print(f"balupi-sim nas: cannot listen on {args.host}: {reason}", file=sys.stderr)
        await nas.close()
        return EXIT_USAGE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    control = f"http://{args.host}:{args.control_port}"
    print(
        f"balupi-sim nas: {nas.state}; health http://{args.host}:{args.port}/api/health; "
        f"WoL udp {args.host}:{args.wol_port} mac {args.mac}; state {control}/sim/state; "
        f'control: POST {control}/sim/control \'{{"action": "shutdown|kill|revive"}}\'',
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await nas.close()
    return 0
