"""The plug's side of the older AES "securePassthrough" transport, without I/O.

Older Tapo firmware: the client posts its RSA public key ("handshake"); the plug answers with a
fresh AES-128 key and IV encrypted to that key (RSA PKCS#1 v1.5). Every later request is a JSON
`securePassthrough` whose `params.request` is base64(AES-CBC(SMART request)). The first one is
`login_device` with hashed credentials; it returns a token that later requests carry as
`?token=` in the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

LOGIN_ERROR = -1501  # wrong credentials; python-kasa then tries its default ones
SESSION_TIMEOUT_ERROR = 9999  # python-kasa hand-shakes again on this one
INVALID_PUBLIC_KEY_ERROR = -1010
MAX_SESSIONS = 32


class AesError(Exception):
    """A request the plug refuses; `error_code` is what it answers in the JSON envelope."""

    def __init__(self, message: str, error_code: int) -> None:
        super().__init__(message)
        self.error_code = error_code


def _sha1_hex(text: str) -> str:
    # The protocol fixes sha1 for the credential hashes; not ours to choose.
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def login_params_match(params: dict[str, Any], username: str, password: str) -> bool:
    """Whether login_device's params carry these credentials.

    Login v1 sends base64(password); v2 sends base64(sha1_hex(password)) as `password2`. Both
    send base64(sha1_hex(username)).
    """
    user_ok = _equal(params.get("username"), _b64(_sha1_hex(username)))
    if "password2" in params:
        return user_ok & _equal(params.get("password2"), _b64(_sha1_hex(password)))
    return user_ok & _equal(params.get("password"), _b64(password))


def _equal(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


class AesCipher:
    """AES-128-CBC with one key and IV for the whole session; messages travel as base64."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(iv))

    def encrypt(self, plaintext: bytes) -> str:
        padder = padding.PKCS7(128).padder()
        encryptor = self._cipher.encryptor()
        padded = padder.update(plaintext) + padder.finalize()
        return _b64(encryptor.update(padded) + encryptor.finalize())

    def decrypt(self, message: str) -> bytes:
        try:
            data = base64.b64decode(message, validate=True)
            decryptor = self._cipher.decryptor()
            padded = decryptor.update(data) + decryptor.finalize()
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as err:  # bad base64, partial block or bad padding
            raise AesError(f"cannot decrypt request: {err}", -1005) from err


@dataclass
class AesSession:
    created_at: float
    cipher: AesCipher = field(repr=False)
    token: str | None = None


class AesServer:
    """Sessions and logins of one plug. Time is passed in, as monotonic seconds."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        session_timeout: float = 86400,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._username = username
        self._password = password
        self.session_timeout = session_timeout
        self._random = random_bytes
        self._sessions: dict[str, AesSession] = {}

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def handshake(self, public_key_pem: str, now: float) -> tuple[str, str]:
        """Start a session: its id (TP_SESSIONID cookie) and the encrypted key for the answer."""
        try:
            public_key = serialization.load_pem_public_key(public_key_pem.encode())
        except (ValueError, TypeError) as err:
            raise AesError(f"unusable public key: {err}", INVALID_PUBLIC_KEY_ERROR) from err
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise AesError("the handshake key must be an RSA key", INVALID_PUBLIC_KEY_ERROR)
        self._drop_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        key, iv = self._random(16), self._random(16)
        session_id = self._random(16).hex().upper()
        self._sessions[session_id] = AesSession(created_at=now, cipher=AesCipher(key, iv))
        encrypted = public_key.encrypt(key + iv, rsa_padding.PKCS1v15())
        return session_id, _b64(encrypted)

    def session(self, session_id: str | None, now: float) -> AesSession:
        session = self._sessions.get(session_id or "")
        if session is None:
            raise AesError("unknown session", SESSION_TIMEOUT_ERROR)
        if now - session.created_at >= self.session_timeout:
            del self._sessions[session_id or ""]
            raise AesError("session expired", SESSION_TIMEOUT_ERROR)
        return session

    def login(self, session: AesSession, params: dict[str, Any] | None) -> dict[str, Any]:
        """Answer login_device: a token for the right credentials, LOGIN_ERROR otherwise."""
        if not login_params_match(params or {}, self._username, self._password):
            return {"error_code": LOGIN_ERROR}
        session.token = self._random(16).hex().upper()
        return {"error_code": 0, "result": {"token": session.token}}

    @staticmethod
    def check_token(session: AesSession, token: str | None) -> None:
        if session.token is None or token is None or not _equal(token, session.token):
            raise AesError("not logged in", SESSION_TIMEOUT_ERROR)

    def expire_all(self) -> None:
        self._sessions.clear()

    def _drop_expired(self, now: float) -> None:
        timeout = self.session_timeout
        for sid in [s for s, v in self._sessions.items() if now - v.created_at >= timeout]:
            del self._sessions[sid]
