"""The Prometheus side on the Pi: config, rules and their unit tests, Alertmanager, the drop-in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from balupi.devstack.ports import free_port
from balupi.devstack.process import ManagedProcess

REPO = Path(__file__).resolve().parents[1]
PROM = REPO / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.rules.yml"))
TEST_FILES = sorted((PROM / "tests").glob("*.test.yml"))
DROP_IN = REPO / "systemd" / "prometheus.service.d" / "balupi.conf"


def run(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False, timeout=120)


def rules_of(kind: str) -> list[dict]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [r for r in group["rules"] if kind in r]
    return found


def test_config_and_rules_are_valid():
    checked = run("promtool", "check", "config", "prometheus/prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for path in RULE_FILES:  # check config loads the rules too; name them to be sure
        assert path.name in checked.stdout, checked.stdout


def test_rule_unit_tests_pass():
    assert TEST_FILES
    result = run("promtool", "test", "rules", *[p.name for p in TEST_FILES], cwd=PROM / "tests")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def _alert_cases() -> dict[str, dict[str, int]]:
    cases: dict[str, dict[str, int]] = {}
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                kind = "fires" if case.get("exp_alerts") else "silent"
                counts = cases.setdefault(case["alertname"], {"fires": 0, "silent": 0})
                counts[kind] += 1
    return cases


def test_every_alert_is_tested_firing_and_silent():
    cases = _alert_cases()
    for rule in rules_of("alert"):
        counts = cases.get(rule["alert"], {"fires": 0, "silent": 0})
        assert counts["fires"] and counts["silent"], (rule["alert"], counts)


def test_every_alert_says_what_to_do():
    for rule in rules_of("alert"):
        annotations = rule.get("annotations", {})
        assert annotations.get("summary") and len(annotations.get("description", "")) > 40, rule


def test_every_recording_rule_has_a_value_test():
    tested = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("promql_expr_test", []):
                if case.get("exp_samples"):
                    tested.add(case["expr"])
    for rule in rules_of("record"):
        assert rule["record"] in tested, rule["record"]


def test_planned_sleep_never_alerts():
    # The suite above holds a case that runs 5 hours of announced sleep; make sure it stays.
    text = (PROM / "tests" / "balupi-alerts.test.yml").read_text()
    assert "A planned sleep" in text


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_alertmanager_config_is_valid():
    result = run("amtool", "check-config", "prometheus/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    not Path("/lib/systemd/system/prometheus.service").exists(),
    reason="Debian's prometheus.service is not installed",
)
def test_drop_in_verifies_with_debians_unit(tmp_path):
    (tmp_path / "prometheus.service.d").mkdir()
    shutil.copy("/lib/systemd/system/prometheus.service", tmp_path)
    shutil.copy(DROP_IN, tmp_path / "prometheus.service.d")
    result = subprocess.run(
        ["systemd-analyze", "verify", "prometheus.service"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"},
    )  # fmt: skip
    assert result.returncode == 0 and "balupi.conf" not in result.stderr, result.stderr


def test_drop_in_flags_start_debians_prometheus(tmp_path):
    """The drop-in's flags, with its paths moved to a temporary folder, start Prometheus."""
    text = DROP_IN.read_text().replace("\\\n", " ")
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart=/"))
    flags = exec_start.split()[1:]
    port = free_port()
    replaced = []
    for flag in flags:
        if flag.startswith("--config.file="):
            flag = f"--config.file={REPO / 'prometheus' / 'prometheus.yml'}"
        elif flag.startswith("--storage.tsdb.path="):
            flag = f"--storage.tsdb.path={tmp_path / 'data'}"
        elif flag.startswith("--web.listen-address="):
            flag = f"--web.listen-address=127.0.0.1:{port}"
        replaced.append(flag)
    assert not any(re.search("admin-api|lifecycle", f) for f in flags)
    proc = ManagedProcess("prometheus", ["prometheus", *replaced], log_path=tmp_path / "log")
    proc.start()
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/-/ready", timeout=60)
    finally:
        assert proc.stop() == 0
