"""A booted Debian bookworm with systemd as PID 1, in a container (systemd-nspawn).

The root comes from ``scripts/build-test-root`` (cached under /var/cache); each container runs on
an overlay of it, so what one test installs never reaches the cache or another test. The
container has a private network (loopback only); commands run in it through ``nsenter``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
ROOT = Path(os.environ.get("BALUPI_TEST_ROOT", "/var/cache/balupi-test-root"))


def unavailable() -> str | None:
    """Why a booted container cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (systemd-nspawn, overlay mounts)"
    for tool in ("systemd-nspawn", "debootstrap", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt: systemd-container debootstrap util-linux)"
    return None


def ensure_root() -> Path:
    subprocess.run([str(REPO / "scripts" / "build-test-root")], check=True)
    return ROOT


class Container:
    """One booted container on an overlay of the cached root."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._work = Path(tempfile.mkdtemp(prefix=f"balupi-{name}-"))
        self.merged = self._work / "merged"
        self._proc: subprocess.Popen[bytes] | None = None
        self.leader: int | None = None
        self.log_path = self._work / "console.log"
        self.booted_seconds: float | None = None

    def start(self, timeout: float = 120) -> Container:
        for d in ("upper", "work", "merged"):
            (self._work / d).mkdir(exist_ok=True)  # a reboot keeps what the last boot wrote
        subprocess.run(
            [
                "mount",
                "-t",
                "overlay",
                "overlay",
                "-o",
                f"lowerdir={ROOT},upperdir={self._work / 'upper'},workdir={self._work / 'work'}",
                str(self.merged),
            ],
            check=True,
        )
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "-q",
                    "-D",
                    str(self.merged),
                    "-M",
                    self.name,
                    "-b",
                    "--register=no",
                    "--keep-unit",
                    "--private-network",
                    "--console=pipe",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._find_leader, timeout=30, what=f"container {self.name}'s PID 1")
        wait_for(self._booted, timeout=timeout, what=f"container {self.name} to finish booting")
        self.booted_seconds = time.monotonic() - started
        return self

    def _find_leader(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited: {self.log_path.read_text()[-2000:]}")
        # nspawn's child is the container's PID 1 (systemd).
        children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children")
        for pid in children.read_text().split():
            if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                self.leader = int(pid)
                return True
        return False

    def _booted(self) -> bool:
        state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
        return state in ("running", "degraded")

    def run(
        self, *argv: str, check: bool = True, input: str | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the container (all its namespaces, its root)."""
        assert self.leader is not None
        result = subprocess.run(
            [
                "nsenter",
                "-t",
                str(self.leader),
                "-a",
                "--",
                "/usr/bin/env",
                "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                *argv,
            ],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def sh(self, script: str, check: bool = True, timeout: float = 300) -> str:
        return self.run("sh", "-ec", script, check=check, timeout=timeout).stdout

    def copy_in(self, src: Path, dest: str) -> None:
        target = self.merged / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(
                src,
                target,
                symlinks=False,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy2(src, target)

    def unit_state(self, unit: str) -> str:
        return self.run("systemctl", "is-active", unit, check=False).stdout.strip()

    def reboot(self, timeout: float = 120) -> Container:
        """Power off and boot again on the same overlay (what was installed stays)."""
        self.stop(remove=False)
        return self.start(timeout)

    def stop(self, *, remove: bool = True) -> None:
        if self._proc is not None and self._proc.poll() is None:
            if self.leader is not None:
                # SIGRTMIN+4 asks systemd for a clean poweroff.
                subprocess.run(["kill", "-s", "SIGRTMIN+4", str(self.leader)], check=False)
            try:
                self._proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        subprocess.run(["umount", str(self.merged)], check=False)
        self._proc = None
        if remove:
            shutil.rmtree(self._work, ignore_errors=True)
