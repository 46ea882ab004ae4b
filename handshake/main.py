"""``balupi-handshake``: the NAS handshake service (see README.md, "Handshake service")."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from balupi.config import DEFAULT_PATH, Config, ConfigError, load_config
from balupi.handshake.dns_factory import build_dns_backend
from balupi.handshake.service import build_service

log = logging.getLogger("balupi.handshake")
# The credentials this process reads: its own secret and Pi-hole's (for the DNS switch).
SECRETS_FOR = ("handshake", "pihole")
EXIT_CONFIG = 2  # systemd: RestartPreventExitStatus=2, a restart would only repeat the problem


def check_config(config: Config) -> str | None:
    """Why this config cannot run the handshake service, or None."""
    if config.handshake is None:
        return (
            "no [handshake] section: balupi-handshake needs [handshake] (with secret_file or "
            "secret_env), [nas] and [dns]; see config/balupi.example.toml"
        )
    if config.handshake.secret is None:  # pragma: no cover - the config check reports it
        return "handshake.secret: required: set secret_file or secret_env"
    return None


async def serve(config: Config, stop: asyncio.Event) -> int:
    backend = build_dns_backend(config)
    service = build_service(config, backend)
    runner = web.AppRunner(service.app, access_log=None)
    await runner.setup()
    host, port = config.handshake.listen_host, config.handshake.listen_port
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as err:
        await runner.cleanup()
        print(f"balupi-handshake: cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        return EXIT_CONFIG
    log.info("listening on http://%s:%d/api/ (DNS backend %s)", host, port, backend.name)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="balupi-handshake", description=__doc__)
    parser.add_argument("--config", type=Path, default=DEFAULT_PATH, help="the TOML config file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config, secrets_for=SECRETS_FOR)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_CONFIG
    problem = check_config(config)
    if problem:
        print(f"balupi-handshake: {args.config}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_run(config))


async def _run(config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await serve(config, stop)


if __name__ == "__main__":
    sys.exit(main())
