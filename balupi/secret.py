"""A secret value that never shows itself in a repr, a log line or an exception."""

from __future__ import annotations


class Secret:
    """Wraps a secret string; only ``reveal()`` gives it back."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        # Where it came from ("file /run/credentials/..." or "env BALUPI_X"): safe to show.
        self.source = source

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
