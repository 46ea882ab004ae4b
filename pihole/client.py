"""A Pi-hole v6 API client that holds one login session and gives it back.

Pi-hole has a fixed number of session seats (webserver.api.max_sessions, 16 by default) and a
session lives 30 minutes after its last use, so a client that logs in per request locks the web
interface out within minutes. This one logs in once, sends the session id with every request,
logs in again only when Pi-hole answers 401 (expired or restarted), and logs out on close().
A login is never abandoned half-way: it runs on even when the caller gives up, so a session
Pi-hole created is always known to us and closed later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from balupi.http_client import (
    Answer,
    AnswerTooLarge,
    HttpError,
    HttpTimeout,
    HttpUnreachable,
    fetch,
    make_session,
)
from balupi.pihole import errors
from balupi.pihole.records import (
    addresses_of,
    check_address,
    check_hostname,
    local_ttl_of,
    with_local_ttl,
    with_record,
)
from balupi.secret import Secret

log = logging.getLogger("balupi.pihole")

SID_HEADER = "X-FTL-SID"
_NO_AUTH = ""  # Pi-hole without a password (or trusting localhost): no session id to send
# Pi-hole's biggest answers (dns.hosts, top lists, the whole config) are tens of kB.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024  # the teleporter archive: FTL's own upload limit


class PiholeClient:
    def __init__(self, url: str, password: Secret | None, *, request_timeout: float = 5.0):
        self.url = url.rstrip("/")
        self.where = f"Pi-hole at {self.url}"
        self._api = f"{self.url}/api"
        self._password = password
        self._timeout = request_timeout
        self._http: aiohttp.ClientSession | None = None
        self._sid: str | None = None
        self._login_task: asyncio.Task[str] | None = None
        self.logins = 0  # successful logins: stays at 1 while the session is kept warm

    def __repr__(self) -> str:
        return f"PiholeClient({self.url!r}, logged_in={self._sid is not None})"

    # --- what the collector and the handshake service use ---------------------------------

    async def summary(self) -> dict[str, Any]:
        return _object(await self.request("GET", "/stats/summary"), self.where)

    async def blocking(self) -> str:
        answer = _object(await self.request("GET", "/dns/blocking"), self.where)
        return str(answer.get("blocking", "unknown"))

    async def sessions(self) -> list[dict[str, Any]]:
        answer = _object(await self.request("GET", "/auth/sessions"), self.where)
        return [s for s in answer.get("sessions") or [] if isinstance(s, dict)]

    async def max_sessions(self) -> int | None:
        answer = await self.request("GET", "/config/webserver/api/max_sessions")
        value = _dig(answer, "config", "webserver", "api", "max_sessions")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    async def top_domains(self, count: int, *, blocked: bool = False) -> list[tuple[str, int]]:
        params = {"count": str(count), "blocked": "true" if blocked else "false"}
        answer = _object(await self.request("GET", "/stats/top_domains", params=params), self.where)
        return [
            (str(d.get("domain")), int(d.get("count") or 0))
            for d in answer.get("domains") or []
            if isinstance(d, dict) and d.get("domain")
        ][:count]

    async def top_clients(self, count: int) -> list[tuple[str, str, int]]:
        params = {"count": str(count)}
        answer = _object(await self.request("GET", "/stats/top_clients", params=params), self.where)
        return [
            (str(c.get("ip")), str(c.get("name") or ""), int(c.get("count") or 0))
            for c in answer.get("clients") or []
            if isinstance(c, dict) and c.get("ip")
        ][:count]

    async def upstreams(self) -> list[tuple[str, str, int]]:
        """Where Pi-hole sends queries, with counts: (ip, name, count); FTL lists its
        blocklist and cache as pseudo upstreams too."""
        answer = _object(await self.request("GET", "/stats/upstreams"), self.where)
        return [
            (str(u.get("ip")), str(u.get("name") or ""), int(u.get("count") or 0))
            for u in answer.get("upstreams") or []
            if isinstance(u, dict) and u.get("ip")
        ]

    async def dns_hosts(self) -> list[str]:
        answer = await self.request("GET", "/config/dns/hosts")
        hosts = _dig(answer, "config", "dns", "hosts")
        if not isinstance(hosts, list):
            raise errors.PiholeProtocolError(f"{self.where}: config dns.hosts is not a list")
        return [str(h) for h in hosts]

    async def host_addresses(self, name: str) -> list[str]:
        return addresses_of(await self.dns_hosts(), name)

    async def set_host_record(self, name: str, address: str) -> list[str]:
        """Point ``name`` at ``address`` alone, in one PATCH that keeps every other record.

        Pi-hole applies the whole dns.hosts list at once, so DNS never sees the name without a
        record or with two. Returns the new list.
        """
        check_hostname(name), check_address(address)  # bad input fails before any request
        old = await self.dns_hosts()
        hosts = with_record(old, name, address)
        if hosts == old:
            return hosts  # already so: no reload in Pi-hole
        await self.request(
            "PATCH",
            "/config",
            json={"config": {"dns": {"hosts": hosts}}},
            what=f"change the local DNS record of {name}",
        )
        return hosts

    async def local_ttl(self) -> int | None:
        """The TTL of local records (``local-ttl`` in misc.dnsmasq_lines); None: dnsmasq's 0."""
        answer = await self.request("GET", "/config/misc/dnsmasq_lines")
        lines = _dig(answer, "config", "misc", "dnsmasq_lines")
        return local_ttl_of([str(x) for x in lines]) if isinstance(lines, list) else None

    async def set_local_ttl(self, seconds: int) -> None:
        """Set ``local-ttl`` for local records. Pi-hole restarts FTL for this (DNS pauses for a
        second or two), so BaluPi does it only when asked to."""
        with_local_ttl([], seconds)  # bad input fails before any request
        answer = await self.request("GET", "/config/misc/dnsmasq_lines")
        lines = [str(x) for x in _dig(answer, "config", "misc", "dnsmasq_lines") or []]
        if local_ttl_of(lines) == seconds:
            return  # already so: no FTL restart
        new = with_local_ttl(lines, seconds)
        log.warning("%s: setting local-ttl=%d restarts Pi-hole's DNS (FTL)", self.where, seconds)
        await self.request(
            "PATCH",
            "/config",
            json={"config": {"misc": {"dnsmasq_lines": new}}},
            what="change misc.dnsmasq_lines",
        )

    # --- the session ----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        what: str | None = None,
    ) -> Any:
        """One API request in the current session; logs in (again) once when Pi-hole says 401."""
        sid = await self._session_id(stale=None)
        status, body = await self._send(method, path, sid, json=json, params=params)
        if status == 401:
            sid = await self._session_id(stale=sid)
            status, body = await self._send(method, path, sid, json=json, params=params)
        if status < 400:
            return body
        raise self._refusal(status, body, method, path, what)

    def _refusal(
        self, status: int, body: Any, method: str, path: str, what: str | None, *, raw: bool = False
    ) -> errors.PiholeError:
        hint = _error_field(body, "hint")
        if status == 401:
            return errors.PiholeProtocolError(f"{self.where} refused a fresh session for {path}")
        if status == 403:
            return errors.forbidden(self.where, what or f"answer {method} {path}", hint)
        if status == 404 and path.startswith("/config/"):
            return errors.PiholeProtocolError(f"{self.where} has no config item {path[8:]}")
        if status in (502, 503, 504) and raw:
            # Raw requests (the migration's) say so; request()'s errors stay as they were.
            return errors.PiholeRestarting(
                f"{self.where} answered {status} to {method} {path}: FTL is (re)starting"
            )
        message = _error_field(body, "message") or "no message"
        return errors.PiholeProtocolError(f"{self.where}: {method} {path} -> {status}: {message}")

    # --- raw bodies: the teleporter archive, the gravity action's stream --------------------

    async def download(self, path: str, *, timeout: float | None = None) -> bytes:
        """GET a binary answer (the teleporter zip, at most 50 MiB) in the current session."""
        return (await self._fetch_raw("GET", path, timeout=timeout)).body

    async def upload(
        self,
        path: str,
        form: Callable[[], aiohttp.FormData],
        *,
        what: str,
        timeout: float | None = None,
    ) -> Any:
        """POST a multipart form (a teleporter import) and decode the JSON answer. ``form``
        makes the form afresh: a retry after a 401 cannot send a used one again."""
        answer = await self._fetch_raw("POST", path, form=form, timeout=timeout, what=what)
        try:
            return answer.json() if answer.body else None
        except ValueError:
            raise errors.PiholeProtocolError(f"{self.where}: POST {path}: non-JSON") from None

    async def _fetch_raw(
        self,
        method: str,
        path: str,
        *,
        form: Callable[[], aiohttp.FormData] | None = None,
        timeout: float | None = None,
        what: str | None = None,
    ) -> Answer:
        stale: str | None = None
        for _attempt in range(2):
            sid = await self._session_id(stale=stale)
            headers = {SID_HEADER: sid} if sid else {}
            data = form() if form is not None else None
            try:
                answer = await fetch(
                    self._client(), method, self._api + path, limit=MAX_ARCHIVE_BYTES,
                    timeout=timeout, data=data, headers=headers,
                )  # fmt: skip
            except HttpError as err:
                raise self._unreachable(err, method, path, timeout) from None
            if answer.status == 401 and stale is None:
                stale = sid
                continue
            if answer.status >= 400:
                try:
                    body = answer.json()
                except ValueError:
                    body = None
                raise self._refusal(answer.status, body, method, path, what, raw=True)
            return answer
        raise errors.PiholeProtocolError(f"{self.where} refused a fresh session for {path}")

    async def stream_lines(
        self, method: str, path: str, *, timeout: float | None = None
    ) -> AsyncIterator[str]:
        """The lines of a streamed answer (POST /api/action/gravity), as they arrive;
        ``timeout`` bounds the whole stream."""
        seconds = timeout or self._timeout
        sid = await self._session_id(stale=None)
        try:
            async with asyncio.timeout(seconds):
                for _attempt in range(2):
                    headers = {SID_HEADER: sid} if sid else {}
                    async with self._client().request(
                        method, self._api + path, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=seconds),
                    ) as answer:  # fmt: skip
                        if answer.status == 401 and _attempt == 0:
                            sid = await self._session_id(stale=sid)
                            continue
                        if answer.status >= 400:
                            raise self._refusal(answer.status, None, method, path, None, raw=True)
                        buffer = b""
                        async for chunk in answer.content.iter_any():
                            buffer += chunk
                            *lines, buffer = buffer.split(b"\n")
                            for line in lines:
                                yield line.decode(errors="replace")
                        if buffer:
                            yield buffer.decode(errors="replace")
                        return
        except TimeoutError:
            raise self._unreachable(HttpTimeout(seconds), method, path, seconds) from None
        except (aiohttp.ClientError, OSError) as err:
            raise self._unreachable(HttpUnreachable(err), method, path, seconds) from None

    def _unreachable(
        self, err: HttpError, method: str, path: str, timeout: float | None
    ) -> errors.PiholeError:
        if isinstance(err, HttpTimeout):
            return errors.PiholeTimeout(
                f"{self.where} did not answer {method} {path} within {timeout or self._timeout:g} s"
            )
        if isinstance(err, HttpUnreachable):
            return errors.PiholeUnreachable(
                f"cannot reach {self.where}: {err.cause or type(err.cause).__name__}"
            )
        return errors.PiholeProtocolError(f"{self.where}: {method} {path}: {err}")

    # --- restarts -----------------------------------------------------------------------------

    async def api_status(self) -> int | None:
        """What GET /api/auth answers with our session now (200 valid, 401 gone, 502 a proxy
        while FTL restarts); None when nothing answers. Never logs in."""
        try:
            status, _ = await self._send("GET", "/auth", self._sid or None)
        except (errors.PiholeUnreachable, errors.PiholeTimeout):
            return None
        return status

    def forget_session(self) -> None:
        """FTL restarted and forgot every session: log in afresh next time, no logout."""
        self._sid = None

    async def _session_id(self, *, stale: str | None) -> str:
        if self._sid is not None and self._sid != stale:
            return self._sid
        self._sid = None
        if self._login_task is None or self._login_task.done():
            self._login_task = asyncio.ensure_future(self._login())
            # A caller that gave up must not leave "exception was never retrieved" behind.
            self._login_task.add_done_callback(_retrieve)
        return await asyncio.shield(self._login_task)

    async def _login(self) -> str:
        password = self._password.reveal() if self._password else ""
        status, body = await self._send("POST", "/auth", None, json={"password": password})
        session = body.get("session") if isinstance(body, dict) else None
        session = session if isinstance(session, dict) else {}
        if status == 200 and session.get("valid") is True:
            sid = session.get("sid")
            self._sid = sid if isinstance(sid, str) and sid else _NO_AUTH
            self.logins += 1
            log.info("%s: logged in (session valid for %s s)", self.where, session.get("validity"))
            return self._sid
        message = str(_error_field(body, "message") or session.get("message") or "")
        if status == 400 and "2FA" in message:
            raise errors.totp_required(self.where)
        if status == 401:
            raise errors.wrong_password(self.where)
        if status == 429:
            if _error_field(body, "key") == "api_seats_exceeded":
                raise errors.seats_exceeded(self.where, _error_field(body, "hint"))
            raise errors.rate_limited(self.where)
        if status == 404:
            raise errors.PiholeProtocolError(
                f"{self.where} has no /api/auth: BaluPi needs Pi-hole v6 (v5's API is not "
                "supported); check pihole.url points at Pi-hole's web server"
            )
        raise errors.PiholeProtocolError(f"{self.where}: login answered {status}: {message}")

    async def _send(
        self,
        method: str,
        path: str,
        sid: str | None,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        headers = {SID_HEADER: sid} if sid else {}
        try:
            answer = await fetch(
                self._client(), method, self._api + path, limit=MAX_ANSWER_BYTES,
                json=json, params=params, headers=headers,
            )  # fmt: skip
        except HttpTimeout:
            raise errors.PiholeTimeout(
                f"{self.where} did not answer {method} {path} within "
                f"{self._timeout:g} s (pihole.request_timeout_seconds)"
            ) from None
        except HttpUnreachable as err:
            raise errors.PiholeUnreachable(
                f"cannot reach {self.where}: {err.cause or type(err.cause).__name__}"
            ) from None
        except AnswerTooLarge as err:
            raise errors.PiholeProtocolError(f"{self.where}: {method} {path}: {err}") from None
        status = answer.status
        if not answer.body:
            return status, None
        try:
            return status, answer.json()
        except ValueError:
            if status >= 400:
                return status, None  # an error page: the status says enough
            raise errors.PiholeProtocolError(
                f"{self.where}: {method} {path} answered {status} with non-JSON: is pihole.url "
                "Pi-hole v6's web server?"
            ) from None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = make_session(self._timeout)
        return self._http

    async def logout(self) -> None:
        """Give the session's seat back to Pi-hole (DELETE /api/auth)."""
        task = self._login_task
        if task is not None and not task.done():
            with contextlib.suppress(Exception):  # a login in flight: wait for its sid
                await asyncio.wait_for(asyncio.shield(task), self._timeout)
        sid, self._sid = self._sid, None
        if not sid:
            return
        try:
            status, _ = await self._send("DELETE", "/auth", sid)
        except errors.PiholeError as err:
            log.warning("%s: could not log out, the session expires by itself: %s", self.where, err)
            return
        if status in (204, 401, 404, 410):
            log.info("%s: logged out", self.where)
        else:
            log.warning("%s: logout answered %d", self.where, status)

    async def close(self) -> None:
        try:
            await self.logout()
        finally:
            if self._http is not None:
                await self._http.close()
                self._http = None


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise errors.PiholeProtocolError(f"{where}: expected a JSON object, got {type(value)}")
    return value


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _error_field(body: Any, name: str) -> Any:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get(name) if isinstance(error, dict) else None
