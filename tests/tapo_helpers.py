"""Shared pieces of the Tapo tests: a simulated plug on loopback and the exporter's app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from balupi.config import ExporterConfig, PlugConfig, TapoConfig
from balupi.exporters.app import make_app
from balupi.exporters.tapo_collector import TapoCollector
from balupi.secret import Secret
from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.server import TapoSimServer

USER = "tester@example.com"
PASSWORD = "correct horse"


class FakeClock:
    """Local wall-clock time that a test moves forward by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, when: datetime) -> None:
        self.now = when


@dataclass
class Scrape:
    status: int
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float | None:
        wanted = tuple(sorted(labels.items()))
        for (sample, found), value in self.samples.items():
            if sample == name and all(item in found for item in wanted):
                return value
        return None

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def parse(status: int, text: str) -> Scrape:
    scrape = Scrape(status)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            scrape.samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return scrape


async def start_plug(**model_args: Any) -> TapoSimServer:
    transport = model_args.pop("transport", "klap")
    server = TapoSimServer(
        SimulatedP110(**model_args), username=USER, password=PASSWORD, transport=transport
    )
    await server.start()
    return server


def plug_config(name: str, server: TapoSimServer, *, password: str = PASSWORD,
                transport: str = "klap") -> PlugConfig:  # fmt: skip
    return PlugConfig(
        name=name, host="127.0.0.1", port=server.port, username=USER,
        password=Secret(password, "test"), transport=transport,
    )  # fmt: skip


def exporter_app(
    plugs: list[PlugConfig], *, deadline: float = 2.0, request_timeout: float = 1.0,
    price_per_kwh: float | None = None,
) -> web.Application:  # fmt: skip
    config = ExporterConfig(deadline_seconds=deadline, deadline_margin_seconds=0.2)
    tapo = TapoConfig(
        plugs=tuple(plugs), request_timeout_seconds=request_timeout, price_per_kwh=price_per_kwh
    )
    return make_app(config, [TapoCollector(tapo, query_limit=deadline)])
