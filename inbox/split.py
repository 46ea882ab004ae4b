"""Sharing one flush between rsyncs: which names (below the staging folder) each one sends."""

from __future__ import annotations

from collections.abc import Iterable

# A unit is opened into its entries while there are fewer units than this many per rsync, so
# that even one big folder is shared.
_UNITS_PER_PART = 4


def split_names(rels: Iterable[str], parts: int) -> list[list[str]]:
    """At most ``parts`` lists of names (files or folders, for --files-from with --recursive)
    that together cover ``rels`` (the files' paths) once, each list with about as many files
    as the others. A folder named in one list is sent whole by that rsync."""
    units: dict[str, list[str]] = {}
    for rel in rels:
        units.setdefault(rel.partition("/")[0], []).append(rel)
    while parts > 1 and len(units) < parts * _UNITS_PER_PART:
        folders = [(len(files), unit) for unit, files in units.items() if files != [unit]]
        if not folders:
            break
        count, biggest = max(folders)
        if count < 2:
            break
        prefix = biggest + "/"
        for rel in units.pop(biggest):
            child = prefix + rel[len(prefix) :].partition("/")[0]
            units.setdefault(child, []).append(rel)
    # Biggest units first, each to the part with the fewest files so far.
    counts = [0] * parts
    names: list[list[str]] = [[] for _ in range(parts)]
    for unit, files in sorted(units.items(), key=lambda item: (-len(item[1]), item[0])):
        lightest = min(range(parts), key=counts.__getitem__)
        counts[lightest] += len(files)
        names[lightest].append(unit)
    return [sorted(part) for part in names if part]
