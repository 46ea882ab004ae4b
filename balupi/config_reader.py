"""Reads one table of a TOML config and remembers every problem with its key.

The services validate the whole file before they start and list every problem at once, so a
reader never raises on bad input: it records the problem and returns a placeholder.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Collection, Iterator
from pathlib import Path

from balupi.secret import Secret


class _Required(enum.Enum):
    REQUIRED = "required"


# The default of an accessor whose key must be there: its absence is a problem.
REQUIRED = _Required.REQUIRED


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
    """A view on one TOML table that checks types and ranges and notes unknown keys.

    Each ``read_*`` returns the type its config field has: on a problem it notes it and
    returns the default (or an empty placeholder for a required key), so nothing untyped
    reaches the config dataclasses.
    """

    def __init__(self, data: object, key: str, problems: Problems) -> None:
        self.key = key
        self.problems = problems
        if not isinstance(data, dict):
            problems.add(key, f"must be a table, got {_kind(data)}")
            data = {}
        self._data: dict[str, object] = data
        self._seen: set[str] = set()

    def _path(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def has(self, name: str) -> bool:
        return name in self._data

    def _get(self, name: str, required: bool) -> object | None:
        """The raw value, or None when the key is absent (noted if it is required)."""
        self._seen.add(name)
        if name in self._data:
            return self._data[name]
        if required:
            self.problems.add(self._path(name), "required key is missing")
        return None

    def _wrong(self, name: str, want: str, value: object) -> None:
        self.problems.add(self._path(name), f"must be {want}, got {_kind(value)}")

    def read_optional_str(self, name: str, *, choices: tuple[str, ...] = ()) -> str | None:
        value = self._get(name, required=False)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self._wrong(name, "a non-empty string", value)
            return None
        if choices and value not in choices:
            self.problems.add(
                self._path(name), f"must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def read_str(
        self, name: str, default: str | _Required = REQUIRED, *, choices: tuple[str, ...] = ()
    ) -> str:
        """A non-empty string; "" for a required key that is missing or wrong (noted)."""
        if default is REQUIRED and not self.has(name):
            self._get(name, required=True)
            return ""
        value = self.read_optional_str(name, choices=choices)
        if value is not None:
            return value
        return "" if default is REQUIRED else default

    def read_str_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of non-empty strings, e.g. a command's argv (never run through a shell)."""
        value = self._get(name, required=False)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self._wrong(name, "a list of non-empty strings", value)
            return default
        return tuple(str(v) for v in value)

    def _number(
        self, name: str, required: bool, minimum: float, maximum: float, *, integer: bool
    ) -> int | float | None:
        """The number at ``name`` (range problems noted, the value kept), None if absent or
        of the wrong kind (noted)."""
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(name, "an integer" if integer else "a number", value)
            return None
        if integer and not isinstance(value, int):
            self._wrong(name, "an integer", value)
            return None
        if not minimum <= value <= maximum:
            self.problems.add(
                self._path(name), f"must be between {minimum} and {maximum}, got {value}"
            )
        return value

    def read_int(
        self, name: str, default: int | _Required = REQUIRED, *, minimum: int, maximum: int
    ) -> int:
        value = self._number(name, default is REQUIRED, minimum, maximum, integer=True)
        if isinstance(value, int):
            return value
        return minimum if default is REQUIRED else default

    def read_float(
        self, name: str, default: float | _Required = REQUIRED, *, minimum: float, maximum: float
    ) -> float:
        required = default is REQUIRED
        value = self.read_optional_float(name, minimum=minimum, maximum=maximum, required=required)
        if value is not None:
            return value
        return float(minimum) if default is REQUIRED else float(default)

    def read_optional_float(
        self, name: str, *, minimum: float, maximum: float, required: bool = False
    ) -> float | None:
        value = self._number(name, required, minimum, maximum, integer=False)
        return None if value is None else float(value)

    def read_port(self, name: str, default: int | _Required = REQUIRED) -> int:
        return self.read_int(name, default, minimum=1, maximum=65535)

    def read_optional_port(self, name: str) -> int | None:
        value = self._number(name, False, 1, 65535, integer=True)
        return value if isinstance(value, int) else None

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
        value = self._get(name, required)
        if value is None:  # absent (noted when required): its own keys are reported too
            value = {}
        return Table(value, self._path(name), self.problems)

    def tables(self, name: str) -> Iterator[Table]:
        """The tables of an array of tables (``[[name]]``)."""
        value = self._get(name, required=False)
        if value is None:
            return
        if not isinstance(value, list):
            self.problems.add(self._path(name), f"must be a list of tables, got {_kind(value)}")
            return
        for index, item in enumerate(value):
            yield Table(item, f"{self._path(name)}[{index}]", self.problems)

    def finish(self) -> None:
        """Report every key that nobody asked for: a typo must not pass silently."""
        for name in sorted(set(self._data) - self._seen):
            self.problems.add(self._path(name), "unknown key")


def _secret_from_file(name: object, key: str, problems: Problems) -> Secret | None:
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


def _secret_from_env(name: object, key: str, problems: Problems) -> Secret | None:
    if not isinstance(name, str) or not name:
        problems.add(key, f"must be an environment variable name, got {_kind(name)}")
        return None
    value = os.environ.get(name, "")
    if not value:
        problems.add(key, f"environment variable {name} is not set or empty")
        return None
    return Secret(value, f"env {name}")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
