"""Why Pi-hole refused or failed, each with what to change (in Pi-hole or in BaluPi's config)."""

from __future__ import annotations


class PiholeError(Exception):
    """A failed Pi-hole request. ``reason`` is a short label value for metrics."""

    reason = "protocol"


class PiholeUnreachable(PiholeError):
    reason = "connection"


class PiholeRestarting(PiholeError):
    """A proxy in front of FTL (Docker's, nginx) answered 502-504: FTL is (re)starting."""

    reason = "restarting"


class PiholeTimeout(PiholeError):
    reason = "timeout"


class PiholeWrongPassword(PiholeError):
    reason = "auth"


class PiholeTotpRequired(PiholeError):
    reason = "totp"


class PiholeSeatsExceeded(PiholeError):
    reason = "seats_exceeded"


class PiholeRateLimited(PiholeError):
    reason = "rate_limited"


class PiholeForbidden(PiholeError):
    reason = "forbidden"


class PiholeProtocolError(PiholeError):
    reason = "protocol"


def wrong_password(where: str) -> PiholeWrongPassword:
    return PiholeWrongPassword(
        f"{where} refused the password: check pihole.password_file / pihole.password_env "
        "(Pi-hole's web password or an app password from Settings > Web interface / API)"
    )


def totp_required(where: str) -> PiholeTotpRequired:
    return PiholeTotpRequired(
        f"{where} has two-factor authentication (TOTP) switched on, and BaluPi cannot type "
        "codes: create an app password in Pi-hole (Settings > Web interface / API > Configure "
        "app password) and give BaluPi that one; app passwords skip 2FA"
    )


def seats_exceeded(where: str, hint: str | None) -> PiholeSeatsExceeded:
    return PiholeSeatsExceeded(
        f"{where} has no free API session seat (429 api_seats_exceeded): other clients hold "
        "every one of webserver.api.max_sessions. Log them out in Pi-hole (Settings > Web "
        "interface / API > API sessions), or raise webserver.api.max_sessions"
        + (f" (Pi-hole says: {hint})" if hint else "")
    )


def rate_limited(where: str) -> PiholeRateLimited:
    return PiholeRateLimited(f"{where} is rate-limiting logins (429): wait a minute")


def forbidden(where: str, what: str, hint: str | None) -> PiholeForbidden:
    return PiholeForbidden(
        f"{where} refused to {what} (403): an app password may change settings only with "
        "webserver.api.app_sudo = true; set it in Pi-hole (Settings > All settings > "
        "Webserver and API > webserver.api.app_sudo) or give BaluPi the web password"
        + (f" (Pi-hole says: {hint})" if hint else "")
    )
