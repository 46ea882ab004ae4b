"""An HTTP server that speaks to python-kasa like a Tapo P110 does, with faults to switch on.

`/app/...` is the plug's own API (KLAP or AES, one per server). `/sim/state` and `/sim/control`
are ours, for tests and demos; they keep answering while the plug API is silent or slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import socket
import time
from collections import Counter
from typing import Any, TypeGuard

from aiohttp import web

from balupi.aiohttp_compat import SHUTDOWN_TIMEOUT_ON_RUNNER
from balupi.sim.tapo.aes import AesError, AesServer
from balupi.sim.tapo.device_model import SimulatedP110
from balupi.sim.tapo.discovery import DiscoveryResponder
from balupi.sim.tapo.klap import KlapError, KlapServer, auth_hash

log = logging.getLogger("balupi.sim.tapo")

TRANSPORTS = ("klap", "aes")
SESSION_COOKIE = "TP_SESSIONID"
TIMEOUT_COOKIE = "TIMEOUT"
JSON_DECODE_FAIL = -1003

_CONTROL_FIELDS = (
    "power_watts",
    "device_on",
    "third_party_compat",
    "silent",
    "delay_seconds",
    "expire_sessions",
    "session_timeout_seconds",
    "huge_answer_bytes",
)


class TapoSimServer:
    """Serves one SimulatedP110 on host:port over KLAP v2 (default) or AES."""

    def __init__(
        self,
        plug: SimulatedP110,
        *,
        username: str,
        password: str,
        transport: str = "klap",
        host: str = "127.0.0.1",
        port: int = 0,
        discovery_port: int | None = None,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        self.plug = plug
        self.transport = transport
        self.host = host
        self._requested_port = port
        # UDP port that answers python-kasa's discovery (20002 is the one it probes); None: off.
        self._discovery_port = discovery_port
        self._discovery: DiscoveryResponder | None = None
        self._klap = KlapServer(auth_hash(username, password))
        self._aes = AesServer(username, password)
        # Faults, settable while running.
        self.third_party_compat = True
        self.delay_seconds = 0.0
        # A broken or hostile plug: every request answered with this many bytes (0: off),
        # streamed without a length, so the client cannot tell before it reads.
        self.huge_answer_bytes = 0
        self._silent = False
        # Counters.
        self.request_count = 0
        self.handshake_count = 0
        self.method_counts: Counter[str] = Counter()
        self._unsilenced = asyncio.Event()
        self._unsilenced.set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- faults --------------------------------------------------------------------------

    @property
    def silent(self) -> bool:
        """While True the plug API accepts connections and requests but never answers."""
        return self._silent

    @silent.setter
    def silent(self, value: bool) -> None:
        self._silent = bool(value)
        if self._silent:
            self._unsilenced.clear()
        else:
            self._unsilenced.set()  # held requests get their (late) answers

    @property
    def session_timeout_seconds(self) -> float:
        """Sessions older than this get 403 (KLAP) or 9999 (AES); sent as the TIMEOUT cookie."""
        return self._klap.session_timeout

    @session_timeout_seconds.setter
    def session_timeout_seconds(self, seconds: float) -> None:
        self._klap.session_timeout = seconds
        self._aes.session_timeout = seconds

    def expire_sessions(self) -> None:
        """Drop every session; the next request is refused and kasa must hand-shake again."""
        self._klap.expire_all()
        self._aes.expire_all()

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def discovery_port(self) -> int | None:
        """The bound UDP port that answers discovery, or None while it is off."""
        return self._discovery.port if self._discovery is not None else None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not started")
        return self._port

    async def start(self) -> int:
        """Bind and serve; return the bound port. OSError if the address cannot be had."""
        if self._runner is not None:
            raise RuntimeError("the server is already started")
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._stopping.clear()
        self.silent = self._silent  # stop() woke the held requests; a restart holds again
        app = web.Application()
        app.router.add_post("/app/handshake1", self._klap_handshake1)
        app.router.add_post("/app/handshake2", self._klap_handshake2)
        app.router.add_post("/app/request", self._klap_request)
        app.router.add_post("/app", self._aes_app)
        app.router.add_get("/sim/state", self._sim_state)
        app.router.add_post("/sim/control", self._sim_control)
        # Held requests are woken by stop(), so a short shutdown timeout is enough.
        if SHUTDOWN_TIMEOUT_ON_RUNNER:
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        else:  # aiohttp 3.8 (Debian bookworm) takes it on the site
            runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            if SHUTDOWN_TIMEOUT_ON_RUNNER:
                await web.SockSite(runner, sock).start()
            else:
                await web.SockSite(runner, sock, shutdown_timeout=2.0).start()
        except BaseException:
            await runner.cleanup()
            sock.close()
            raise
        self._runner = runner
        self._port = sock.getsockname()[1]
        if self._discovery_port is not None:
            responder = DiscoveryResponder(
                self.plug,
                host=self.host,
                http_port=self._port,
                transport=self.transport,
                port=self._discovery_port,
            )
            try:
                await responder.start()
            except BaseException:
                await self.stop()
                raise
            self._discovery = responder
        log.debug("tapo sim (%s) listening on %s:%s", self.transport, self.host, self._port)
        return self._port

    async def stop(self) -> None:
        """Stop serving; requests held by `silent` or `delay_seconds` end at once."""
        runner, self._runner = self._runner, None
        discovery, self._discovery = self._discovery, None
        if discovery is not None:
            discovery.stop()
        self._stopping.set()
        self._unsilenced.set()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> TapoSimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- the plug API --------------------------------------------------------------------

    async def _hold(self) -> None:
        """The silent and slow faults: wait before answering, unless the server stops.

        Called after a request is counted, so a silent plug still shows what it was sent.
        """
        if self._silent:
            await self._unsilenced.wait()
        if self.delay_seconds > 0 and not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.delay_seconds)
        if self._stopping.is_set():
            raise web.HTTPServiceUnavailable(text="simulator stopping")

    def _forbidden_unless_compatible(self) -> None:
        if not self.third_party_compat:
            # What P110 firmware 1.4 does until "Third-Party Compatibility" is switched on.
            raise web.HTTPForbidden(text="third-party compatibility is off")

    def _session_cookies(self, response: web.StreamResponse, session_id: str) -> None:
        response.set_cookie(SESSION_COOKIE, session_id)
        response.set_cookie(TIMEOUT_COOKIE, str(math.ceil(self.session_timeout_seconds)))

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one decrypted SMART request on the plug, counting its methods."""
        method = request.get("method")
        if not isinstance(method, str):
            return {"error_code": JSON_DECODE_FAIL}
        params = request.get("params")
        self.method_counts[method] += 1
        if method == "multipleRequest" and isinstance(params, dict):
            for inner in params.get("requests") or []:
                if isinstance(inner, dict) and isinstance(inner.get("method"), str):
                    self.method_counts[inner["method"]] += 1
        return self.plug.handle(method, params if isinstance(params, dict) else None)

    async def _klap_handshake1(self, request: web.Request) -> web.StreamResponse:
        self._require_transport("klap")
        self.handshake_count += 1
        await self._hold()
        self._forbidden_unless_compatible()
        try:
            session_id, body = self._klap.handshake1(await request.read(), time.monotonic())
        except KlapError as err:
            raise web.HTTPBadRequest(text=str(err)) from err
        response = web.Response(body=body, content_type="application/octet-stream")
        self._session_cookies(response, session_id)
        return response

    async def _klap_handshake2(self, request: web.Request) -> web.StreamResponse:
        self._require_transport("klap")
        await self._hold()
        session_id = request.cookies.get(SESSION_COOKIE)
        try:
            self._klap.handshake2(session_id, await request.read(), time.monotonic())
        except KlapError as err:
            raise web.HTTPForbidden(text=str(err)) from err
        return web.Response(status=200)

    async def _klap_request(self, request: web.Request) -> web.StreamResponse:
        self._require_transport("klap")
        self.request_count += 1
        await self._hold()
        if self.huge_answer_bytes:
            return await self._huge_answer(request)
        try:
            seq = int(request.query["seq"])
        except (KeyError, ValueError) as err:
            raise web.HTTPBadRequest(text="seq must be an integer") from err
        session_id = request.cookies.get(SESSION_COOKIE)
        try:
            plaintext = self._klap.decrypt_request(
                session_id, seq, await request.read(), time.monotonic()
            )
        except KlapError as err:
            # A 403 is how the plug tells the client its session is gone: hand-shake again.
            raise web.HTTPForbidden(text=str(err)) from err
        try:
            smart_request = json.loads(plaintext)
            answer = self._answer(smart_request) if isinstance(smart_request, dict) else None
        except ValueError:
            answer = None
        answer = answer or {"error_code": JSON_DECODE_FAIL}
        body = self._klap.encrypt_response(session_id, seq, _compact(answer))
        return web.Response(body=body, content_type="application/octet-stream")

    async def _huge_answer(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk, left = b"\0" * 65536, self.huge_answer_bytes
        with contextlib.suppress(ConnectionError):  # the client hangs up once it has enough
            while left > 0 and not self._stopping.is_set():
                await response.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            await response.write_eof()
        return response

    async def _aes_app(self, request: web.Request) -> web.StreamResponse:
        self._require_transport("aes")
        try:
            envelope = json.loads(await request.read())
        except ValueError:
            envelope = None
        method = envelope.get("method") if isinstance(envelope, dict) else None
        if method == "handshake":
            self.handshake_count += 1
        elif method == "securePassthrough":
            self.request_count += 1
        await self._hold()
        if not isinstance(envelope, dict):
            return web.json_response({"error_code": JSON_DECODE_FAIL})
        params = envelope.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "handshake":
            return self._aes_handshake(params)
        if method == "securePassthrough":
            return self._aes_passthrough(request, params)
        return web.json_response({"error_code": -1002})

    def _aes_handshake(self, params: dict[str, Any]) -> web.StreamResponse:
        self._forbidden_unless_compatible()
        try:
            session_id, key = self._aes.handshake(str(params.get("key", "")), time.monotonic())
        except AesError as err:
            return web.json_response({"error_code": err.error_code})
        response = web.json_response({"error_code": 0, "result": {"key": key}})
        self._session_cookies(response, session_id)
        return response

    def _aes_passthrough(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        try:
            session = self._aes.session(request.cookies.get(SESSION_COOKIE), time.monotonic())
            plaintext = session.cipher.decrypt(str(params.get("request", "")))
            try:
                inner = json.loads(plaintext)
            except ValueError:
                inner = None
            if not isinstance(inner, dict):
                answer: dict[str, Any] = {"error_code": JSON_DECODE_FAIL}
            elif inner.get("method") == "login_device":
                self.method_counts["login_device"] += 1
                answer = self._aes.login(session, inner.get("params"))
            else:
                self._aes.check_token(session, request.query.get("token"))
                answer = self._answer(inner)
        except AesError as err:
            return web.json_response({"error_code": err.error_code})
        encrypted = session.cipher.encrypt(_compact(answer))
        return web.json_response({"error_code": 0, "result": {"response": encrypted}})

    def _require_transport(self, transport: str) -> None:
        if self.transport != transport:
            raise web.HTTPNotFound(text=f"this plug speaks {self.transport}, not {transport}")

    # --- the sim's side channel ----------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What /sim/state answers: the plug's readings, the counters and the faults."""
        plug = self.plug
        return {
            "transport": self.transport,
            "power_watts": plug.power_watts,
            "current_watts": plug.current_watts,
            "device_on": plug.device_on,
            "voltage_volts": plug.voltage_volts if plug.reports_voltage else None,
            "today_energy_wh": plug.today_energy_wh,
            "month_energy_wh": plug.month_energy_wh,
            "today_runtime_min": plug.today_runtime_min,
            "month_runtime_min": plug.month_runtime_min,
            "request_count": self.request_count,
            "discovery_probes": self._discovery.probe_count if self._discovery else 0,
            "handshake_count": self.handshake_count,
            "method_counts": dict(self.method_counts),
            "sessions": self._klap.session_count + self._aes.session_count,
            "third_party_compat": self.third_party_compat,
            "silent": self.silent,
            "delay_seconds": self.delay_seconds,
            "session_timeout_seconds": self.session_timeout_seconds,
        }

    async def _sim_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.state())

    async def _sim_control(self, request: web.Request) -> web.StreamResponse:
        try:
            changes = json.loads(await request.read())
        except ValueError:
            return _bad_request("the body must be a JSON object")
        problems = _control_problems(changes)
        if problems:
            return _bad_request("; ".join(problems))
        # Validated as a whole first, so a bad request changes nothing.
        if "power_watts" in changes:
            self.plug.power_watts = changes["power_watts"]
        if "device_on" in changes:
            self.plug.device_on = changes["device_on"]
        if "third_party_compat" in changes:
            self.third_party_compat = changes["third_party_compat"]
        if "silent" in changes:
            self.silent = changes["silent"]
        if "delay_seconds" in changes:
            self.delay_seconds = float(changes["delay_seconds"])
        if "session_timeout_seconds" in changes:
            self.session_timeout_seconds = float(changes["session_timeout_seconds"])
        if "huge_answer_bytes" in changes:
            self.huge_answer_bytes = int(changes["huge_answer_bytes"])
        if changes.get("expire_sessions"):
            self.expire_sessions()
        return web.json_response(self.state())


def _compact(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()  # as the plugs send it


def _bad_request(message: str) -> web.StreamResponse:
    return web.json_response({"error": message}, status=400)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _control_problems(changes: object) -> list[str]:
    """Every problem of a /sim/control body, or none."""
    if not isinstance(changes, dict):
        return ["the body must be a JSON object"]
    problems = []
    unknown = sorted(set(changes) - set(_CONTROL_FIELDS))
    if unknown:
        problems.append(f"unknown field(s) {unknown}; allowed: {list(_CONTROL_FIELDS)}")
    if not changes:
        problems.append(f"nothing to change; allowed fields: {list(_CONTROL_FIELDS)}")
    for name in ("device_on", "third_party_compat", "silent"):
        if name in changes and not isinstance(changes[name], bool):
            problems.append(f"{name} must be true or false")
    if "expire_sessions" in changes and changes["expire_sessions"] is not True:
        problems.append("expire_sessions must be true")
    for name in ("power_watts", "delay_seconds", "huge_answer_bytes"):
        if name in changes and not (_is_number(changes[name]) and changes[name] >= 0):
            problems.append(f"{name} must be a number >= 0")
    timeout = changes.get("session_timeout_seconds")
    if "session_timeout_seconds" in changes and not (_is_number(timeout) and timeout > 0):
        problems.append("session_timeout_seconds must be a number > 0")
    return problems
