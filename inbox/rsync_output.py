"""Reading rsync's own output: its escaped file names and its --itemize-changes codes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

# rsync writes a byte it will not print (a newline, a control character, or a backslash that
# would look like an escape) as backslash, '#' and three octal digits.
_ESCAPE = re.compile(rb"\\#([0-7]{3})")


def decode_name(raw: bytes) -> str:
    """A file name as rsync printed it, back to the name on disk (undecodable bytes kept)."""
    return os.fsdecode(_ESCAPE.sub(lambda m: bytes([int(m.group(1), 8)]), raw))


@dataclass(frozen=True)
class Item:
    """One line of ``--out-format='%i %n'``: what rsync did or would do with one path."""

    code: str  # e.g. "<f+++++++++" (new), ".f         " (same), "<fcst......" (differs)
    name: str

    @property
    def is_file(self) -> bool:
        return len(self.code) > 1 and self.code[1] == "f"

    @property
    def is_new(self) -> bool:
        return self.code[2:].startswith("+++")

    @property
    def same_content(self) -> bool:
        """Under --checksum: the receiver has this name with the same content ("." = no data
        to send; only attributes such as the time may differ)."""
        return self.code[0] == "."


ITEM_FORMAT = "%i %n"
_CODE_LENGTH = 11


def parse_items(output: bytes) -> list[Item]:
    """The item lines of rsync's stdout; other lines (none are expected) are ignored."""
    items = []
    for line in output.split(b"\n"):
        if len(line) <= _CODE_LENGTH or line[_CODE_LENGTH : _CODE_LENGTH + 1] != b" ":
            continue
        code = line[:_CODE_LENGTH].decode("ascii", "replace")
        if code[0] not in "<>ch.*":
            continue
        items.append(Item(code, decode_name(line[_CODE_LENGTH + 1 :])))
    return items
