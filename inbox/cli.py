"""``balupi inbox status|flush``: the operator's view of the inbox, and a flush by hand."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from balupi.config import DEFAULT_PATH, ConfigError, load_config
from balupi.inbox.mover import FlushBusyError, InboxMover
from balupi.inbox.report import OK


def add_parser(sub: argparse._SubParsersAction) -> None:
    inbox = sub.add_parser("inbox", help="what waits in the SMB inbox; move it to the NAS now")
    inbox.add_argument("action", choices=("status", "flush"))
    inbox.add_argument("--config", type=Path, default=DEFAULT_PATH)
    inbox.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 2
    if config.inbox is None:
        print(f"{args.config}: no [inbox] table, nothing to do", file=sys.stderr)
        return 2
    mover = InboxMover(config.inbox)
    if args.action == "status":
        try:
            status = mover.scan()
        except OSError as err:
            print(err, file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(status.as_dict()))
        else:
            age = status.oldest_age_seconds
            oldest = "" if age is None else f", the oldest for {age:.0f} s"
            print(f"{config.inbox.path}: {status.files} file(s), {status.bytes} bytes{oldest}")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        report = asyncio.run(mover.flush())
    except FlushBusyError as err:
        print(err, file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for r in report.renamed:
            print(f"renamed: {r.inbox_name!r} arrived as {r.nas_name!r} (the name was taken)")
        for p in report.problems:
            print(f"stays: {p.name!r}: {p.reason}")
    return 0 if report.result == OK else 1
