"""The Tapo collector: reads every configured plug at scrape time, all at once."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric

from balupi.config import TapoConfig
from balupi.exporters.tapo_plug import PlugReader
from balupi.exporters.tapo_reading import PlugReading


class TapoCollector:
    name = "tapo"

    def __init__(self, config: TapoConfig, *, query_limit: float) -> None:
        self.config = config
        self.readers = [
            PlugReader(p, request_timeout=config.request_timeout_seconds, query_limit=query_limit)
            for p in config.plugs
        ]

    async def collect(self, timeout: float) -> list[Metric]:
        started = time.perf_counter()
        readings = await asyncio.gather(*(r.read(timeout) for r in self.readers))
        families = _Families()
        for reader, reading in zip(self.readers, readings, strict=True):
            families.add(reader, reading)
        # Each plug waited on its own, so one dead plug costs the others nothing.
        families.duration.add_metric([], time.perf_counter() - started)
        return [*families.all(), *self._price()]

    def _price(self) -> list[Metric]:
        """The configured energy price, so Prometheus's cost rules need no config of their own."""
        if self.config.price_per_kwh is None:
            return []
        price = GaugeMetricFamily(
            "balupi_energy_price_per_kilowatt_hour",
            "Price of one kWh, from balupi.toml [tapo] price_per_kwh",
            labels=["currency"],
        )
        price.add_metric([self.config.currency], self.config.price_per_kwh)
        return [price]

    async def close(self) -> None:
        await asyncio.gather(*(r.close() for r in self.readers))


class _Families:
    """This scrape's metric families, fresh every time (no state kept between scrapes)."""

    def __init__(self) -> None:
        plug = ["plug"]
        self.up = GaugeMetricFamily(
            "tapo_up", "1 if the plug answered this scrape, else 0", labels=plug
        )
        self.power = GaugeMetricFamily(
            "tapo_power_watts", "Power drawn through the plug now", labels=plug, unit="watts"
        )
        self.energy = CounterMetricFamily(
            "tapo_energy_joules",
            "Energy through the plug since the exporter first read it (use increase())",
            labels=plug,
            unit="joules",
        )
        self.voltage = GaugeMetricFamily(
            "tapo_voltage_volts", "Mains voltage, where the firmware reports it", labels=plug
        )
        self.current = GaugeMetricFamily(
            "tapo_current_amperes", "Current through the plug, where reported", labels=plug
        )
        self.relay = GaugeMetricFamily(
            "tapo_relay_on", "1 if the plug's relay is switched on", labels=plug
        )
        self.info = InfoMetricFamily(
            "tapo_device",
            "Model and versions of the plug",
            labels=["plug", "model", "hardware_version", "firmware_version", "mac"],
        )
        self.errors = CounterMetricFamily(
            "tapo_read_errors", "Failed reads of a plug, by reason", labels=["plug", "reason"]
        )
        self.queries = CounterMetricFamily(
            "tapo_device_queries",
            "Queries sent to the plug (concurrent scrapes share one)",
            labels=plug,
        )
        self.duration = GaugeMetricFamily(
            "tapo_collect_duration_seconds", "Time this scrape spent reading all plugs"
        )

    def add(self, reader: PlugReader, reading: PlugReading | None) -> None:
        plug = [reader.plug.name]
        self.up.add_metric(plug, 0 if reading is None else 1)
        self.queries.add_metric(plug, reader.queries)
        for reason, count in sorted(reader.failures.items()):
            self.errors.add_metric([*plug, reason], count)
        if reading is None:
            return  # a missing reading is an absent sample, never 0
        if reading.power_watts is not None:
            self.power.add_metric(plug, reading.power_watts)
        if reader.energy.created is not None:
            self.energy.add_metric(plug, reader.energy.joules, created=reader.energy.created)
        if reading.voltage_volts is not None:
            self.voltage.add_metric(plug, reading.voltage_volts)
        if reading.current_amperes is not None:
            self.current.add_metric(plug, reading.current_amperes)
        self.relay.add_metric(plug, 1 if reading.relay_on else 0)
        self.info.add_metric(
            [],
            {
                "plug": reader.plug.name,
                "model": reading.model,
                "hardware_version": reading.hardware_version,
                "firmware_version": reading.firmware_version,
                "mac": reading.mac,
            },
        )

    def all(self) -> list[Metric]:
        return [
            self.up, self.power, self.energy, self.voltage, self.current, self.relay,
            self.info, self.errors, self.queries, self.duration,
        ]  # fmt: skip
