"""``balupi``: the operator's command (``balupi setup``, ``balupi doctor``,
``balupi check-config FILE``, ``balupi inbox ...``, ``balupi pihole migrate|restore``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from balupi import cli_pihole, doctor, setup_cli
from balupi.config import DEFAULT_PATH, ConfigError, load_config
from balupi.inbox import cli as inbox_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="balupi", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a config file, list every problem")
    check.add_argument("file", nargs="?", type=Path, default=DEFAULT_PATH)
    inbox_cli.add_parser(sub)
    cli_pihole.add_parser(sub)
    setup_cli.add_parser(sub)
    doctor.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "inbox":
        return inbox_cli.run(args)
    if args.command == "pihole":
        return cli_pihole.run(args)
    if args.command == "setup":
        return setup_cli.run(args)
    if args.command == "doctor":
        return doctor.run(args)
    return 2  # pragma: no cover - argparse already refused


def _check_config(path: Path) -> int:
    try:
        config = load_config(path)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 1
    plugs = ", ".join(p.name for p in config.tapo.plugs) or "none"
    print(f"{path}: OK (plugs: {plugs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
