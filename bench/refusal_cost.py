"""What a refused NAS call costs the event loop, against what a signed one costs.

1 MiB bodies (BaluHost's snapshot limit): unsigned (no headers), a forged signature with
current headers, and a good signature (BaluHost's canonical-hash quirk, the dearest path). The
"parse first" line is what every refusal cost before the cheap checks came first: JSON parsing
and canonicalising the body. Printed as medians and as ratios to that baseline.

  .venv/bin/python -m bench.refusal_cost
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from balupi.handshake.signing import SignatureError, Verifier, canonical_hash, sign

SECRET = "bench-secret-0123456789abcdef"
PATH = "/api/handshake/nas-going-offline"
ROUNDS = 30


def median_ms(run: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    body_value = {"version": 1, "pad": ["x" * 100] * 10_000}
    body = json.dumps(body_value).encode()  # httpx-style separators: not canonical
    now = time.time()
    verifier = Verifier(SECRET, clock=lambda: now)
    good = sign(SECRET, "POST", PATH, body_value, now)
    forged = {**good, "X-Balupi-Signature": "0" * 64}

    def refuse(headers: dict[str, str]) -> None:
        try:
            verifier.check("POST", PATH, headers, body)
        except SignatureError:
            return
        raise AssertionError("not refused")

    def accept() -> None:
        verifier.check("POST", PATH, good, body)

    baseline = median_ms(lambda: canonical_hash(body))
    lines = [
        ("parse first (the old order)", baseline),
        ("unsigned 1 MiB, refused", median_ms(lambda: refuse({}))),
        ("forged signature 1 MiB, refused", median_ms(lambda: refuse(forged))),
        ("good signature 1 MiB, accepted", median_ms(accept)),
    ]  # fmt: skip
    print(f"Signature check of a {len(body) / 2**20:.1f} MiB body, median of {ROUNDS}:")
    for name, ms in lines:
        print(f"  {name:34} {ms:9.3f} ms   {ms / baseline:7.4f} x parse first")


if __name__ == "__main__":
    main()
