"""What every BaluPi service does around its app: arguments, logging, the validated config,
listening with a clear word when the address is taken, and a clean stop on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from balupi.config import DEFAULT_PATH, Config, ConfigError, load_config
from balupi.connection_guard import (
    KEEPALIVE_TIMEOUT,
    ConnectionGuard,
    GuardedSite,
    connection_limit,
    raise_open_file_limit,
)
from balupi.repeat_log import RepeatFilter

EXIT_CONFIG = 2  # systemd: RestartPreventExitStatus=2, a restart would only repeat the problem


@dataclass(frozen=True)
class Listening:
    """A service's app and where it listens; ``says`` is logged once it does."""

    app: web.Application
    host: str
    port: int
    says: str


def run_service(
    prog: str,
    description: str | None,
    argv: list[str] | None,
    *,
    secrets_for: Collection[str],
    build: Callable[[Config], Listening],
    check: Callable[[Config], str | None] = lambda _config: None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", type=Path, default=DEFAULT_PATH, help="the TOML config file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config, secrets_for=secrets_for)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return EXIT_CONFIG
    if problem := check(config):
        print(f"{prog}: {args.config}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_serve(prog, build, config))


async def _serve(prog: str, build: Callable[[Config], Listening], config: Config) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    listening = build(config)
    log = logging.getLogger(f"balupi.{prog.removeprefix('balupi-')}")
    # Connections are bounded well below the open-file limit: a flood of idle clients must not
    # take the descriptors the heartbeat, the state file and Pi-hole's API need.
    open_files = raise_open_file_limit()
    # asyncio logs every failed accept() with a traceback: once a minute is plenty.
    logging.getLogger("asyncio").addFilter(RepeatFilter())
    guard = ConnectionGuard(connection_limit(open_files))
    runner = web.AppRunner(listening.app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()
    try:
        await GuardedSite(runner, listening.host, listening.port, guard).start()
    except OSError as err:
        await runner.cleanup()
        print(f"{prog}: cannot listen on {listening.host}:{listening.port}: {err.strerror}",
              file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    log.info("%s (at most %d connections; %d open files)", listening.says,
             guard.max_connections, open_files)  # fmt: skip
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await runner.cleanup()
    return 0
