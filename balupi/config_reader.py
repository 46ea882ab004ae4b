"""Reads one table of a TOML config and remembers every problem with its key.

The services validate the whole file before they start and list every problem at once, so a
reader never raises on bad input: it records the problem and returns a placeholder.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from balupi.secret import Secret

_MISSING: Any = object()


class Problems:
    """The list of problems found in one config file, and how its secrets are read.

    ``base_dir``: where a relative ``*_file`` is found when systemd gives no
    $CREDENTIALS_DIRECTORY (the config file's folder, /etc/balupi on a Pi).
    ``secrets_for``: the top-level sections whose secrets this process reads; the others are
    only checked for their form, so a service never needs another service's credentials.
    None reads them all (``balupi check-config``).
    """

    def __init__(
        self, *, base_dir: Path | None = None, secrets_for: Collection[str] | None = None
    ) -> None:
        self.items: list[str] = []
        self.base_dir = base_dir
        self.secrets_for = None if secrets_for is None else frozenset(secrets_for)

    def reads_secrets_of(self, key: str) -> bool:
        section = key.split(".", 1)[0].split("[", 1)[0]
        return self.secrets_for is None or section in self.secrets_for

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{key}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)


class Table:
    """A view on one TOML table that checks types and ranges and notes unknown keys."""

    def __init__(self, data: Any, key: str, problems: Problems) -> None:
        self.key = key
        self.problems = problems
        if not isinstance(data, dict):
            problems.add(key, f"must be a table, got {_kind(data)}")
            data = {}
        self._data: dict[str, Any] = data
        self._seen: set[str] = set()

    def _path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def has(self, name: str) -> bool:
        return name in self._data

    def _get(self, name: str, default: Any) -> Any:
        self._seen.add(name)
        if name in self._data:
            return self._data[name]
        if default is _MISSING:
            self.problems.add(self._path(name), "required key is missing")
        return default

    def string(self, name: str, default: Any = _MISSING, *, choices: tuple[str, ...] = ()) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        if not isinstance(value, str) or not value:
            self.problems.add(self._path(name), f"must be a non-empty string, got {_kind(value)}")
            return default if default is not _MISSING else ""
        if choices and value not in choices:
            self.problems.add(
                self._path(name), f"must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def string_list(self, name: str, default: Any = _MISSING) -> Any:
        """A list of non-empty strings, e.g. a command's argv (never run through a shell)."""
        value = self._get(name, default)
        if value is default:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.add(
                self._path(name), f"must be a list of non-empty strings, got {_kind(value)}"
            )
            return default if default is not _MISSING else []
        return value

    def number(
        self,
        name: str,
        default: Any = _MISSING,
        *,
        minimum: float,
        maximum: float,
        integer: bool = False,
    ) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            want = "an integer" if integer else "a number"
            self.problems.add(self._path(name), f"must be {want}, got {_kind(value)}")
            return default if default is not _MISSING else minimum
        if not minimum <= value <= maximum:
            self.problems.add(
                self._path(name), f"must be between {minimum} and {maximum}, got {value}"
            )
        return value

    def port(self, name: str, default: Any = _MISSING) -> Any:
        return self.number(name, default, minimum=1, maximum=65535, integer=True)

    def secret(self, name: str, *, required: bool = True) -> Secret | None:
        """A secret named ``name``: read from ``name_file`` or ``name_env``, never inline.

        A relative ``name_file`` is looked up in $CREDENTIALS_DIRECTORY, where systemd's
        LoadCredential= puts it, else beside the config file.
        """
        file_key, env_key = f"{name}_file", f"{name}_env"
        self._seen.update({name, file_key, env_key})
        if name in self._data:
            self.problems.add(
                self._path(name),
                f"secrets are not written into the config; name a file with {file_key} "
                f"or an environment variable with {env_key}",
            )
        file_name = self._data.get(file_key)
        env_name = self._data.get(env_key)
        if file_name is not None and env_name is not None:
            self.problems.add(self._path(file_key), f"set only one of {file_key} and {env_key}")
            return None
        if not self.problems.reads_secrets_of(self.key) and (file_name or env_name):
            return None  # another service's secret: this process never reads it
        if file_name is not None:
            return _secret_from_file(file_name, self._path(file_key), self.problems)
        if env_name is not None:
            return _secret_from_env(env_name, self._path(env_key), self.problems)
        if required:
            self.problems.add(self._path(name), f"required: set {file_key} or {env_key}")
        return None

    def table(self, name: str, *, required: bool = False) -> Table:
        value = self._get(name, _MISSING if required else {})
        if value is _MISSING:  # already reported as missing; its own keys are listed too
            value = {}
        return Table(value, self._path(name), self.problems)

    def tables(self, name: str) -> Iterator[Table]:
        """The tables of an array of tables (``[[name]]``)."""
        value = self._get(name, [])
        if not isinstance(value, list):
            self.problems.add(self._path(name), f"must be a list of tables, got {_kind(value)}")
            return
        for index, item in enumerate(value):
            yield Table(item, f"{self._path(name)}[{index}]", self.problems)

    def finish(self) -> None:
        """Report every key that nobody asked for: a typo must not pass silently."""
        for name in sorted(set(self._data) - self._seen):
            self.problems.add(self._path(name), "unknown key")


def _secret_from_file(name: Any, key: str, problems: Problems) -> Secret | None:
    if not isinstance(name, str) or not name:
        problems.add(key, f"must be a file path, got {_kind(name)}")
        return None
    path = Path(name)
    if not path.is_absolute():
        base = os.environ.get("CREDENTIALS_DIRECTORY") or problems.base_dir
        if not base:
            problems.add(key, f"relative path {name!r} needs $CREDENTIALS_DIRECTORY (systemd)")
            return None
        path = Path(base) / path
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        problems.add(key, f"cannot read {path}: {err.strerror}")
        return None
    if not value:
        problems.add(key, f"{path} is empty")
        return None
    return Secret(value, f"file {path}")


def _secret_from_env(name: Any, key: str, problems: Problems) -> Secret | None:
    if not isinstance(name, str) or not name:
        problems.add(key, f"must be an environment variable name, got {_kind(name)}")
        return None
    value = os.environ.get(name, "")
    if not value:
        problems.add(key, f"environment variable {name} is not set or empty")
        return None
    return Secret(value, f"env {name}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
