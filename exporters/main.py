"""``balupi-exporter``: serves the Tapo and Pi-hole collectors on /metrics."""

from __future__ import annotations

import sys

from balupi.config import Config
from balupi.exporters.app import make_app
from balupi.exporters.collector import AsyncCollector
from balupi.exporters.pihole_collector import PiholeCollector
from balupi.exporters.tapo_collector import TapoCollector
from balupi.service_runner import Listening, run_service

# The credentials this process reads; the handshake secret is not its business.
SECRETS_FOR = ("tapo", "pihole")


def build_collectors(config: Config) -> list[AsyncCollector]:
    # A device query may outlive one scrape (the next joins it) but never the longest deadline.
    limit = config.exporter.deadline_seconds
    collectors: list[AsyncCollector] = [TapoCollector(config.tapo, query_limit=limit)]
    if config.pihole is not None:
        collectors.append(PiholeCollector(config.pihole, query_limit=limit))
    return collectors


def build(config: Config) -> Listening:
    host, port = config.exporter.listen_host, config.exporter.listen_port
    return Listening(
        make_app(config.exporter, build_collectors(config)), host, port,
        f"listening on http://{host}:{port}/metrics",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return run_service("balupi-exporter", __doc__, argv, secrets_for=SECRETS_FOR, build=build)


if __name__ == "__main__":
    sys.exit(main())
