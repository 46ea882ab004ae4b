"""``balupi doctor``: checks the live system and prints one row per check, with a fix for each
failure; exits 1 when anything failed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from balupi import doctor_checks as checks
from balupi.config import DEFAULT_PATH, ConfigError, load_config


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the live system, with a fix for each failure")
    p.add_argument("--config", type=Path, default=DEFAULT_PATH)


def run(args: argparse.Namespace) -> int:
    rows: list[checks.Check] = checks.units()
    try:
        config = load_config(args.config)
    except ConfigError as err:
        rows.append(
            checks.Check(
                "config", checks.FAIL, err.report().replace("\n", " "), "sudo balupi setup"
            )
        )
        config = None
    if config is not None:
        rows.append(checks.Check("config", checks.OK, str(args.config)))
        rows += checks.plugs_and_pihole(config)
        rows += checks.handshake(config)
    rows.append(checks.clock())
    rows += checks.disks()
    rows.append(checks.prometheus_targets())
    rows.append(checks.alertmanager_receiver())
    _print(rows)
    failed = [r for r in rows if r.status == checks.FAIL]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} checks passed"
        if failed
        else f"\nall {len(rows)} checks passed"
    )
    return 1 if failed else 0


def _print(rows: list[checks.Check]) -> None:
    width = max(len(r.name) for r in rows)
    for r in rows:
        line = f"{r.status:<4}  {r.name:<{width}}  {r.detail}"
        print(line)
        if r.fix:
            print(f"{'':<4}  {'':<{width}}  fix: {r.fix}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(argparse.Namespace(config=DEFAULT_PATH)))
