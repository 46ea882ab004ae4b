"""``balupi-exporter``: serves the Tapo and Pi-hole collectors on /metrics."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from balupi.config import DEFAULT_PATH, Config, ConfigError, load_config
from balupi.exporters.app import make_app
from balupi.exporters.collector import AsyncCollector
from balupi.exporters.pihole_collector import PiholeCollector
from balupi.exporters.tapo_collector import TapoCollector

log = logging.getLogger("balupi.exporter")
# The credentials this process reads; the handshake secret is not its business.
SECRETS_FOR = ("tapo", "pihole")


class ListenError(Exception):
    """The address is taken or not ours: a message for the operator, not a traceback."""


def build_collectors(config: Config) -> list[AsyncCollector]:
    # A device query may outlive one scrape (the next joins it) but never the longest deadline.
    limit = config.exporter.deadline_seconds
    collectors: list[AsyncCollector] = [TapoCollector(config.tapo, query_limit=limit)]
    if config.pihole is not None:
        collectors.append(PiholeCollector(config.pihole, query_limit=limit))
    return collectors


async def serve(config: Config, stop: asyncio.Event) -> None:
    app = make_app(config.exporter, build_collectors(config))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = config.exporter.listen_host, config.exporter.listen_port
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as err:
        await runner.cleanup()
        raise ListenError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    log.info("listening on http://%s:%d/metrics", host, port)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="balupi-exporter", description=__doc__)
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
        return 2
    return asyncio.run(_run(config))


async def _run(config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(config, stop)
    except ListenError as err:
        print(f"balupi-exporter: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
