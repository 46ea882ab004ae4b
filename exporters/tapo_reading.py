"""What one read of a Tapo plug yields, in the units the metrics use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlugReading:
    power_watts: float | None
    energy_today_wh: float | None
    energy_month_wh: float | None
    voltage_volts: float | None  # None where the firmware does not report it
    current_amperes: float | None
    relay_on: bool
    model: str
    hardware_version: str
    firmware_version: str
    mac: str
