"""The simulated P110 answers with the field names, JSON types and units real plugs recorded.

The recordings live beside the checkout in shared/tapo-fixtures (one JSON file per model,
region, hardware and firmware version); the project never reads them at run time, only these
tests do, and they skip where the folder is absent.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from balupi.sim.tapo.device_model import SimulatedP110

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "tapo-fixtures"
ABSENT = f"{FIXTURES} is absent: the recorded Tapo answers are kept beside the checkout"
FAMILY = re.compile(r"^(P110|P110M|P115)\((\w+)\)_([\d.]+)_([\d.]+)\.json$")

# Fields that come and go with the firmware generation. Between the simulator (firmware 1.3.1)
# and a recording of another firmware these may be on one side only; every other field must be
# on both sides with the same JSON type.
FIRMWARE_VARIANT_FIELDS: dict[str, set[str]] = {
    "get_device_info": {
        "overheated",  # bool on older firmware; newer sends overheat_status ("normal", ...)
        "overheat_status",
        "charging_status",  # with the charging_protection component
        "overcurrent_status",  # with the current_protection component
        "auto_off_status",  # with the auto_off component (not on 1.0.x)
        "auto_off_remain_time",
        "power_protection_status",  # with the power_protection component (not on 1.0.x)
    },
    "get_energy_usage": {
        "past24h",  # history arrays of firmware 1.0.x, dropped later
        "past7d",
        "past30d",
        "past1y",
        "electricity_charge",  # firmware 1.2 and newer
    },
    "get_fw_download_state": {"auto_upgrade"},  # firmware 1.2 and newer
    "get_led_info": {"bri_config"},  # LED brightness, not on every firmware
}


def _recordings() -> list[Any]:
    if not FIXTURES.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT), id="absent")]
    files = [p for p in sorted(FIXTURES.glob("*.json")) if FAMILY.match(p.name)]
    if not files:
        reason = f"no P110-family recordings (P110, P110M, P115) in {FIXTURES}"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="none")]
    return [pytest.param(p, id=p.stem) for p in files]


RECORDINGS = _recordings()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _all_recordings() -> list[dict[str, Any]]:
    paths = [p.values[0] for p in RECORDINGS if p.values[0] is not None]
    if not paths:
        pytest.skip(ABSENT if not FIXTURES.is_dir() else f"no P110 recordings in {FIXTURES}")
    return [_load(p) for p in paths]


def _json_type(value: object) -> str:
    # bool before int: in Python a bool is an int, on the wire it is not.
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(value, kind):
            return name
    if value is None:
        return "null"
    return "list" if isinstance(value, list) else "object"


def _differences(sim: object, real: object, where: str, variants: set[str]) -> list[str]:
    """Every field-name or JSON-type difference between two answers, recursively."""
    if _json_type(sim) != _json_type(real):
        return [f"{where}: sim sends {_json_type(sim)}, the plug {_json_type(real)}"]
    problems: list[str] = []
    if isinstance(sim, dict) and isinstance(real, dict):
        for key in sorted(set(sim) | set(real)):
            if key in sim and key in real:
                problems += _differences(sim[key], real[key], f"{where}.{key}", variants)
            elif key not in variants:
                side = "the plug" if key in real else "the sim"
                problems.append(f"{where}.{key}: only {side} sends it")
    elif isinstance(sim, list) and isinstance(real, list) and sim and real:
        # The plugs' lists are homogeneous: compare the first items.
        problems += _differences(sim[0], real[0], f"{where}[0]", variants)
    return problems


def _sim_for(path: Path) -> SimulatedP110:
    model, _region, hw_ver, _fw = FAMILY.match(path.name).groups()  # type: ignore[union-attr]
    recorded = _load(path)
    emeter = "get_emeter_data" in recorded or _component(recorded, "energy_monitoring") != 1
    return SimulatedP110(model=model, hw_ver=hw_ver, power_watts=42.0, reports_voltage=emeter)


def _component(recording: dict[str, Any], name: str) -> int | None:
    for component in recording["component_nego"]["component_list"]:
        if component["id"] == name:
            return component["ver_code"]
    return None


@pytest.mark.parametrize("path", RECORDINGS)
def test_modelled_methods_have_the_recorded_fields_and_types(path: Path) -> None:
    recorded = _load(path)
    sim = _sim_for(path)
    compared = 0
    problems: list[str] = []
    for method in SimulatedP110.READ_METHODS:
        if method not in recorded:
            continue
        answer = sim.handle(method)
        if answer["error_code"] != 0:
            continue  # a method this firmware generation does not have (checked below)
        compared += 1
        variants = FIRMWARE_VARIANT_FIELDS.get(method, set())
        problems += _differences(answer["result"], recorded[method], method, variants)
    assert compared >= 8, f"only {compared} methods in common with {path.name}"
    assert not problems, "\n".join(problems)


def test_same_firmware_has_exactly_the_same_fields() -> None:
    """Against a recording of the simulator's own firmware no variant field is excused."""
    sim = SimulatedP110()
    same = [r for r in _all_recordings() if r["get_device_info"]["fw_ver"] == sim.fw_ver]
    if not same:
        pytest.skip(f"no recording of the simulated firmware {sim.fw_ver}")
    problems: list[str] = []
    for recorded in same:
        for method in SimulatedP110.READ_METHODS:
            if method in recorded:
                answer = sim.handle(method)["result"]
                problems += _differences(answer, recorded[method], method, set())
    assert not problems, "\n".join(problems)


def test_components_are_those_recorded_for_a_p110() -> None:
    recorded = {
        (c["id"], c["ver_code"])
        for r in _all_recordings()
        for c in r["component_nego"]["component_list"]
    }
    listed = SimulatedP110().handle("component_nego")["result"]["component_list"]
    assert {(c["id"], c["ver_code"]) for c in listed} <= recorded


def test_voltage_less_firmware_is_energy_monitoring_v1() -> None:
    """Recordings without get_emeter_data and with energy_monitoring v1 are what
    reports_voltage=False imitates: kasa then asks only get_energy_usage."""
    old = [
        r
        for r in _all_recordings()
        if "get_emeter_data" not in r and _component(r, "energy_monitoring") == 1
    ]
    if not old:
        pytest.skip("no recording of firmware with energy_monitoring v1")
    sim = SimulatedP110(reports_voltage=False)
    components = {"component_nego": sim.handle("component_nego")["result"]}
    assert _component(components, "energy_monitoring") == 1
    assert sim.handle("get_emeter_data") == {"error_code": -1002}
    for recording in old:
        assert "get_energy_usage" in recording


@pytest.mark.parametrize("path", RECORDINGS)
def test_units_agree_with_the_recordings(path: Path) -> None:
    recorded = _load(path)
    sim = SimulatedP110(power_watts=74.116)
    sim_answers = {m: sim.handle(m)["result"] for m in ("get_energy_usage", "get_current_power")}
    for answers in (recorded, sim_answers):
        usage = answers["get_energy_usage"]
        assert usage["today_energy"] <= usage["month_energy"]  # Wh, today within the month
        assert usage["today_runtime"] <= usage["month_runtime"]  # minutes
        if "get_current_power" in answers:  # mW in energy usage, whole W here
            watts = answers["get_current_power"]["current_power"]
            assert abs(usage["current_power"] - watts * 1000) <= 1000
    assert sim_answers["get_current_power"]["current_power"] == 74
    assert sim_answers["get_energy_usage"]["current_power"] == 74116
    if "get_emeter_data" in recorded:
        for emeter in (recorded["get_emeter_data"], sim.handle("get_emeter_data")["result"]):
            assert 90_000 <= emeter["voltage_mv"] <= 260_000  # mains in mV
    for info in (recorded["get_device_info"], sim.handle("get_device_info")["result"]):
        base64.b64decode(info["nickname"], validate=True)  # nicknames travel as base64
        assert info["type"] == "SMART.TAPOPLUG"
