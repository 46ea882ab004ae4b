"""``balupi-handshake``: the NAS handshake service (see docs/handshake.md)."""

from __future__ import annotations

import sys

from balupi.config import Config
from balupi.handshake.dns_factory import build_dns_backend
from balupi.handshake.service import build_service
from balupi.service_runner import Listening, run_service

# The credentials this process reads: its own secret, Pi-hole's (for the DNS switch) and the
# inbox's SSH key (for the flush).
SECRETS_FOR = ("handshake", "pihole", "inbox")


def check_config(config: Config) -> str | None:
    """Why this config cannot run the handshake service, or None."""
    if config.handshake is None:
        return (
            "no [handshake] section: balupi-handshake needs [handshake] (with secret_file or "
            "secret_env), [nas] and [dns]; see config/balupi.example.toml"
        )
    if config.handshake.secret is None:  # pragma: no cover - the config check reports it
        return "handshake.secret: required: set secret_file or secret_env"
    return None


def build(config: Config) -> Listening:
    handshake = config.handshake
    if handshake is None:  # check_config refuses such a config before build is called
        raise RuntimeError(check_config(config))
    backend = build_dns_backend(config)
    host, port = handshake.listen_host, handshake.listen_port
    return Listening(
        build_service(config, backend).app, host, port,
        f"listening on http://{host}:{port}/api/ (DNS backend {backend.name})",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return run_service(
        "balupi-handshake", __doc__, argv,
        secrets_for=SECRETS_FOR, build=build, check=check_config,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
