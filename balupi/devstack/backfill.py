"""Backfilling a Prometheus TSDB with promtool: raw series from OpenMetrics, then the repository's
recording rules evaluated over them by a running Prometheus."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from balupi.devstack.prometheus import RULES_DIR

USAGE_RULES = RULES_DIR / "balupi-usage.rules.yml"
# Prometheus's own block ranges with the Pi's 90-day retention top out at 162 h (2 h * 3^4).
MAX_BLOCK = "162h"
RULE_NAME = re.compile(r"balupi:[a-z0-9_:]+")


class BackfillError(RuntimeError):
    """promtool failed; the message ends with what it printed."""


def backfill_openmetrics(source: Path, data_dir: Path, *, progress: bool = True) -> None:
    _run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet",
          f"--max-block-duration={MAX_BLOCK}", str(source), str(data_dir)],
         progress=progress)  # fmt: skip


def rule_steps(workdir: Path, rules: Path = USAGE_RULES) -> list[tuple[Path, bool]]:
    """The rule file split into files promtool can backfill in turn: promtool evaluates a rule
    over the data as it is, so a rule built on another rule needs that one backfilled first.
    Each file comes with whether its rules need only the last hours (the 30-day ones: at one
    minute each, 30 days of 30-day windows would be 43,200 windows nobody reads)."""
    groups = yaml.safe_load(rules.read_text())["groups"]
    done: set[str] = set()
    steps: list[tuple[Path, bool]] = []
    level = 0
    while left := [(g, r) for g in groups for r in g["rules"] if r["record"] not in done]:
        ready = [(g, r) for g, r in left if set(RULE_NAME.findall(r["expr"])) <= done]
        if not ready:
            raise ValueError(f"rules that depend on each other: {[r['record'] for _, r in left]}")
        for recent in (False, True):
            chosen = [(g, r) for g, r in ready if ("30d" in r["record"]) == recent]
            if chosen:
                path = workdir / f"rules-{level}-{'recent' if recent else 'all'}.yml"
                path.write_text(yaml.safe_dump({"groups": _groups(chosen)}))
                steps.append((path, recent))
        done |= {r["record"] for _, r in ready}
        level += 1
    return steps


def write_rules(path: Path, records: set[str], rules: Path = USAGE_RULES) -> Path:
    """The rules of ``records`` alone, as the rule file has them, in a file of their own."""
    groups = yaml.safe_load(rules.read_text())["groups"]
    chosen = [(g, r) for g in groups for r in g["rules"] if r["record"] in records]
    if missing := records - {r["record"] for _, r in chosen}:
        raise ValueError(f"no such recording rules in {rules}: {sorted(missing)}")
    path.write_text(yaml.safe_dump({"groups": _groups(chosen)}))
    return path


def _groups(chosen: list[tuple[dict, dict]]) -> list[dict]:
    """The chosen rules in their own groups, so each keeps its group's interval."""
    by_name: dict[str, dict] = {}
    for group, rule in chosen:
        copy = by_name.setdefault(group["name"], {k: v for k, v in group.items() if k != "rules"})
        copy.setdefault("rules", []).append(rule)
    return list(by_name.values())


def backfill_rules(
    rule_file: Path, *, url: str, start: int, end: int, data_dir: Path, progress: bool = True
) -> None:
    """Evaluates ``rule_file`` over [start, end] against the Prometheus at ``url``; moves the new
    blocks into ``data_dir`` (Prometheus loads them when it starts again)."""
    out = rule_file.with_suffix(".blocks")
    _run(["promtool", "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={url}",
          f"--start={start}", f"--end={end}", f"--output-dir={out}", str(rule_file)],
         progress=progress)  # fmt: skip
    for block in out.iterdir():
        shutil.move(block, data_dir / block.name)


def _run(argv: list[str], *, progress: bool = True) -> None:
    """Runs promtool; with ``progress``, a dot for each rule promtool reaches (a rule can take a
    minute), then the time it took."""
    t0 = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if progress and "processing rule" in line:
                print(".", end="", flush=True)
    if proc.returncode != 0:
        raise BackfillError(f"{' '.join(argv[:4])} failed:\n{''.join(lines[-20:])}")
    if progress:
        print(f" ({time.monotonic() - t0:.0f} s)", flush=True)
