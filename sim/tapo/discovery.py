"""The plug's answer to python-kasa's discovery: TP-Link's TDP probe on UDP 20002.

A probe is a 16-byte header (version 2, op code 1, payload length, a CRC-32 over the whole
datagram with the seed 0x5A6B7C8D in its place) and a JSON payload carrying the client's RSA key.
A P110 answers from port 20002 with a header of the same shape and the JSON `result` that says
what it is and how to reach it: device_type, device_model, MAC, and `mgt_encrypt_schm` (KLAP or
AES, `http_port`, login version). python-kasa recognises the answer by its source port, then
connects to `http_port` over the transport named there. Probes that are not TDP v2 (such as the
XOR query python-kasa also sends to 9999 for older Kasa devices, which a P110 ignores) get no
answer, as on a real plug.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import socket
import struct
from typing import Any, cast

from balupi.sim.tapo.device_model import SimulatedP110

log = logging.getLogger("balupi.sim.tapo.discovery")

DISCOVERY_PORT = 20002  # where python-kasa sends its probe; it cannot be told otherwise
_HEADER = struct.Struct(">BBHHBBII")  # version, type, op code, length, flags, 0, serial, crc
_TDP_VERSION = 2
_OP_PROBE = 1
_CRC_SEED = 0x5A6B7C8D
_FLAGS = 17


def _with_crc(header_and_payload: bytearray) -> bytes:
    header_and_payload[12:16] = binascii.crc32(header_and_payload).to_bytes(4, "big")
    return bytes(header_and_payload)


def is_probe(datagram: bytes) -> bool:
    """Whether ``datagram`` is a well-formed TDP v2 probe (length and CRC right)."""
    if len(datagram) < _HEADER.size:
        return False
    version, _type, op_code, length, _flags, _pad, _serial, crc = _HEADER.unpack_from(datagram)
    if version != _TDP_VERSION or op_code != _OP_PROBE or length != len(datagram) - _HEADER.size:
        return False
    seeded = bytearray(datagram)
    seeded[12:16] = _CRC_SEED.to_bytes(4, "big")
    return binascii.crc32(seeded) == crc


def discovery_result(
    plug: SimulatedP110, *, ip: str, transport: str, http_port: int, region: str = "EU"
) -> dict[str, Any]:
    """The JSON a P110 sends back (field names as in python-kasa's P110 fixtures)."""
    scheme: dict[str, Any] = {
        "encrypt_type": transport.upper(),
        "http_port": http_port,
        "is_support_https": False,
    }
    if transport == "klap":
        scheme["lv"] = 2  # KLAP v2, what the sim's KLAP server speaks
    return {
        "error_code": 0,
        "result": {
            "device_id": plug.device_id,
            "device_model": f"{plug.model}({region})",
            "device_type": "SMART.TAPOPLUG",
            "factory_default": False,
            "ip": ip,
            "is_support_iot_cloud": True,
            "mac": plug.mac,
            "mgt_encrypt_schm": scheme,
            "obd_src": "tplink",
            "owner": "",
        },
    }


def answer_datagram(result: dict[str, Any], serial: int) -> bytes:
    payload = json.dumps(result, separators=(",", ":")).encode()
    header = _HEADER.pack(_TDP_VERSION, 0, _OP_PROBE, len(payload), _FLAGS, 0, serial, _CRC_SEED)
    return _with_crc(bytearray(header + payload))


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, answer: bytes, counter: list[int]) -> None:
        self._answer = answer
        self._counter = counter
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not is_probe(data):
            log.debug("ignored a datagram from %s that is no TDP probe", addr)
            return
        self._counter[0] += 1
        if self._transport is not None:
            self._transport.sendto(self._answer, addr)


class DiscoveryResponder:
    """Answers TDP probes to host:port (default 20002) for one simulated plug."""

    def __init__(
        self,
        plug: SimulatedP110,
        *,
        host: str,
        http_port: int,
        transport: str = "klap",
        port: int = DISCOVERY_PORT,
    ) -> None:
        self.host = host
        self.port = port
        result = discovery_result(plug, ip=host, transport=transport, http_port=http_port)
        self._answer = answer_datagram(result, serial=int(plug.device_id[:8], 16))
        self._counter = [0]
        self._transport: asyncio.DatagramTransport | None = None

    @property
    def probe_count(self) -> int:
        """How many probes were answered."""
        return self._counter[0]

    async def start(self) -> int:
        """Bind and answer; return the bound port. OSError if the address cannot be had."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Responder(self._answer, self._counter),
            local_addr=(self.host, self.port),
            family=family,
        )
        self._transport = transport
        bound: int = transport.get_extra_info("sockname")[1]
        self.port = bound
        log.debug("tapo sim answering discovery on %s:%s", self.host, bound)
        return bound

    def stop(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()
