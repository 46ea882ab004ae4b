"""The plug's side of KLAP v2, without I/O: hashes, handshake checks, sessions, AES-CBC framing.

KLAP: the client proves it knows sha256(sha1(user) + sha1(password)) through two seed
exchanges; both sides then derive an AES-128 key, an IV prefix, a start sequence number and a
signing key from the seeds and that hash. Each request carries its sequence number in the URL;
the number is the last 4 bytes of the IV and part of the body's signature.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SEED_BYTES = 16
SIGNATURE_BYTES = 32
MAX_SESSIONS = 32  # a plug keeps only a few; a client that hand-shakes in a loop must not grow us
_SEQ = struct.Struct(">i")  # signed 32-bit, big-endian


class KlapError(Exception):
    """A request the plug refuses (unknown or expired session, bad signature or padding)."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def auth_hash(username: str, password: str) -> bytes:
    """The v2 credential hash both sides know: sha256(sha1(user) + sha1(password))."""
    # The protocol fixes sha1 here; not ours to choose.
    user = hashlib.sha1(username.encode()).digest()  # noqa: S324
    secret = hashlib.sha1(password.encode()).digest()  # noqa: S324
    return _sha256(user + secret)


def handshake1_hash(local_seed: bytes, remote_seed: bytes, auth: bytes) -> bytes:
    """The plug's proof in the handshake1 answer."""
    return _sha256(local_seed + remote_seed + auth)


def handshake2_hash(local_seed: bytes, remote_seed: bytes, auth: bytes) -> bytes:
    """The client's proof in the handshake2 request (seeds in the other order)."""
    return _sha256(remote_seed + local_seed + auth)


class KlapCipher:
    """The session keys derived from both seeds; encrypts and decrypts one message per seq."""

    def __init__(self, local_seed: bytes, remote_seed: bytes, auth: bytes) -> None:
        seeds = local_seed + remote_seed + auth
        self.key = _sha256(b"lsk" + seeds)[:16]
        iv = _sha256(b"iv" + seeds)
        self.iv_prefix = iv[:12]
        self.initial_seq = _SEQ.unpack(iv[-4:])[0]  # the client adds 1 before its first request
        self.sig_key = _sha256(b"ldk" + seeds)[:28]

    def _cipher(self, seq: int) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.iv_prefix + _SEQ.pack(seq)))

    def _signature(self, seq: int, ciphertext: bytes) -> bytes:
        return _sha256(self.sig_key + _SEQ.pack(seq) + ciphertext)

    def encrypt(self, seq: int, plaintext: bytes) -> bytes:
        """signature + ciphertext, the layout of both requests and answers."""
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = self._cipher(seq).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return self._signature(seq, ciphertext) + ciphertext

    def decrypt(self, seq: int, body: bytes) -> bytes:
        if not -(2**31) <= seq < 2**31:
            raise KlapError("seq is not a signed 32-bit number")
        signature, ciphertext = body[:SIGNATURE_BYTES], body[SIGNATURE_BYTES:]
        if not ciphertext or len(ciphertext) % 16:
            raise KlapError("ciphertext is not a whole number of AES blocks")
        if not hmac.compare_digest(signature, self._signature(seq, ciphertext)):
            raise KlapError("bad signature")
        decryptor = self._cipher(seq).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError as err:
            raise KlapError("bad padding") from err


@dataclass
class KlapSession:
    """One client's session, from handshake1 until it expires or is dropped."""

    local_seed: bytes
    remote_seed: bytes
    created_at: float
    confirmed: bool = False  # handshake2 accepted
    cipher: KlapCipher | None = field(default=None, repr=False)


class KlapServer:
    """Session table and handshake logic of one plug. Time is passed in, as monotonic seconds."""

    def __init__(
        self,
        auth: bytes,
        *,
        session_timeout: float = 86400,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._auth = auth
        self.session_timeout = session_timeout
        self._random = random_bytes
        self._sessions: dict[str, KlapSession] = {}

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    def handshake1(self, local_seed: bytes, now: float) -> tuple[str, bytes]:
        """Start a session: its id (the TP_SESSIONID cookie) and the 48-byte answer body."""
        if len(local_seed) != SEED_BYTES:
            raise KlapError(f"handshake1 seed must be {SEED_BYTES} bytes, got {len(local_seed)}")
        self._drop_expired(now)
        while len(self._sessions) >= MAX_SESSIONS:  # dicts keep insertion order: oldest first
            del self._sessions[next(iter(self._sessions))]
        remote_seed = self._random(SEED_BYTES)
        session_id = self._random(16).hex().upper()
        self._sessions[session_id] = KlapSession(local_seed, remote_seed, created_at=now)
        return session_id, remote_seed + handshake1_hash(local_seed, remote_seed, self._auth)

    def handshake2(self, session_id: str | None, proof: bytes, now: float) -> None:
        """Confirm a session: the client's proof shows it has the same credentials."""
        session = self._live(session_id, now)
        expected = handshake2_hash(session.local_seed, session.remote_seed, self._auth)
        if not hmac.compare_digest(proof, expected):
            self._sessions.pop(session_id or "", None)
            raise KlapError("handshake2 proof does not match")
        session.confirmed = True
        session.cipher = KlapCipher(session.local_seed, session.remote_seed, self._auth)

    def decrypt_request(self, session_id: str | None, seq: int, body: bytes, now: float) -> bytes:
        return self._cipher(session_id, now).decrypt(seq, body)

    def encrypt_response(self, session_id: str | None, seq: int, plaintext: bytes) -> bytes:
        session = self._sessions.get(session_id or "")
        if session is None or session.cipher is None:
            raise KlapError("no such session")
        return session.cipher.encrypt(seq, plaintext)

    def expire_all(self) -> None:
        """Forget every session, as a plug does on reboot: clients must hand-shake again."""
        self._sessions.clear()

    def _cipher(self, session_id: str | None, now: float) -> KlapCipher:
        session = self._live(session_id, now)
        if not session.confirmed or session.cipher is None:
            raise KlapError("session has not completed handshake2")
        return session.cipher

    def _live(self, session_id: str | None, now: float) -> KlapSession:
        session = self._sessions.get(session_id or "")
        if session is None:
            raise KlapError("unknown session")
        if now - session.created_at >= self.session_timeout:
            del self._sessions[session_id or ""]
            raise KlapError("session expired")
        return session

    def _drop_expired(self, now: float) -> None:
        timeout = self.session_timeout
        for sid in [s for s, v in self._sessions.items() if now - v.created_at >= timeout]:
            del self._sessions[sid]
