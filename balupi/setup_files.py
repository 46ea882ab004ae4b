"""What ``balupi setup`` writes: the config as TOML, the credential files, the units' drop-ins
with LoadCredential= for the credentials that exist, and which units to restart afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ETC = Path("/etc/balupi")
SYSTEMD_ETC = Path("/etc/systemd/system")
DROP_IN = "balupi-setup.conf"
# Credential name -> the units that load it (the services read them from $CREDENTIALS_DIRECTORY).
CREDENTIAL_UNITS = {
    "tapo-password": ("balupi-exporter.service",),
    "pihole-password": ("balupi-exporter.service", "balupi-handshake.service"),
    "nas-ssh-key": ("balupi-handshake.service",),
}
# Always loaded by balupi-handshake.service itself.
HANDSHAKE_SECRET = "handshake-secret"  # noqa: S105 - a credential name


def toml_text(data: Mapping[str, Any]) -> str:
    """Our config as TOML: tables of scalars and lists, and arrays of tables (tapo.plugs)."""
    lines = [
        "# Written by `balupi setup`; run it again to change an answer (or edit, then",
        "# `balupi check-config`). config/balupi.example.toml documents every key.",
        "",
    ]
    for name, table in data.items():
        lines += _table(name, table)
    return "\n".join(lines)


def _table(name: str, table: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested: list[str] = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            nested += _table(f"{name}.{key}", value)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for item in value:
                nested += [f"[[{name}.{key}]]"] + [f"{k} = {_value(v)}" for k, v in item.items()]
                nested.append("")
        else:
            lines.append(f"{key} = {_value(value)}")
    return [*lines, "", *nested]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_file(path: Path, content: str | bytes, *, mode: int, owner: str | None = None) -> bool:
    """Replace ``path`` atomically with ``content`` (mode, owner); True if it changed."""
    data = content.encode() if isinstance(content, str) else content
    try:
        if path.read_bytes() == data and (path.stat().st_mode & 0o777) == mode:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            import pwd

            entry = pwd.getpwnam(owner)
            os.fchown(fd, entry.pw_uid, entry.pw_gid)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def drop_ins(etc: Path, credentials: list[str]) -> dict[str, str]:
    """Each unit's drop-in text: LoadCredential= for every credential it needs that exists."""
    texts: dict[str, list[str]] = {
        "balupi-exporter.service": [],
        "balupi-handshake.service": [],
    }
    for name in credentials:
        for unit in CREDENTIAL_UNITS.get(name, ()):
            texts[unit].append(f"LoadCredential={name}:{etc / name}")
    header = "# Written by `balupi setup`: the credentials it configured.\n[Service]\n"
    return {unit: header + "".join(f"{line}\n" for line in lines) for unit, lines in texts.items()}
