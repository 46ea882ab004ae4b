"""One DNS A query over UDP, to know when the simulator's dnsmasq answers (no dig needed)."""

from __future__ import annotations

import secrets
import socket
import struct


def query_a(name: str, *, port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> list[str]:
    """The A records ``host:port`` gives for ``name``; raises OSError when nothing answers."""
    ident = secrets.randbelow(65536)
    question = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + b"\0\x01\0\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (host, port))
        while True:
            data = sock.recv(4096)
            if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == ident:
                return _answers(data)


def _answers(data: bytes) -> list[str]:
    _, _, qd, an, _, _ = struct.unpack(">HHHHHH", data[:12])
    offset = 12
    for _ in range(qd):
        offset = _skip_name(data, offset) + 4
    found = []
    for _ in range(an):
        offset = _skip_name(data, offset)
        kind, _cls, _ttl, length = struct.unpack(">HHIH", data[offset : offset + 10])
        offset += 10
        if kind == 1 and length == 4:
            found.append(socket.inet_ntoa(data[offset : offset + 4]))
        offset += length
    return found


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return offset + 2
        offset += 1 + length
