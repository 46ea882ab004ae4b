"""`balupi-sim`: simulators for the hardware BaluPi talks to, one subcommand each.

Each simulator's command lives in its own module with a `register(subparsers)` that adds its
parser and sets `run(args) -> exit code` as the parser's default; list the module here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMAND_MODULES = ("balupi.sim.tapo.cli", "balupi.sim.pihole.cli", "balupi.sim.nas.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="balupi-sim", description="Simulated hardware for BaluPi's tests and demo."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="SIMULATOR")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
