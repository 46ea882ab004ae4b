"""The rsync and ssh command lines of a flush: the same rsync an operator would type.

Only paths and options go into argv; the private key stays in its file.
"""

from __future__ import annotations

import shlex

from balupi.config_inbox import InboxConfig

# On the NAS, an interrupted big file (RESUME_FROM_BYTES) waits here, per folder, and the next
# flush resumes it; the target name only ever holds a complete file.
PARTIAL_DIR = ".balupi-partial"

# rsync's exit codes a flush meets, in words for the status page.
EXIT_MEANINGS = {
    1: "syntax or usage error",
    2: "protocol incompatibility",
    3: "errors selecting input/output files or folders",
    5: "error starting the client-server protocol",
    10: "error in socket I/O",
    11: "error in file I/O (is the NAS disk full?)",
    12: "error in the rsync data stream (the NAS side stopped: disk full or gone)",
    20: "interrupted",
    23: "some files could not be transferred",
    24: "some source files vanished",
    30: "timeout: no data moved (the NAS went away)",
    35: "timeout waiting for the connection",
    255: "ssh failed: the NAS is unreachable, or refused the key or its host key",
}
# rsync's codes after which the connection worked and per-file results are meaningful.
PER_FILE_CODES = (0, 23, 24)


def ssh_command(config: InboxConfig) -> str:
    """rsync's -e: BatchMode (never a prompt), our key only, the NAS's known host key only."""
    return shlex.join(
        [
            "ssh",
            "-F", "none",
            "-p", str(config.nas_port),
            "-i", str(config.ssh_key_file),
            "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={config.known_hosts_file}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={config.connect_timeout_seconds}",
            "-o", "ServerAliveInterval=10",
            "-o", "ServerAliveCountMax=3",
            "-o", "LogLevel=ERROR",
        ]
    )  # fmt: skip


def destination(config: InboxConfig) -> str:
    return f"{config.nas_user}@{config.nas_host}:{config.nas_path.rstrip('/')}/"


# A file this big is sent with rsync's delta algorithm and --partial-dir, so that after an
# interruption the next flush resumes from the partial file on the NAS instead of starting over.
# A flush of smaller files only uses --whole-file and rsync's own temporary names (".NAME.XXXXXX",
# removed when cut off): they are new on the NAS anyway, resuming them saves nothing, and the
# delta machinery and the partial-dir lookups cost a third of the throughput for many small
# files. Either way a target name only ever holds a complete file.
RESUME_FROM_BYTES = 16 << 20


# The names to send come on stdin, NUL-separated (any byte but NUL may be in a name), below the
# source folder; with --recursive, a folder named there goes with everything in it. rsync reads
# them only once it has logged in to the NAS, so the flush starts it before it knows them.
NAMES_ON_STDIN = ["--files-from=-", "--from0"]


def transfer_argv(
    config: InboxConfig,
    source_dir: str,
    *,
    whole_file: bool = False,
    names_on_stdin: bool = False,
) -> list[str]:
    """Move the files below ``source_dir`` (all, or the files and folders named on stdin),
    keeping their folders: never overwrite a name on the NAS, remove a source file only once
    rsync has it complete there (and unchanged since it was read). Folders stay; the flush
    removes the ones it emptied."""
    argv = [
        "rsync",
        "--recursive",
        "--times",
        "--ignore-existing",
        "--remove-source-files",
        f"--timeout={config.io_timeout_seconds}",
        "--8-bit-output",
        "-e", ssh_command(config),
    ]  # fmt: skip
    if names_on_stdin:
        argv += NAMES_ON_STDIN
    if config.bandwidth_limit_kib:
        argv.append(f"--bwlimit={config.bandwidth_limit_kib}")
    argv.append("--whole-file" if whole_file else f"--partial-dir={PARTIAL_DIR}")
    return [*argv, "--", source_dir.rstrip("/") + "/", destination(config)]


def compare_argv(config: InboxConfig, source_dir: str) -> list[str]:
    """A dry run that tells, per file below ``source_dir``, whether the NAS has the name, and
    if so whether with the very same content (--checksum)."""
    return [
        "rsync",
        "--dry-run",
        "--recursive",
        "--times",
        "--checksum",
        "--itemize-changes", "--itemize-changes",  # twice: unchanged files are listed too
        "--8-bit-output",
        f"--timeout={config.io_timeout_seconds}",
        "-e", ssh_command(config),
        "--", source_dir.rstrip("/") + "/", destination(config),
    ]  # fmt: skip


# What ssh prints when it cannot log in to the NAS, in words for the status page. rsync then
# exits with 12 or 255 and its own words for that code (data stream, protocol) would mislead.
SSH_FAILURES = {
    "Connection refused": "nothing listens on the NAS's SSH port (is sshd running?)",
    "Connection timed out": "the NAS did not answer (asleep, or a firewall drops SSH)",
    "No route to host": "no route to the NAS (asleep, or another network)",
    "Could not resolve hostname": "the NAS's name does not resolve",
    "Host key verification failed": "the NAS's host key is not the known one",
    "Permission denied (publickey": "the NAS refused the Pi's key",
}


def describe_exit(code: int) -> str:
    return f"rsync exit {code}: {EXIT_MEANINGS.get(code, 'error')}"


def ssh_failure(stderr_tail: str) -> str | None:
    """Why ssh could not log in, if its own message is among rsync's and ssh's last lines."""
    for line in stderr_tail.split(" | "):
        # ssh's lines, never an rsync file error that ends in "Permission denied (13)"
        if line.startswith("rsync"):
            continue
        for message, meaning in SSH_FAILURES.items():
            if message in line:
                return meaning
    return None
