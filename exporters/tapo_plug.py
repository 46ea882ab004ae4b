"""One Tapo plug: a warm python-kasa session and a read that many scrapes can share."""

from __future__ import annotations

import contextlib
import logging

from kasa import Credentials, Device, DeviceConfig, Module
from kasa.deviceconfig import (
    DeviceConnectionParameters,
    DeviceEncryptionType,
    DeviceFamily,
)

from balupi.config import PlugConfig
from balupi.exporters.energy_counter import EnergyCounter
from balupi.exporters.shared_query import SharedQuery
from balupi.exporters.tapo_errors import NoEnergyModule, ReadFailure, classify
from balupi.exporters.tapo_reading import PlugReading
from balupi.exporters.tapo_session import plug_session

log = logging.getLogger("balupi.exporter.tapo")

_ENCRYPTION = {"klap": DeviceEncryptionType.Klap, "aes": DeviceEncryptionType.Aes}


def device_config(plug: PlugConfig, request_timeout: float) -> DeviceConfig:
    """The python-kasa connection settings for a plug: SMART over KLAP v2 (or the older AES)."""
    password = plug.password.reveal() if plug.password else ""
    return DeviceConfig(
        host=plug.host,
        port_override=plug.port,
        # kasa annotates an int but hands the seconds to aiohttp, which takes a float.
        timeout=request_timeout,  # type: ignore[arg-type]
        credentials=Credentials(plug.username, password),
        connection_type=DeviceConnectionParameters(
            device_family=DeviceFamily.SmartTapoPlug,
            encryption_type=_ENCRYPTION[plug.transport],
            login_version=2,
            https=False,
        ),
    )


class PlugReader:
    """Reads one plug. The kasa Device stays connected while reads succeed; after a failure
    it is dropped and the next read connects afresh, so python-kasa's per-module back-off
    (which would hide the plug for minutes after it comes back) never outlives an outage."""

    def __init__(self, plug: PlugConfig, *, request_timeout: float, query_limit: float) -> None:
        self.plug = plug
        self._config = device_config(plug, request_timeout)
        self._device: Device | None = None
        self._query = SharedQuery(self._read_device, limit_seconds=query_limit)
        self.energy = EnergyCounter()
        self.last_failure: ReadFailure | None = None
        self.failures: dict[str, int] = {}

    @property
    def queries(self) -> int:
        """Device queries started so far (concurrent scrapes share one)."""
        return self._query.started

    @property
    def where(self) -> str:
        port = f":{self.plug.port}" if self.plug.port else ""
        return f"plug {self.plug.name!r} ({self.plug.host}{port})"

    async def read(self, timeout: float) -> PlugReading | None:
        """A fresh reading, or None (with ``last_failure`` set) when the plug cannot be read."""
        try:
            reading = await self._query.get(timeout)
        except Exception as err:  # every failure of a device read ends up here by design
            self._failed(classify(err, self.where))
            return None
        if self.last_failure is not None:
            log.info("%s: readable again", self.where)
            self.last_failure = None
        if reading.energy_today_wh is not None and reading.energy_month_wh is not None:
            self.energy.observe(reading.energy_today_wh, reading.energy_month_wh)
        return reading

    def _failed(self, failure: ReadFailure) -> None:
        self.failures[failure.reason] = self.failures.get(failure.reason, 0) + 1
        # One line when the cause changes, not one per scrape.
        if self.last_failure is None or self.last_failure.reason != failure.reason:
            log.warning("%s cannot be read (%s): %s", self.where, failure.reason, failure.hint)
        self.last_failure = failure

    async def _read_device(self) -> PlugReading:
        try:
            if self._device is None:
                if self._config.http_client is None:  # made here: aiohttp wants the loop
                    self._config.http_client = plug_session()
                self._device = await Device.connect(config=self._config)
            else:
                await self._device.update()
            return _reading(self._device)
        except BaseException:
            await self._drop_device()
            raise

    async def _drop_device(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(Exception):  # the session is thrown away anyway
                await device.disconnect()

    async def close(self) -> None:
        await self._query.close()
        await self._drop_device()
        session, self._config.http_client = self._config.http_client, None
        if session is not None:
            await session.close()


def _reading(device: Device) -> PlugReading:
    energy = device.modules.get(Module.Energy)
    if energy is None:
        raise NoEnergyModule(f"{device.model} reports no energy monitoring")
    # status raises the error of the last update of the energy module, if it had one.
    energy.status  # noqa: B018
    today = energy.consumption_today
    month = energy.consumption_this_month
    info = device.hw_info
    return PlugReading(
        power_watts=energy.current_consumption,
        energy_today_wh=None if today is None else today * 1000,
        energy_month_wh=None if month is None else month * 1000,
        voltage_volts=energy.voltage,
        current_amperes=energy.current,
        relay_on=device.is_on,
        model=device.model,
        hardware_version=str(info.get("hw_ver") or ""),
        firmware_version=str(info.get("sw_ver") or ""),
        mac=device.mac,
    )
