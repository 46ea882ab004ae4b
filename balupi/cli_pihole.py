"""``balupi pihole migrate`` and ``balupi pihole restore``: the operator's side of the move.

Passwords come from files, environment variables or a prompt, never from the command line
(argv is visible to every user of the machine) and are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from balupi.config import DEFAULT_PATH, ConfigError, load_config
from balupi.secret import Secret

FROM_ENV = "BALUPI_PIHOLE_FROM_PASSWORD"
TO_ENV = "BALUPI_PIHOLE_TO_PASSWORD"
DEFAULT_BACKUPS = Path("/var/lib/balupi/pihole-backups")
EXIT_USAGE = 2


class UsageError(Exception):
    pass


def add_parser(sub: Any) -> None:
    pihole = sub.add_parser("pihole", help="move Pi-hole from the NAS to the Pi, or restore it")
    verbs = pihole.add_subparsers(dest="pihole_command", required=True)
    migrate = verbs.add_parser(
        "migrate",
        help="copy lists, domains, groups, clients and DNS settings from a Pi-hole v6",
        description=(
            "Copy another Pi-hole v6's lists, domains, groups, clients, local DNS records and "
            "DNS settings onto this Pi's Pi-hole, keeping its passwords, port and interface. "
            f"The source's password comes from --from-password-file, ${FROM_ENV} or a prompt."
        ),
    )
    source = migrate.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="the NAS's Pi-hole, e.g. http://192.168.1.5:8080",
    )
    source.add_argument(
        "--from-v5-archive",
        type=Path,
        metavar="FILE",
        help="a Pi-hole v5 teleporter backup (.tar.gz) instead of a running v6 source",
    )
    migrate.add_argument("--from-password-file", type=Path, metavar="F")
    migrate.add_argument(
        "--from-dns",
        metavar="HOST[:PORT]",
        help="its DNS server (default: the URL's host, Pi-hole's dns.port)",
    )
    _target_arguments(migrate)
    migrate.add_argument("--to-dns", metavar="HOST[:PORT]", help="the target's DNS server")
    migrate.add_argument(
        "--dry-run", action="store_true", help="show what would change, change nothing"
    )
    migrate.add_argument(
        "--backup-dir",
        type=Path,
        default=DEFAULT_BACKUPS,
        help=f"where the target's backup goes (default {DEFAULT_BACKUPS})",
    )
    migrate.add_argument(
        "--keep-record",
        action="append",
        metavar="NAME",
        help="a dns.hosts name the target keeps (default: BaluPi's dns.hostname, baluhost.local)",
    )
    migrate.add_argument(
        "--restart-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="how long to wait for FTL to restart (default 300 s)",
    )
    restore = verbs.add_parser(
        "restore",
        help="put a backup the migration saved back onto the target",
        description="Import a teleporter backup (config, leases, lists) onto the target Pi-hole.",
    )
    restore.add_argument("file", type=Path, help="the pihole-backup-*.zip the migration saved")
    _target_arguments(restore)
    restore.add_argument("--restart-timeout", type=float, default=300.0, metavar="S")


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        dest="target",
        metavar="URL",
        help="the target Pi-hole (default: [pihole] url of the config)",
    )
    parser.add_argument(
        "--to-password-file",
        type=Path,
        metavar="F",
        help=f"else ${TO_ENV}, the config's, or a prompt",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_PATH,
        help=f"BaluPi's config (default {DEFAULT_PATH})",
    )


def run(args: argparse.Namespace) -> int:
    from balupi.pihole import migrate

    try:
        if args.pihole_command == "restore":
            target, _, _ = _target(args)
            return asyncio.run(
                migrate.restore(target, args.file, _say, restart_timeout=args.restart_timeout)
            )
        options = _options(args)
    except UsageError as err:
        print(f"balupi pihole: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(migrate.Migration(options, _say).run()).code
    except KeyboardInterrupt:
        return 130  # the migration said where it stopped and how to go back


def _say(line: str) -> None:
    print(line, flush=True)


def _options(args: argparse.Namespace) -> Any:
    from balupi.pihole.migrate import End, Options

    archive = args.from_v5_archive
    if archive is not None:
        if not archive.is_file():
            raise UsageError(f"--from-v5-archive: no such file {archive}")
        source_url, password = "", None
    else:
        source_url = _url(args.source, "--from")
        password = _secret(args.from_password_file, FROM_ENV, f"the source ({source_url})")
    target, managed, pi_ip = _target(args)
    if (
        source_url
        and urllib.parse.urlsplit(source_url)[:2] == urllib.parse.urlsplit(target.url)[:2]
    ):
        raise UsageError(f"--from and the target are the same Pi-hole ({source_url})")
    if args.restart_timeout <= 0:
        raise UsageError("--restart-timeout must be positive")
    source = End(source_url, password, dns=_dns(args.from_dns, "--from-dns"), label="source (NAS)")
    target.dns = _dns(args.to_dns, "--to-dns")
    return Options(
        source=source,
        target=target,
        backup_dir=args.backup_dir,
        managed_names=tuple(args.keep_record or managed),
        dry_run=args.dry_run,
        restart_timeout=args.restart_timeout,
        pi_address=pi_ip,
        source_archive=archive,
    )


def _target(args: argparse.Namespace) -> tuple[Any, tuple[str, ...], str | None]:
    """The target End, the names BaluPi manages there and the Pi's address, from --to and
    the config."""
    from balupi.pihole.migrate import End

    config = None
    if args.target is None or args.config.exists():
        try:
            config = load_config(args.config, secrets_for=() if args.target else ("pihole",))
        except ConfigError as err:
            if args.target is None:
                raise UsageError(
                    f"no --to, and the config cannot be used:\n{err.report()}"
                ) from None
    managed: tuple[str, ...] = ("baluhost.local",)
    pi_ip = None
    if config is not None and config.dns is not None:
        managed, pi_ip = (config.dns.hostname,), config.dns.pi_ip
    if args.target is not None:
        url = _url(args.target, "--to")
        given = _secret(args.to_password_file, TO_ENV, f"the target ({url})")
        return End(url, given, label="target (Pi)"), managed, pi_ip
    if config is None or config.pihole is None:
        raise UsageError(f"no --to, and {args.config} has no [pihole] section")
    password: Secret | None = config.pihole.password
    if args.to_password_file or os.environ.get(TO_ENV):
        password = _secret(args.to_password_file, TO_ENV, "the target")
    return End(config.pihole.url, password, label="target (Pi)"), managed, pi_ip


def _url(text: str, option: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} wants http://HOST[:PORT] (Pi-hole's web server), got {text!r}")
    if parts.username or parts.password:
        raise UsageError(f"{option} must not carry a password: use a password file")
    return f"{parts.scheme}://{parts.netloc}"


def _dns(text: str | None, option: str) -> tuple[str, int] | None:
    if text is None:
        return None
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "53")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{option} wants HOST[:PORT], got {text!r}")
    return host, int(port)


def _secret(path: Path | None, env: str, what: str) -> Secret:
    if path is not None:
        try:
            value = path.read_text().removesuffix("\n")
        except OSError as err:
            raise UsageError(f"cannot read {path}: {err.strerror}") from None
        if not value:
            raise UsageError(f"{path} is empty")
        return Secret(value, f"file {path}")
    if os.environ.get(env):
        return Secret(os.environ[env], f"env {env}")
    if sys.stdin.isatty():
        value = getpass.getpass(f"Pi-hole password of {what}: ")
        if value:
            return Secret(value, "prompt")
    raise UsageError(f"no password for {what}: give a password file or set ${env}")
