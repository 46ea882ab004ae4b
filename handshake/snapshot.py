"""BaluHost's shutdown snapshot: validated, then stored atomically for nginx to serve.

The folder holds ``snapshot.json`` (the latest) and ``snapshot.previous.json`` (the one before),
so a bad upload can never leave the dashboard without data.
"""

from __future__ import annotations

import json
from pathlib import Path

from balupi.handshake.atomic_write import write_atomic

KNOWN_VERSIONS = (1,)
LATEST = "snapshot.json"
PREVIOUS = "snapshot.previous.json"
# v1 fields and the JSON type each must have when present (DESIGN.md: BaluHost's snapshot).
_V1_FIELDS: dict[str, type | tuple[type, ...]] = {
    "generated_at": str,
    "baluhost_version": str,
    "system": dict,
    "storage": dict,
    "smart_health": dict,
    "services": dict,
    "users": dict,
    "files_summary": dict,
}


class SnapshotError(Exception):
    """Why a snapshot was refused (for a 400 answer)."""


def parse_snapshot(body: bytes) -> dict:
    """The snapshot in ``body``, or SnapshotError saying what is wrong with it."""
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise SnapshotError("snapshot is not UTF-8") from None
    except (ValueError, RecursionError) as err:
        raise SnapshotError(f"snapshot is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise SnapshotError(f"snapshot must be a JSON object, got {type(value).__name__}")
    version = value.get("version")
    if isinstance(version, bool) or version not in KNOWN_VERSIONS:
        known = ", ".join(map(str, KNOWN_VERSIONS))
        raise SnapshotError(f"snapshot version {version!r} is not known (known: {known})")
    wrong = [
        f"{name} must be {_json_type(kind)}"
        for name, kind in _V1_FIELDS.items()
        if name in value and not isinstance(value[name], kind)
    ]
    if wrong:
        raise SnapshotError("snapshot v1: " + "; ".join(wrong))
    return value


def store_snapshot(folder: Path, body: bytes) -> None:
    """Write the validated ``body`` as the latest snapshot; the old latest becomes previous.

    The bytes are stored as BaluHost sent them: the dashboard reads the same JSON.
    """
    write_atomic(folder / LATEST, body, keep_previous=folder / PREVIOUS)


_JSON_NAMES: dict[type, str] = {str: "a string", dict: "an object"}


def _json_type(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_json_type(k) for k in kind)
    return _JSON_NAMES.get(kind, kind.__name__)
