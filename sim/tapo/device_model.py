"""The simulated Tapo P110: its state and its answers to SMART methods.

Transport-free: `handle(method, params)` takes a decrypted SMART request and returns the
`{"error_code", "result"}` envelope a real plug would encrypt and send back. Field names, types
and units follow what P110 firmware 1.3.x sends; the values are our own.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

SUCCESS = 0
UNKNOWN_METHOD = -1002
PARAMS_ERROR = -1008

DEFAULT_FW_VER = "1.3.1 Build 240621 Rel.162048"
DEFAULT_MAC = "5C-62-8B-4E-21-A7"

# What a P110 on firmware 1.3.x lists in component_nego (id, version). Only these decide which
# python-kasa modules exist; energy_monitoring v2 makes kasa ask get_current_power and the
# get_emeter_* methods too.
P110_COMPONENTS: tuple[tuple[str, int], ...] = (
    ("device", 2),
    ("firmware", 2),
    ("quick_setup", 3),
    ("time", 1),
    ("wireless", 1),
    ("schedule", 2),
    ("countdown", 2),
    ("antitheft", 1),
    ("account", 1),
    ("synchronize", 1),
    ("sunrise_sunset", 1),
    ("led", 1),
    ("cloud_connect", 1),
    ("iot_cloud", 1),
    ("device_local_time", 1),
    ("default_states", 1),
    ("auto_off", 2),
    ("localSmart", 1),
    ("energy_monitoring", 2),
    ("power_protection", 1),
    ("charging_protection", 2),
    ("current_protection", 1),
)

# Usage history older than this is never asked for (past30, this month).
_HISTORY_DAYS = 32


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _hex_id(seed: str, length: int) -> str:
    """A stable, made-up hex identifier (device_id, hw_id, ...) derived from the MAC."""
    return hashlib.sha256(seed.encode()).hexdigest().upper()[:length]


def _floor(value: float) -> int:
    """Meters count completed units; the epsilon keeps 99.99999 (float noise) from being 99."""
    return math.floor(value + 1e-6)


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _region(now: datetime) -> str:
    """The plug's `region` is an IANA zone name; fall back to the zone's abbreviation."""
    key = getattr(now.tzinfo, "key", None)
    return key or now.tzname() or "UTC"


@dataclass
class _Day:
    """What one local calendar day accumulated."""

    energy_wh: float = 0.0
    on_seconds: float = 0.0


class SimulatedP110:
    """A P110 smart plug measuring a load of `power_watts` while its relay is on."""

    def __init__(
        self,
        *,
        nickname: str = "NAS",
        model: str = "P110",
        hw_ver: str = "1.0",
        fw_ver: str = DEFAULT_FW_VER,
        mac: str = DEFAULT_MAC,
        power_watts: float = 0.0,
        reports_voltage: bool = True,
        now: Callable[[], datetime] | None = None,
        voltage_volts: float = 230.0,
        ip: str = "192.168.178.60",
        ssid: str = "BaluNet",
        rssi: int = -47,
    ) -> None:
        self.nickname = nickname
        self.model = model
        self.hw_ver = hw_ver
        self.fw_ver = fw_ver
        self.mac = mac
        self.reports_voltage = reports_voltage
        self.voltage_volts = voltage_volts
        self.ip = ip
        self.ssid = ssid
        self.rssi = rssi
        self._now = now or _local_now
        self._power_watts = _check_power(power_watts)
        self._device_on = True
        self._days: dict[date, _Day] = {}
        self._total_wh = 0.0
        self._last_seen = self._read_clock()
        self._on_since: datetime | None = self._last_seen

    # --- state -------------------------------------------------------------------------

    @property
    def device_id(self) -> str:
        """What get_device_info and the discovery answer both call the plug."""
        return _hex_id("device" + self.mac, 40)

    @property
    def power_watts(self) -> float:
        """The load's draw in W while the relay is on (what the meter shows then)."""
        return self._power_watts

    @power_watts.setter
    def power_watts(self, watts: float) -> None:
        watts = _check_power(watts)
        self._advance()  # energy so far was drawn at the old power
        self._power_watts = watts

    @property
    def device_on(self) -> bool:
        return self._device_on

    @device_on.setter
    def device_on(self, on: bool) -> None:
        on = bool(on)
        now = self._advance()
        if on and not self._device_on:
            self._on_since = now
        elif not on:
            self._on_since = None
        self._device_on = on

    @property
    def current_watts(self) -> float:
        """What the meter measures now: the load's draw, or nothing with the relay off."""
        return self._power_watts if self._device_on else 0.0

    @property
    def today_energy_wh(self) -> int:
        return _floor(self._today().energy_wh)

    @property
    def month_energy_wh(self) -> int:
        now = self._advance()
        return _floor(sum(d.energy_wh for day, d in self._days.items() if _same_month(day, now)))

    @property
    def today_runtime_min(self) -> int:
        return _floor(self._today().on_seconds / 60)

    @property
    def month_runtime_min(self) -> int:
        now = self._advance()
        seconds = sum(d.on_seconds for day, d in self._days.items() if _same_month(day, now))
        return _floor(seconds / 60)

    # --- energy bookkeeping ------------------------------------------------------------

    def _read_clock(self) -> datetime:
        now = self._now()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the clock must return aware local datetimes")
        return now

    def _advance(self) -> datetime:
        """Book the energy drawn since the last observation, day by local day; return now."""
        now = self._read_clock()
        start = self._last_seen
        self._last_seen = now
        if now <= start:  # a clock set back books nothing
            return now
        watts, on = self.current_watts, self._device_on
        # Days are the clock's current zone's days; history older than kept is never reported.
        start = max(start.astimezone(now.tzinfo), now - timedelta(days=_HISTORY_DAYS))
        while start < now:
            midnight = datetime.combine(start.date() + timedelta(days=1), time(), start.tzinfo)
            end = min(now, midnight)
            # Timestamps, not aware-datetime subtraction: same-tzinfo arithmetic is wall time.
            seconds = end.timestamp() - start.timestamp()
            day = self._days.setdefault(start.date(), _Day())
            day.energy_wh += watts * seconds / 3600
            self._total_wh += watts * seconds / 3600
            if on:
                day.on_seconds += seconds
            start = end
        oldest = now.date() - timedelta(days=_HISTORY_DAYS)
        for stale in [d for d in self._days if d < oldest]:
            del self._days[stale]
        return now

    def _today(self) -> _Day:
        now = self._advance()
        return self._days.get(now.date(), _Day())

    def _past(self, days: int) -> _Day:
        """Sum over the last `days` local days, today included."""
        now = self._advance()
        first = now.date() - timedelta(days=days - 1)
        total = _Day()
        for day, d in self._days.items():
            if first <= day <= now.date():
                total.energy_wh += d.energy_wh
                total.on_seconds += d.on_seconds
        return total

    # --- SMART methods -----------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Answer one SMART request the way the plug does."""
        if method == "multipleRequest":
            return self._multiple(params)
        if method == "get_emeter_data" and not self.reports_voltage:
            return {"error_code": UNKNOWN_METHOD}  # older firmware has no such method
        if method == "get_emeter_vgain_igain" and not self.reports_voltage:
            return {"error_code": UNKNOWN_METHOD}
        if method == "set_device_info":
            return self._set_device_info(params)
        getter = self._GETTERS.get(method)
        if getter is None:
            return {"error_code": UNKNOWN_METHOD}
        return {"error_code": SUCCESS, "result": getter(self)}

    def _multiple(self, params: dict[str, Any] | None) -> dict[str, Any]:
        requests = (params or {}).get("requests")
        if not isinstance(requests, list):
            return {"error_code": PARAMS_ERROR}
        responses = []
        for request in requests:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                return {"error_code": PARAMS_ERROR}
            if request["method"] == "multipleRequest":  # no nesting
                return {"error_code": PARAMS_ERROR}
            answer = self.handle(request["method"], request.get("params"))
            responses.append({"method": request["method"], **answer})
        return {"error_code": SUCCESS, "result": {"responses": responses}}

    def _set_device_info(self, params: dict[str, Any] | None) -> dict[str, Any]:
        params = params or {}
        on = params.get("device_on")
        nickname = params.get("nickname")
        if on is not None and not isinstance(on, bool):
            return {"error_code": PARAMS_ERROR}
        if nickname is not None:
            try:
                nickname = base64.b64decode(nickname, validate=True).decode()
            except (ValueError, TypeError):
                return {"error_code": PARAMS_ERROR}
        if on is not None:
            self.device_on = on
        if nickname is not None:
            self.nickname = nickname
        return {"error_code": SUCCESS}  # set_ methods answer without a result

    def component_nego(self) -> dict[str, Any]:
        components = dict(P110_COMPONENTS)
        if not self.reports_voltage:
            # Firmware without get_emeter_data (1.0.x) lists energy_monitoring v1, so kasa
            # asks only get_energy_usage. A v2 plug answering -1002 there would make
            # python-kasa 0.12 drop its whole Energy module, which no real plug triggers.
            components["energy_monitoring"] = 1
        return {"component_list": [{"id": i, "ver_code": v} for i, v in components.items()]}

    def get_device_info(self) -> dict[str, Any]:
        now = self._advance()
        on_time = int(now.timestamp() - self._on_since.timestamp()) if self._on_since else 0
        return {
            "device_id": self.device_id,
            "fw_ver": self.fw_ver,
            "hw_ver": self.hw_ver,
            "type": "SMART.TAPOPLUG",
            "model": self.model,
            "mac": self.mac,
            "hw_id": _hex_id("hw" + self.model, 32),
            "fw_id": _hex_id("fw" + self.fw_ver, 32),
            "oem_id": _hex_id("oem" + self.model, 32),
            "ip": self.ip,
            "time_diff": _minutes_east(now),
            "ssid": _b64(self.ssid),
            "rssi": self.rssi,
            "signal_level": _signal_level(self.rssi),
            "auto_off_status": "off",
            "auto_off_remain_time": 0,
            "longitude": 134050,  # degrees * 10_000, as the app stores them
            "latitude": 525200,
            "lang": "de_DE",
            "avatar": "plug",
            "region": _region(now),
            "specs": "",
            "nickname": _b64(self.nickname),
            "has_set_location_info": True,
            "device_on": self._device_on,
            "on_time": on_time,
            "default_states": {"type": "last_states", "state": {}},
            "overheat_status": "normal",
            "power_protection_status": "normal",
            "overcurrent_status": "normal",
            "charging_status": "normal",
        }

    def get_connect_cloud_state(self) -> dict[str, Any]:
        return {"status": 0}

    def get_device_time(self) -> dict[str, Any]:
        now = self._advance()
        return {
            "timestamp": int(now.timestamp()),
            "time_diff": _minutes_east(now),
            "region": _region(now),
        }

    def get_device_usage(self) -> dict[str, Any]:
        days = {"today": self._past(1), "past7": self._past(7), "past30": self._past(30)}
        return {
            "time_usage": {k: _floor(d.on_seconds / 60) for k, d in days.items()},
            "power_usage": {k: _floor(d.energy_wh) for k, d in days.items()},
            # Savings from schedules and away mode, which the simulation does not have.
            "saved_power": dict.fromkeys(days, 0),
        }

    def get_energy_usage(self) -> dict[str, Any]:
        now = self._advance()
        return {
            "today_runtime": self.today_runtime_min,
            "month_runtime": self.month_runtime_min,
            "today_energy": self.today_energy_wh,
            "month_energy": self.month_energy_wh,
            "local_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "electricity_charge": [0, 0, 0],
            "current_power": round(self.current_watts * 1000),  # mW
        }

    def get_current_power(self) -> dict[str, Any]:
        return {"current_power": round(self.current_watts)}  # whole W

    def get_emeter_data(self) -> dict[str, Any]:
        self._advance()
        watts = self.current_watts
        amps = watts / self.voltage_volts if self.voltage_volts > 0 else 0.0
        return {
            "power_mw": round(watts * 1000),
            "voltage_mv": round(self.voltage_volts * 1000),
            "current_ma": round(amps * 1000),
            "energy_wh": _floor(self._total_wh),
        }

    def get_emeter_vgain_igain(self) -> dict[str, Any]:
        return {"vgain": 126480, "igain": 11520}  # calibration gains, opaque integers

    def get_auto_update_info(self) -> dict[str, Any]:
        return {"enable": True, "time": 180, "random_range": 120}

    def get_latest_fw(self) -> dict[str, Any]:
        return {
            "type": 0,
            "fw_ver": self.fw_ver,
            "fw_size": 0,
            "release_date": "",
            "release_note": "",
            "need_to_upgrade": False,
            "hw_id": "",
            "oem_id": "",
        }

    def get_fw_download_state(self) -> dict[str, Any]:
        return {
            "status": 0,
            "download_progress": 0,
            "reboot_time": 5,
            "upgrade_time": 5,
            "auto_upgrade": False,
        }

    def get_led_info(self) -> dict[str, Any]:
        return {
            "led_rule": "always",
            "led_status": self._device_on,  # the LED shows the relay
            "night_mode": {
                "night_mode_type": "sunrise_sunset",
                "start_time": 1140,
                "end_time": 420,
                "sunrise_offset": 0,
                "sunset_offset": 0,
            },
            "bri_config": {"bri_type": "overall", "overall_bri": 60},
        }

    def get_auto_off_config(self) -> dict[str, Any]:
        return {"enable": False, "delay_min": 120}

    def get_protection_power(self) -> dict[str, Any]:
        return {"enabled": False, "protection_power": 0}

    def get_max_power(self) -> dict[str, Any]:
        return {"max_power": 3680}  # 16 A at 230 V, the EU plug's rating

    # Read-only methods, by wire name.
    _GETTERS: dict[str, Callable[[SimulatedP110], dict[str, Any]]] = {
        "component_nego": component_nego,
        "get_device_info": get_device_info,
        "get_connect_cloud_state": get_connect_cloud_state,
        "get_device_time": get_device_time,
        "get_device_usage": get_device_usage,
        "get_energy_usage": get_energy_usage,
        "get_current_power": get_current_power,
        "get_emeter_data": get_emeter_data,
        "get_emeter_vgain_igain": get_emeter_vgain_igain,
        "get_auto_update_info": get_auto_update_info,
        "get_latest_fw": get_latest_fw,
        "get_fw_download_state": get_fw_download_state,
        "get_led_info": get_led_info,
        "get_auto_off_config": get_auto_off_config,
        "get_protection_power": get_protection_power,
        "get_max_power": get_max_power,
    }
    # Every method answered (besides set_device_info and multipleRequest).
    READ_METHODS: tuple[str, ...] = tuple(_GETTERS)


def _check_power(watts: float) -> float:
    if isinstance(watts, bool) or not isinstance(watts, int | float):
        raise TypeError("power_watts must be a number")
    if not math.isfinite(watts) or watts < 0:
        raise ValueError("power_watts must be a finite number >= 0")
    return float(watts)


def _same_month(day: date, now: datetime) -> bool:
    return (day.year, day.month) == (now.year, now.month)


def _minutes_east(now: datetime) -> int:
    offset = now.utcoffset() or timedelta()
    return int(offset.total_seconds() // 60)


def _signal_level(rssi: int) -> int:
    """The app's three bars from the RSSI in dBm."""
    if rssi >= -50:
        return 3
    if rssi >= -70:
        return 2
    return 1
