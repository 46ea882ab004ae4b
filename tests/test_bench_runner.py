"""`make bench` (python -m bench) runs every benchmark even when one calls sys.exit, and exits
non-zero when any failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(tmp_path: Path, *modules: str) -> subprocess.CompletedProcess:
    env_path = f"{tmp_path}:{ROOT}"
    return subprocess.run(
        [sys.executable, "-m", "bench", *modules],
        cwd=ROOT, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def write_benchmarks(tmp_path: Path) -> None:
    pkg = tmp_path / "fakebench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "exits_zero.py").write_text("import sys\nprint('zero ran')\nsys.exit(0)\n")
    (pkg / "exits_three.py").write_text("import sys\nprint('three ran')\nsys.exit(3)\n")
    (pkg / "raises.py").write_text("raise RuntimeError('boom')\n")
    (pkg / "last.py").write_text(f"open({str(tmp_path / 'last-ran')!r}, 'w').write('yes')\n")


def test_every_benchmark_runs_and_a_failure_fails_the_run(tmp_path):
    write_benchmarks(tmp_path)
    names = ["fakebench.exits_zero", "fakebench.exits_three", "fakebench.raises", "fakebench.last"]
    run = run_bench(tmp_path, *names)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "zero ran" in run.stdout and "three ran" in run.stdout
    assert (tmp_path / "last-ran").read_text() == "yes"  # ran after sys.exit(3) and a raise
    assert "2 of 4 benchmarks failed: fakebench.exits_three, fakebench.raises" in run.stdout


def test_all_good_exits_zero(tmp_path):
    write_benchmarks(tmp_path)
    run = run_bench(tmp_path, "fakebench.exits_zero", "fakebench.last")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all 2 benchmarks ran" in run.stdout
