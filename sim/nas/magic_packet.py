"""Recognises a Wake-on-LAN magic packet: 6 bytes 0xFF, then the MAC 16 times (SecureOn allowed)."""

from __future__ import annotations


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", "").replace("-", ""))


def is_magic_packet_for(packet: bytes, mac: str) -> bool:
    target = mac_bytes(mac)
    body = packet[6 : 6 + 16 * 6]
    return len(packet) in (102, 108) and packet[:6] == b"\xff" * 6 and body == target * 16
