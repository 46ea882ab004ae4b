"""The inbox flush against plain ``rsync -a`` of the same data over the same loopback SSH
(Debian's sshd, one key), in the same run: one 1 GB file, and 10,000 files of 10 KB.

Run: .venv/bin/python -m bench.inbox_flush  [--big-mb 1000] [--files 10000] [--rounds 5]
                                            [--dir /dev/shm]
Prints the best throughput of each and the ratio flush / plain (target: at least 0.9). No
assertions. Each round runs every kind once, back to back, so the kinds of one round meet the
same machine; the ratio is the median over the rounds of each round's ratio, which a lucky or
unlucky round on a shared machine does not move. The data lives in --dir (default: /dev/shm,
a RAM disk, when it has room), so the disk's own noise does not drown the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from balupi.config_inbox import InboxConfig
from balupi.devstack.ports import free_port
from balupi.devstack.sshd import SshServer
from balupi.inbox import InboxMover
from balupi.inbox.report import OK
from balupi.inbox.rsync_command import destination, ssh_command

MB = 1_000_000


def make_big(folder: Path, size_mb: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    with (folder / "film.mkv").open("wb") as f:
        for _ in range(size_mb * MB >> 20):
            f.write(block)
            block = block[1:] + block[:1]  # not the same block twice: no delta shortcuts
    return (folder / "film.mkv").stat().st_size


def make_small(folder: Path, count: int) -> int:
    data = os.urandom(10_000)
    for i in range(count):
        path = folder / f"d{i % 10}" / f"e{i % 100}" / f"f{i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[i % 100 :] + data[: i % 100])
    return count * len(data)


class Progress:
    """Prints how much has arrived on the NAS every few seconds while a transfer runs."""

    def __init__(self, target: Path, total: int) -> None:
        self.target, self.total = target, total
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(3):
            arrived = sum(
                (Path(d) / n).stat().st_size for d, _, names in os.walk(self.target) for n in names
            )
            print(f"    ... {arrived / MB:7.0f} of {self.total / MB:.0f} MB on the NAS", flush=True)


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def plain_rsync(config: InboxConfig, source: Path, *, remove: bool) -> None:
    extra = ["--remove-source-files"] if remove else []
    subprocess.run(
        ["rsync", "-a", *extra, "-e", ssh_command(config), f"{source}/", destination(config)],
        check=True,
    )


def flush(config: InboxConfig) -> None:
    report = asyncio.run(InboxMover(config).flush())
    if report.result != OK:
        raise RuntimeError(f"flush failed: {report.summary()}")


KINDS = ("plain rsync -a", "rsync -a --remove-source-files", "flush")


def run_kind(kind: str, config: InboxConfig, source: Path) -> None:
    if kind == "flush":
        flush(config)
    else:
        plain_rsync(config, source, remove=kind != KINDS[0])


def compare(
    name: str, make: Callable[[Path], int], work: Path, base: InboxConfig, rounds: int
) -> tuple[str, int, dict[str, list[float]]]:
    """The time of each kind in each round; the order turns each round so that no kind always
    runs first."""
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    size = 0
    for round_ in range(1, rounds + 1):
        shift = round_ % len(KINDS)
        for kind in KINDS[shift:] + KINDS[:shift]:
            for folder in ("src", "inbox", "nas", "staging"):
                shutil.rmtree(work / folder, ignore_errors=True)
            (work / "nas").mkdir()
            print(f"  round {round_}: {kind}: preparing {name} ...", flush=True)
            source = work / ("inbox" if kind == "flush" else "src")
            size = make(source)
            os.sync()  # every run starts from the same state: data written, still in page cache
            with Progress(work / "nas", size):
                seconds = timed(lambda: run_kind(kind, base, source))  # noqa: B023
            times[kind].append(seconds)
            print(f"  round {round_}: {kind}: {seconds:.2f} s, {size / MB / seconds:.1f} MB/s")
    return name, size, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big-mb", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each kind")
    parser.add_argument("--dir", type=Path, default=None, help="where the data goes")
    args = parser.parse_args()
    where = args.dir or _ram_disk(args.big_mb * MB * 3)
    print(f"data in {where or tempfile.gettempdir()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="balupi-bench-inbox-", dir=where) as tmp:
        work = Path(tmp)
        sshd = SshServer(work / "sshd", port=free_port()).start()
        try:
            sshd.wait_ready()
            base = InboxConfig(
                nas_host="127.0.0.1", nas_port=sshd.port, nas_user=sshd.user,
                nas_path=str(work / "nas"), ssh_key_file=sshd.client_key,
                known_hosts_file=sshd.known_hosts, path=work / "inbox",
                staging_path=work / "staging", settle_seconds=0,
            )  # fmt: skip
            results = [
                compare(f"one {args.big_mb} MB file", lambda d: make_big(d, args.big_mb), work,
                        base, args.rounds),
                compare(f"{args.files} files of 10 KB", lambda d: make_small(d, args.files), work,
                        base, args.rounds),
            ]  # fmt: skip
        finally:
            sshd.stop()
    version = subprocess.run(["rsync", "--version"], capture_output=True, text=True).stdout
    print(f"\nrsync {version.split()[2]}, {args.rounds} round(s), loopback SSH to sshd; "
          "throughput: best round")  # fmt: skip
    print(f"{'data':<24} {'rsync -a':>12} {'-a --remove-source-files':>26} {'flush':>12} "
          f"{'ratio':>6}  {'ratio per round':<}")  # fmt: skip
    for name, size, times in results:
        plain, move, flushed = (size / MB / min(times[k]) for k in KINDS)
        per_round = [p / f for p, f in zip(times[KINDS[0]], times["flush"], strict=True)]
        print(f"{name:<24} {plain:7.1f} MB/s {move:21.1f} MB/s {flushed:7.1f} MB/s "
              f"{statistics.median(per_round):6.2f}  "
              f"{' '.join(f'{r:.2f}' for r in per_round)}")  # fmt: skip
    print("ratio = flush throughput / plain `rsync -a` throughput in the same round, median over")
    print("the rounds (target: at least 0.9)")


def _ram_disk(need: int) -> Path | None:
    shm = Path("/dev/shm")
    try:
        return shm if shutil.disk_usage(shm).free > need else None
    except OSError:
        return None


if __name__ == "__main__":
    main()
