"""The simulated Tapo P110: python-kasa 0.12 talks to it unchanged over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from kasa import (
    AuthenticationError,
    Credentials,
    Device,
    DeviceConfig,
    DeviceError,
    KasaException,
    Module,
)
from kasa import TimeoutError as KasaTimeoutError
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from kasa.smart.modules.energy import Energy as SmartEnergy

from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.klap import KlapCipher, KlapError, KlapServer, auth_hash, handshake2_hash
from balupi.sim.tapo.server import TapoSimServer
from tests.tapo_helpers import FakeClock
from tests.waiting import wait_for_async

USER = "nas-owner@example.com"
PASSWORD = "correct horse battery staple"
CET = timezone(timedelta(hours=1), "CET")
TRANSPORTS = ["klap", "aes"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 1, 15, 12, 0, tzinfo=CET))


def kasa_config(
    port: int,
    transport: str = "klap",
    *,
    username: str = USER,
    password: str = PASSWORD,
    timeout: float = 2,
    login_version: int = 2,
) -> DeviceConfig:
    encryption = {"klap": DeviceEncryptionType.Klap, "aes": DeviceEncryptionType.Aes}[transport]
    return DeviceConfig(
        host="127.0.0.1",
        port_override=port,
        timeout=timeout,  # type: ignore[arg-type]
        credentials=Credentials(username, password),
        connection_type=DeviceConnectionParameters(
            device_family=DeviceFamily.SmartTapoPlug,
            encryption_type=encryption,
            login_version=login_version,
            https=False,
        ),
    )


@asynccontextmanager
async def running(plug: SimulatedP110, transport: str = "klap") -> AsyncIterator[TapoSimServer]:
    server = TapoSimServer(plug, username=USER, password=PASSWORD, transport=transport)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def connected(config: DeviceConfig) -> AsyncIterator[Device]:
    device = await Device.connect(config=config)
    try:
        yield device
    finally:
        await device.disconnect()


# --- python-kasa against the simulator -----------------------------------------------------


@pytest.mark.parametrize(
    ("transport", "login_version"), [("klap", 2), ("aes", 2), ("aes", 1)]
)  # AES plugs report lv 2 in discovery on firmware 1.2, none (v1) on 1.0
async def test_kasa_reads_the_plug(transport: str, login_version: int, clock: FakeClock) -> None:
    plug = SimulatedP110(power_watts=35.5, now=clock)
    clock.advance(hours=2)  # 71 Wh at 35.5 W
    async with (
        running(plug, transport) as server,
        connected(kasa_config(server.port, transport, login_version=login_version)) as dev,
    ):
        energy = dev.modules[Module.Energy]
        assert dev.model == "P110"
        assert dev.alias == "NAS"
        assert dev.is_on is True
        assert dev.sys_info["type"] == "SMART.TAPOPLUG"
        assert energy.current_consumption == pytest.approx(35.5)
        assert energy.consumption_today == pytest.approx(0.071)  # kasa reports kWh
        assert energy.consumption_this_month == pytest.approx(0.071)
        assert energy.voltage == pytest.approx(230.0)
        assert energy.current == pytest.approx(0.154)
        assert server.handshake_count == 1
        assert server.request_count >= 3
        assert server.method_counts["get_energy_usage"] >= 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_power_changes_are_seen_on_the_next_update(transport: str) -> None:
    plug = SimulatedP110(power_watts=20.0)
    async with (
        running(plug, transport) as server,
        connected(kasa_config(server.port, transport)) as dev,
    ):
        energy = dev.modules[Module.Energy]
        assert energy.current_consumption == pytest.approx(20.0)
        plug.power_watts = 61.25
        await dev.update()
        assert energy.current_consumption == pytest.approx(61.25)


async def test_energy_grows_with_power_over_the_injected_clock(clock: FakeClock) -> None:
    plug = SimulatedP110(power_watts=100.0, now=clock)
    async with running(plug) as server, connected(kasa_config(server.port)) as dev:
        energy = dev.modules[Module.Energy]
        assert isinstance(energy, SmartEnergy)  # its raw reading: the SMART module
        assert energy.consumption_today == 0
        clock.advance(minutes=30)
        plug.power_watts = 200.0  # the first half hour was drawn at 100 W
        clock.advance(minutes=30)
        await dev.update()
        assert energy.consumption_today == pytest.approx(0.150)
        assert energy.consumption_this_month == pytest.approx(0.150)
        assert energy.energy["today_runtime"] == 60


async def test_today_resets_at_midnight_and_month_at_the_first(clock: FakeClock) -> None:
    clock.set(datetime(2025, 1, 31, 23, 0, tzinfo=CET))
    plug = SimulatedP110(power_watts=100.0, now=clock)
    async with running(plug) as server, connected(kasa_config(server.port)) as dev:
        energy = dev.modules[Module.Energy]
        assert isinstance(energy, SmartEnergy)  # its raw reading: the SMART module
        clock.advance(minutes=30)
        await dev.update()
        assert energy.consumption_today == pytest.approx(0.050)
        assert energy.consumption_this_month == pytest.approx(0.050)
        clock.advance(hours=1)  # 00:30 on 1 February: a new day and a new month
        await dev.update()
        assert energy.consumption_today == pytest.approx(0.050)
        assert energy.consumption_this_month == pytest.approx(0.050)
        clock.set(datetime(2025, 2, 2, 0, 30, tzinfo=CET))  # a jump across the next midnight
        await dev.update()
        assert energy.consumption_today == pytest.approx(0.050)
        assert energy.consumption_this_month == pytest.approx(2.450)  # 24.5 h of February
        assert energy.energy["local_time"] == "2025-02-02 00:30:00"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_firmware_without_voltage(transport: str) -> None:
    plug = SimulatedP110(power_watts=12.0, reports_voltage=False)
    async with (
        running(plug, transport) as server,
        connected(kasa_config(server.port, transport)) as dev,
    ):
        energy = dev.modules[Module.Energy]
        assert energy.current_consumption == pytest.approx(12.0)
        assert energy.voltage is None
        assert energy.current is None
        assert energy.consumption_today == 0
        with pytest.raises(DeviceError, match="UNKNOWN_METHOD"):
            await dev.protocol.query("get_emeter_data")


async def test_unknown_method_is_a_device_error() -> None:
    async with running(SimulatedP110()) as server, connected(kasa_config(server.port)) as dev:
        with pytest.raises(DeviceError, match="UNKNOWN_METHOD"):
            await dev.protocol.query("get_no_such_thing")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_wrong_credentials_fail_authentication(transport: str) -> None:
    async with running(SimulatedP110(), transport) as server:
        config = kasa_config(server.port, transport, password="not the password")
        with pytest.raises(AuthenticationError):
            await Device.connect(config=config)


@pytest.mark.parametrize(("transport", "step"), [("klap", "handshake1"), ("aes", "handshake")])
async def test_third_party_compatibility_off_answers_403(transport: str, step: str) -> None:
    async with running(SimulatedP110(), transport) as server:
        server.third_party_compat = False
        with pytest.raises(KasaException) as caught:
            await Device.connect(config=kasa_config(server.port, transport))
        assert "403" in str(caught.value)
        assert step in str(caught.value)
        assert server.handshake_count == 1
        server.third_party_compat = True  # switched on in the app: works without a restart
        async with connected(kasa_config(server.port, transport)) as dev:
            assert dev.is_on


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_expired_sessions_make_kasa_hand_shake_again(transport: str) -> None:
    plug = SimulatedP110(power_watts=40.0)
    async with (
        running(plug, transport) as server,
        connected(kasa_config(server.port, transport)) as dev,
    ):
        handshakes = server.handshake_count
        server.expire_sessions()
        plug.power_watts = 41.0
        await dev.update()  # refused once, then kasa hand-shakes transparently
        assert server.handshake_count == handshakes + 1
        assert dev.modules[Module.Energy].current_consumption == pytest.approx(41.0)


async def test_short_session_timeout_is_announced_to_kasa() -> None:
    async with running(SimulatedP110()) as server:
        server.session_timeout_seconds = 60  # kasa renews 20 minutes early: before every query
        async with connected(kasa_config(server.port)) as dev:
            handshakes = server.handshake_count
            await dev.update()
            assert server.handshake_count > handshakes


async def test_silent_plug_times_out_then_recovers() -> None:
    async with (
        running(SimulatedP110()) as server,
        connected(kasa_config(server.port, timeout=0.3)) as dev,
    ):
        requests = server.request_count
        server.silent = True
        with pytest.raises(KasaTimeoutError):
            await dev.protocol.query("get_device_info", retry_count=0)
        assert server.request_count == requests + 1  # it arrived, it was never answered
        server.silent = False
        await dev.update()
        assert dev.is_on


async def test_stop_while_silent_ends_held_requests() -> None:
    server = TapoSimServer(SimulatedP110(), username=USER, password=PASSWORD)
    port = await server.start()
    server.silent = True
    async with aiohttp.ClientSession() as http:
        held = asyncio.create_task(http.post(f"http://127.0.0.1:{port}/app/handshake1", data=b"x"))
        await wait_for_async(lambda: server.handshake_count == 1, what="the handshake held")
        await asyncio.wait_for(server.stop(), timeout=5)
        with pytest.raises((aiohttp.ClientError, asyncio.TimeoutError)):
            response = await asyncio.wait_for(held, timeout=5)
            response.raise_for_status()


async def test_delay_makes_answers_late() -> None:
    plug = SimulatedP110(power_watts=5.0)
    async with running(plug) as server, connected(kasa_config(server.port)) as dev:
        server.delay_seconds = 0.25
        started = time.monotonic()
        await dev.update()
        assert time.monotonic() - started >= 0.25
        assert dev.modules[Module.Energy].current_consumption == pytest.approx(5.0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_relay_off_means_no_power(transport: str) -> None:
    plug = SimulatedP110(power_watts=30.0)
    async with (
        running(plug, transport) as server,
        connected(kasa_config(server.port, transport)) as dev,
    ):
        energy = dev.modules[Module.Energy]
        await dev.turn_off()
        await dev.update()
        assert plug.device_on is False
        assert dev.is_on is False
        assert energy.current_consumption == 0
        assert energy.current == 0
        plug.device_on = True
        await dev.update()
        assert dev.is_on is True
        assert energy.current_consumption == pytest.approx(30.0)


# --- the control side channel --------------------------------------------------------------


async def _control(http: aiohttp.ClientSession, port: int, body: object) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(f"http://127.0.0.1:{port}/sim/control", data=raw) as response:
        return response.status, await response.json()


async def test_sim_state_and_control() -> None:
    plug = SimulatedP110(power_watts=10.0)
    async with (
        running(plug) as server,
        connected(kasa_config(server.port)) as dev,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"http://127.0.0.1:{server.port}/sim/state") as response:
            state = await response.json()
        assert state["power_watts"] == 10.0
        assert state["device_on"] is True
        assert state["today_energy_wh"] == 0
        assert state["handshake_count"] == 1
        assert state["request_count"] == server.request_count
        assert state["third_party_compat"] is True
        assert state["silent"] is False

        status, state = await _control(http, server.port, {"power_watts": 45, "delay_seconds": 0})
        assert status == 200
        assert state["power_watts"] == 45
        await dev.update()
        assert dev.modules[Module.Energy].current_consumption == pytest.approx(45.0)

        status, state = await _control(http, server.port, {"device_on": False})
        assert (status, state["device_on"], state["current_watts"]) == (200, False, 0)
        status, state = await _control(http, server.port, {"expire_sessions": True})
        assert (status, state["sessions"]) == (200, 0)
        status, state = await _control(
            http, server.port, {"third_party_compat": False, "silent": True, "delay_seconds": 1.5}
        )
        assert status == 200
        assert (server.third_party_compat, server.silent, server.delay_seconds) == (
            False,
            True,
            1.5,
        )
        # The side channel keeps answering while the plug API is silent.
        status, state = await _control(http, server.port, {"silent": False})
        assert (status, state["silent"]) == (200, False)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "JSON object"),
        ([1, 2], "JSON object"),
        ({}, "nothing to change"),
        ({"power_watts": 50, "volume": 11}, "unknown field(s) ['volume']"),
        ({"power_watts": "a lot"}, "power_watts must be a number >= 0"),
        ({"power_watts": -1}, "power_watts must be a number >= 0"),
        ({"device_on": "yes"}, "device_on must be true or false"),
        ({"silent": 1}, "silent must be true or false"),
        ({"delay_seconds": None}, "delay_seconds must be a number >= 0"),
        ({"expire_sessions": False}, "expire_sessions must be true"),
        ({"session_timeout_seconds": 0}, "session_timeout_seconds must be a number > 0"),
    ],
)
async def test_bad_control_input_is_refused_whole(body: object, message: str) -> None:
    plug = SimulatedP110(power_watts=10.0)
    async with running(plug) as server, aiohttp.ClientSession() as http:
        status, answer = await _control(http, server.port, body)
        assert status == 400
        assert message in answer["error"]
        assert plug.power_watts == 10.0  # nothing of a bad request is applied


# --- the pure parts ------------------------------------------------------------------------


def test_klap_sessions_expire_and_check_signatures() -> None:
    auth = auth_hash(USER, PASSWORD)
    server = KlapServer(auth, session_timeout=100, random_bytes=lambda n: bytes(range(n)))
    local_seed = b"L" * 16
    session_id, answer = server.handshake1(local_seed, now=0)
    remote_seed = answer[:16]
    server.handshake2(session_id, handshake2_hash(local_seed, remote_seed, auth), now=1)
    client = KlapCipher(local_seed, remote_seed, auth)
    seq = client.initial_seq + 1
    request = client.encrypt(seq, b'{"method":"get_device_info"}')
    assert (
        server.decrypt_request(session_id, seq, request, now=2) == b'{"method":"get_device_info"}'
    )
    with pytest.raises(KlapError, match="signature"):
        server.decrypt_request(session_id, seq + 1, request, now=2)
    answer = server.encrypt_response(session_id, seq, b'{"error_code":0}')
    assert client.decrypt(seq, answer) == b'{"error_code":0}'
    with pytest.raises(KlapError, match="expired"):
        server.decrypt_request(session_id, seq, request, now=100)


def test_klap_handshake2_with_other_credentials_is_refused() -> None:
    server = KlapServer(auth_hash(USER, PASSWORD))
    session_id, answer = server.handshake1(b"S" * 16, now=0)
    wrong = handshake2_hash(b"S" * 16, answer[:16], auth_hash(USER, "guess"))
    with pytest.raises(KlapError):
        server.handshake2(session_id, wrong, now=0)


def test_energy_is_booked_by_local_day_and_month(clock: FakeClock) -> None:
    clock.set(datetime(2025, 1, 10, 12, 0, tzinfo=CET))
    plug = SimulatedP110(power_watts=100.0, now=clock)
    clock.set(datetime(2025, 1, 12, 12, 0, tzinfo=CET))  # two days later, read only now
    assert plug.today_energy_wh == 1200
    assert plug.month_energy_wh == 4800
    assert plug.today_runtime_min == 12 * 60
    usage = plug.handle("get_device_usage")["result"]
    assert usage["power_usage"] == {"today": 1200, "past7": 4800, "past30": 4800}
    assert usage["time_usage"]["past7"] == 48 * 60
    clock.set(datetime(2025, 1, 12, 11, 0, tzinfo=CET))  # a clock set back books nothing
    assert plug.today_energy_wh == 1200
    clock.set(datetime(2025, 3, 1, 0, 0, tzinfo=CET))  # weeks later: an old month is gone
    assert plug.month_energy_wh == 0
    assert plug.today_energy_wh == 0


def test_relay_off_books_no_energy(clock: FakeClock) -> None:
    plug = SimulatedP110(power_watts=100.0, now=clock)
    plug.device_on = False
    clock.advance(hours=1)
    assert (plug.current_watts, plug.today_energy_wh, plug.today_runtime_min) == (0, 0, 0)
    assert plug.handle("get_device_info")["result"]["on_time"] == 0
    plug.device_on = True
    clock.advance(minutes=10)
    assert plug.handle("get_device_info")["result"]["on_time"] == 600
    assert plug.today_energy_wh == 16


def test_energy_across_a_dst_change() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database on this machine")
    clock = FakeClock(datetime(2025, 3, 30, 1, 0, tzinfo=berlin))
    plug = SimulatedP110(power_watts=100.0, now=clock)
    clock.set(datetime(2025, 3, 30, 4, 0, tzinfo=berlin))  # 3 wall-clock hours, 2 real ones
    assert plug.today_energy_wh == 200
    assert plug.handle("get_device_time")["result"]["region"] == "Europe/Berlin"


def test_multiple_request_answers_each_method() -> None:
    plug = SimulatedP110(nickname="Büro")
    answer = plug.handle(
        "multipleRequest",
        {"requests": [{"method": "get_device_info"}, {"method": "get_nothing"}]},
    )
    first, second = answer["result"]["responses"]
    assert (answer["error_code"], first["method"], first["error_code"]) == (0, "get_device_info", 0)
    assert first["result"]["nickname"] == "QsO8cm8="  # base64 of UTF-8, as plugs send it
    assert second == {"method": "get_nothing", "error_code": -1002}
    assert plug.handle("set_device_info", {"device_on": "off"})["error_code"] == -1008


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimulatedP110(now=lambda: datetime(2025, 1, 1, 12, 0))


# --- balupi-sim tapo -----------------------------------------------------------------------


def _sim_command() -> list[str]:
    script = Path(sys.executable).parent / "balupi-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "balupi.sim.cli"]


async def _spawn(*args: str, password: str | None = PASSWORD) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "BALUPI_SIM_TAPO_PASSWORD"}
    if password is not None:
        env["BALUPI_SIM_TAPO_PASSWORD"] = password
    return await asyncio.create_subprocess_exec(
        *_sim_command(),
        "tapo",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout=10)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_serves_until_sigterm() -> None:
    process = await _spawn("--port", "0", "--power", "35.5", "--username", USER)
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        port = int(match.group(1))
        assert "/sim/control" in line
        async with connected(kasa_config(port)) as dev:
            assert dev.modules[Module.Energy].current_consumption == pytest.approx(35.5)
        process.send_signal(signal.SIGTERM)
        code, _, err = await _finish(process)
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await _spawn("--port", str(port), "--username", USER)
        code, out, err = await _finish(process)
    assert code == 2
    assert out == ""
    assert err.strip().count("\n") == 0
    assert f"127.0.0.1:{port}" in err
    assert "already in use" in err
    assert "Traceback" not in err


async def test_cli_without_password_is_a_clear_error() -> None:
    code, _, err = await _finish(await _spawn("--port", "0", "--username", USER, password=None))
    assert code == 2
    assert "BALUPI_SIM_TAPO_PASSWORD" in err
    assert "Traceback" not in err
