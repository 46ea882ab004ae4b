"""Why a plug could not be read, and what the operator should do about it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kasa import AuthenticationError, KasaException
from kasa import TimeoutError as KasaTimeoutError

from balupi.http_client import AnswerTooLarge


@dataclass(frozen=True)
class ReadFailure:
    reason: str  # a short label value for tapo_read_errors_total
    hint: str  # one sentence for the log: the cause and the fix


def classify(err: BaseException, host: str) -> ReadFailure:
    text = str(err)
    if _caused_by(err, AnswerTooLarge):
        return ReadFailure(
            "answer_too_large",
            f"{host} sent an answer larger than a plug's ever is; refused unread: {text}",
        )
    if isinstance(err, NoEnergyModule):
        return ReadFailure("no_energy_monitoring", f"{host}: {text}")
    if isinstance(err, AuthenticationError):
        return ReadFailure(
            "auth",
            f"{host} refused the credentials: check tapo.username and the password "
            "(the e-mail and password of the Tapo app account the plug belongs to)",
        )
    if isinstance(err, KasaException) and "403" in text and "handshake1" in text:
        return ReadFailure(
            "third_party_compatibility",
            f"{host} refuses local access (HTTP 403 at the handshake): enable Third-Party "
            "Compatibility in the Tapo app (Me > Third-Party Services); firmware 1.4 and "
            "newer keep the local API closed until then",
        )
    if isinstance(err, asyncio.TimeoutError | TimeoutError | KasaTimeoutError):
        return ReadFailure(
            "timeout",
            f"{host} did not answer in time: is the plug powered and on the network? After a "
            "power loss its local API can stay closed for a few minutes",
        )
    if isinstance(err, OSError) or "connect" in text.lower():
        return ReadFailure("connection", f"cannot connect to {host}: {text or type(err).__name__}")
    return ReadFailure("protocol", f"{host} answered in a way we do not understand: {text}")


def _caused_by(err: BaseException | None, kind: type[BaseException], depth: int = 0) -> bool:
    """Whether ``err`` is or wraps a ``kind``: python-kasa wraps errors a few times over, as a
    cause, or as an argument of its own exceptions (a module's last error)."""
    if err is None or depth > 8:
        return False
    if isinstance(err, kind):
        return True
    inner = [a for a in err.args if isinstance(a, BaseException)]
    return any(_caused_by(e, kind, depth + 1) for e in [err.__cause__, err.__context__, *inner])


class NoEnergyModule(KasaException):
    """The device answers but measures no energy (not a P110/P115)."""
