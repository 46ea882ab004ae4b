"""The .deb on a booted Debian bookworm (systemd-nspawn, as tests/test_deb_booted.py): install
time, memory of everything BaluPi runs except Pi-hole after a steady state, and the time from
boot to every unit active.

    python -m bench.deb_footprint [--minutes 10]

Memory is the summed PSS (/proc/PID/smaps_rollup) of every process in each unit's cgroup: our
two services, Prometheus, Alertmanager, node_exporter, nginx, smbd. The plan's budget is 250 MB
(365 MB with Pi-hole's 120 MB). The simulated plug, Pi-hole and NAS run beside them in the
container, as the tests run them, and are not counted. Baselines from the same run: the
container's boot before BaluPi (Debian's own units), and an install of nothing (apt's own cost).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import booted_debian
from tests.booted_debian import REPO, Container
from tests.booted_scenario import (
    OURS,
    THEIRS,
    all_active,
    copy_simulators,
    install_and_configure,
)
from tests.waiting import wait_for

BUDGET_MB = 250.0


def pss_mb(box: Container, unit: str) -> tuple[float, int]:
    """Summed PSS (MB) of the unit's processes, and how many there are."""
    # ps knows each process's unit from its cgroup, as the container's systemd sees it.
    pids = [
        pid
        for pid, owner in (line.split() for line in box.sh("ps -e -o pid=,unit=").splitlines())
        if owner == unit
    ]
    total_kb = 0
    for pid in pids:
        rollup = box.run("cat", f"/proc/{pid}/smaps_rollup", check=False).stdout
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024, len(pids)


def empty_deb(out: Path) -> Path:
    """A package with nothing in it: what apt and dpkg cost by themselves."""
    root = out / "empty"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: balupi-bench-empty\nVersion: 1\nArchitecture: all\n"
        "Maintainer: bench <bench@localhost>\nDescription: nothing\n"
    )
    deb = out / "empty_1_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)],
        capture_output=True,
        check=True,
    )
    return deb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="steady state before measuring")
    args = parser.parse_args()
    if why := booted_debian.unavailable():
        print(f"skipped: {why}")
        return 0
    booted_debian.ensure_root()
    with tempfile.TemporaryDirectory() as out:
        built = subprocess.run(
            [str(REPO / "packaging" / "build-deb"), "0.0.0~bench", out],
            capture_output=True,
            text=True,
            check=True,
        )
        deb = Path(built.stdout.strip().splitlines()[-1])
        box = Container("balupi-bench").start()
        try:
            return measure(box, deb, args.minutes)
        finally:
            box.stop()


def measure(box: Container, deb: Path, minutes: float) -> int:
    bare_boot = box.booted_seconds or 0.0
    box.copy_in(deb, f"/root/{deb.name}")
    box.copy_in(empty_deb(deb.parent), "/root/empty_1_all.deb")
    copy_simulators(box)
    started = time.monotonic()
    box.run("apt-get", "install", "-y", "/root/empty_1_all.deb")  # apt's own cost, the baseline
    apt_alone = time.monotonic() - started
    started = time.monotonic()
    install_and_configure(box, f"/root/{deb.name}")
    print(f"install + setup + NAS online: {time.monotonic() - started:.1f} s")
    # The install alone, measured again on a reinstall of the same package.
    started = time.monotonic()
    box.run("apt-get", "install", "-y", "--reinstall", f"/root/{deb.name}")
    install = time.monotonic() - started
    print(
        f"apt-get install of the .deb (reinstall, services restarted): {install:.1f} s "
        f"({install / apt_alone:.1f}x an empty package, {apt_alone:.1f} s)"
    )
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=60, what="every unit active")
    end = time.monotonic() + minutes * 60
    while (left := end - time.monotonic()) > 0:
        print(f"steady state: {left / 60:.1f} min left", flush=True)
        time.sleep(min(60.0, left))  # a measured duration, not a synchronisation
    total = 0.0
    print(f"\nPSS after {minutes:g} min of steady state:")
    for unit in OURS + THEIRS:
        mb, procs = pss_mb(box, unit)
        total += mb
        print(f"  {unit:<34} {mb:7.1f} MB  ({procs} process(es))")
    print(
        f"  {'total':<34} {total:7.1f} MB  = {total / BUDGET_MB:.2f} of the {BUDGET_MB:g} MB budget"
    )
    box.reboot()
    started = time.monotonic()
    wait_for(lambda: all_active(box, OURS + THEIRS), timeout=120, what="every unit after reboot")
    to_active = (box.booted_seconds or 0.0) + time.monotonic() - started
    print(
        f"\nboot to every unit active: {to_active:.1f} s "
        f"({to_active / bare_boot:.1f}x the bare Debian boot, {bare_boot:.1f} s)"
    )
    return 0 if total <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
