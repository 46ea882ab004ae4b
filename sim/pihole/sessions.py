"""Pi-hole's API sessions as FTL keeps them: a fixed number of seats, each session valid for
``timeout`` seconds after its last use; an expired session's seat is free for the next login."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass


class Clock:
    """Wall time that tests can move forward (to expire sessions without waiting)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Session:
    id: int
    sid: str
    csrf: str
    app: bool
    login_at: float
    last_active: float
    valid_until: float
    remote_addr: str
    user_agent: str | None

    def as_json(self, current_sid: str | None, now: float) -> dict:
        return {
            "id": self.id,
            "current_session": self.sid == current_sid,
            "valid": self.valid_until >= now,
            "tls": {"login": False, "mixed": False},
            "app": self.app,
            "cli": False,
            "login_at": int(self.login_at),
            "last_active": int(self.last_active),
            "valid_until": int(self.valid_until),
            "remote_addr": self.remote_addr,
            "user_agent": self.user_agent,
            "x_forwarded_for": None,
        }


class SessionTable:
    def __init__(self, clock: Clock, *, max_sessions: int = 16, timeout: int = 1800) -> None:
        self.clock = clock
        self.max_sessions = max_sessions
        self.timeout = timeout
        self._seats: list[Session | None] = []
        self.logins = 0  # every successful login since start
        self.logouts = 0

    def login(self, *, app: bool, remote_addr: str, user_agent: str | None) -> Session | None:
        """A new session in the first free seat, or None when every seat is taken (429)."""
        now = self.clock.now()
        self._seats += [None] * (self.max_sessions - len(self._seats))
        for index in range(self.max_sessions):
            seat = self._seats[index]
            if seat is None or seat.valid_until < now:
                session = Session(
                    id=index,
                    sid=secrets.token_urlsafe(16),
                    csrf=secrets.token_urlsafe(16),
                    app=app,
                    login_at=now,
                    last_active=now,
                    valid_until=now + self.timeout,
                    remote_addr=remote_addr,
                    user_agent=user_agent,
                )
                self._seats[index] = session
                self.logins += 1
                return session
        return None

    def find(self, sid: str | None) -> Session | None:
        """The valid session with this id, its lifetime extended (any use refreshes it)."""
        if not sid:
            return None
        now = self.clock.now()
        for seat in self._seats:
            if seat is not None and seat.sid == sid and seat.valid_until >= now:
                seat.last_active = now
                seat.valid_until = now + self.timeout
                return seat
        return None

    def logout(self, session: Session) -> None:
        for index, seat in enumerate(self._seats):
            if seat is session:
                self._seats[index] = None
                self.logouts += 1

    def open(self) -> list[Session]:
        """Sessions that hold a seat now (not logged out, not expired)."""
        now = self.clock.now()
        return [s for s in self._seats if s is not None and s.valid_until >= now]

    def listed(self) -> list[Session]:
        """What GET /api/auth/sessions lists: every used seat, expired ones marked invalid."""
        return [s for s in self._seats if s is not None]
