"""The NAS side's copy of the handshake secret: a file, systemd's credential, or the environment."""

from __future__ import annotations

import os
from pathlib import Path

SECRET_ENV = "BALUPI_HANDSHAKE_SECRET"  # noqa: S105 - a variable name, not a secret
CREDENTIAL = "handshake-secret"


class NoSecret(Exception):
    pass


def load_secret(secret_file: Path | None) -> str:
    if secret_file is None:
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if credentials and (Path(credentials) / CREDENTIAL).is_file():
            secret_file = Path(credentials) / CREDENTIAL
    if secret_file is not None:
        try:
            value = secret_file.read_text().strip()
        except OSError as err:
            raise NoSecret(f"cannot read {secret_file}: {err.strerror}") from None
        if not value:
            raise NoSecret(f"{secret_file} is empty")
        return value
    value = os.environ.get(SECRET_ENV, "")
    if not value:
        raise NoSecret(
            f"no handshake secret: pass --secret-file, set ${SECRET_ENV}, or give systemd's "
            f"LoadCredential={CREDENTIAL}:..."
        )
    return value
