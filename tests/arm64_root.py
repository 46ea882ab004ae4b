"""An arm64 Debian bookworm root with the .deb unpacked in it, where the package's entry points
run under qemu-user emulation (tests/test_deb_arm64.py).

The root comes from ``scripts/build-arm64-root`` (cached under /var/cache); each use mounts an
overlay of it, so the package unpacked there never reaches the cache. Programs run in it with
``chroot``: they share the host's network, so the host's simulators are on their loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[1]
ROOT = Path(os.environ.get("BALUPI_ARM64_ROOT", "/var/cache/balupi-arm64-root"))
CANNOT = 77  # scripts/register-qemu-arm64's word for "this machine cannot run arm64 programs"
EM_AARCH64 = 183  # an ELF header's e_machine for arm64


def unavailable() -> str | None:
    """Why the arm64 root cannot be used here (before anything is built), or None."""
    if os.geteuid() != 0:
        return "needs root (binfmt_misc, chroot, overlay mounts)"
    for tool in ("debootstrap", "qemu-aarch64-static", "chroot"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt: debootstrap qemu-user-static coreutils)"
    return None


def prepare() -> str | None:
    """Registers the emulator and builds the root where needed; why this cannot be, or None."""
    registered = subprocess.run(
        [str(REPO / "scripts" / "register-qemu-arm64")], stderr=subprocess.PIPE, text=True
    )
    if registered.returncode == CANNOT:
        return registered.stderr.strip()
    if registered.returncode != 0:
        raise AssertionError(f"register-qemu-arm64 failed:\n{registered.stderr}")
    subprocess.run([str(REPO / "scripts" / "build-arm64-root")], check=True)
    return None


def elf_machine(path: Path) -> int:
    """The architecture an ELF file's code is for (its header's e_machine)."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


class Arm64Root:
    """An overlay of the cached root with a .deb's files unpacked (no dpkg, no maintainer
    scripts: they need systemd, which tests/test_deb_booted.py covers)."""

    def __init__(self, deb: Path) -> None:
        self._work = Path(tempfile.mkdtemp(prefix="balupi-arm64-"))
        self.merged = self._work / "merged"
        for d in ("upper", "work", "merged"):
            (self._work / d).mkdir()
        upper, work = self._work / "upper", self._work / "work"
        subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={ROOT},upperdir={upper},workdir={work}", str(self.merged)],
            check=True,
        )  # fmt: skip
        try:
            self._unpack(deb)
        except BaseException:
            self.close()
            raise

    def _unpack(self, deb: Path) -> None:
        # tar keeps /bin, /lib and /sbin the links into /usr they are (dpkg-deb -x would not).
        files = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True,
                               check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "--keep-directory-symlink", "-C", str(self.merged)],
                       input=files, check=True)  # fmt: skip

    def path(self, inside: str) -> Path:
        return self.merged / inside.lstrip("/")

    def write(self, inside: str, text: str) -> None:
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def argv(self, *argv: str, env: dict[str, str] | None = None) -> list[str]:
        """A command line that runs ``argv`` in the root, with only ``env`` in its environment."""
        pairs = [f"{k}={v}" for k, v in (env or {}).items()]
        return ["chroot", str(self.merged), "/usr/bin/env", "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", *pairs, *argv]  # fmt: skip

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*argv), capture_output=True, text=True, timeout=timeout, check=False
        )

    def close(self) -> None:
        subprocess.run(["umount", str(self.merged)], check=False)
        shutil.rmtree(self._work, ignore_errors=True)

    def __enter__(self) -> Arm64Root:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
