"""``balupi-nas``: the NAS's side of the handshake with BaluPi.

  shutdown-hook    send the snapshot with nas-going-offline and wait for the Pi's acknowledgement
  announce-online  tell the Pi the NAS is up (DNS moves back to the NAS)
  suspend-hook     before a suspend: as shutdown-hook (balupi-nas-sleep.service runs it)
  resume-hook      after the resume: as announce-online
  health-server    serve a minimal /api/health (for a NAS without BaluHost)

Exit status: 0 acknowledged, 1 not acknowledged within the time allowed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from aiohttp import web

from balupi.nas.health_server import make_health_app
from balupi.nas.pi_client import (
    COMING_ONLINE,
    GOING_OFFLINE,
    NotAcknowledged,
    call_until_acknowledged,
)
from balupi.nas.secret_source import NoSecret, load_secret
from balupi.nas.snapshot_source import (
    SnapshotUnavailable,
    snapshot_from_command,
    snapshot_from_file,
)

log = logging.getLogger("balupi.nas")
EXIT_NOT_ACKNOWLEDGED, EXIT_USAGE = 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balupi-nas", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("shutdown-hook", "announce the shutdown with a snapshot; wait for the acknowledgement"),
        ("announce-online", "announce that the NAS is up"),
        ("suspend-hook", "announce a suspend with a snapshot (the Pi treats it as a shutdown)"),
        ("resume-hook", "announce the resume from a suspend"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--pi-url", required=True, help="e.g. http://balupi.local")
        p.add_argument("--secret-file", type=Path, help="else $CREDENTIALS_DIRECTORY or env")
        p.add_argument(
            "--total-timeout", type=float, default=30.0, help="give up after this many seconds"
        )
    for name in ("shutdown-hook", "suspend-hook"):
        hook = sub.choices[name]
        source = hook.add_mutually_exclusive_group()
        source.add_argument("--snapshot-file", type=Path, help="a JSON file with the snapshot")
        source.add_argument("--snapshot-command", help="a command that prints the snapshot JSON")
        hook.add_argument("--snapshot-timeout", type=float, default=20.0)
    health = sub.add_parser("health-server", help="serve /api/health")
    health.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the Pi asks over the LAN
    health.add_argument("--port", type=int, default=8000)
    return parser


def gather_snapshot(args: argparse.Namespace) -> dict | None:
    """The snapshot, or None: a shutdown announced without one beats no announcement."""
    try:
        if args.snapshot_file is not None:
            return snapshot_from_file(args.snapshot_file)
        if args.snapshot_command:
            return snapshot_from_command(args.snapshot_command, args.snapshot_timeout)
    except SnapshotUnavailable as err:
        log.error("sending the shutdown without a snapshot: %s", err)
    return None


async def shutdown_hook(
    pi_url: str, secret: str, snapshot: dict | None, total_seconds: float
) -> dict:
    return await call_until_acknowledged(
        pi_url, secret, GOING_OFFLINE, snapshot, total_seconds=total_seconds
    )


async def announce_online(pi_url: str, secret: str, total_seconds: float) -> dict:
    # BaluHost waits 5 s for this answer; so does each of our attempts.
    return await call_until_acknowledged(
        pi_url, secret, COMING_ONLINE, None, total_seconds=total_seconds, attempt_seconds=5.0
    )


async def suspend_hook(
    pi_url: str, secret: str, snapshot: dict | None, total_seconds: float
) -> dict:
    """A suspend is a planned sleep like a shutdown: the Pi moves DNS at once, no outage."""
    return await shutdown_hook(pi_url, secret, snapshot, total_seconds)


async def resume_hook(pi_url: str, secret: str, total_seconds: float) -> dict:
    return await announce_online(pi_url, secret, total_seconds)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "health-server":
        web.run_app(make_health_app(), host=args.host, port=args.port, access_log=None)
        return 0
    try:
        secret = load_secret(args.secret_file)
    except NoSecret as err:
        print(f"balupi-nas: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command in ("shutdown-hook", "suspend-hook"):
            hook = shutdown_hook if args.command == "shutdown-hook" else suspend_hook
            answer = asyncio.run(
                hook(args.pi_url, secret, gather_snapshot(args), args.total_timeout)
            )
        elif args.command == "resume-hook":
            answer = asyncio.run(resume_hook(args.pi_url, secret, args.total_timeout))
        else:
            answer = asyncio.run(announce_online(args.pi_url, secret, args.total_timeout))
    except NotAcknowledged as err:
        print(f"balupi-nas {args.command}: {err}", file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    print(
        f"balupi-nas {args.command}: acknowledged, NAS state on the Pi: {answer.get('nas_state')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
