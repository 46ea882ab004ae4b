"""[handshake], [nas] and [dns]: defaults, every problem with its key, and a missing secret
that stops balupi-handshake at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from balupi.config import ConfigError, load_config

BIN = Path(sys.executable).parent
MINIMAL = """
[handshake]
secret_env = "BALUPI_TEST_HANDSHAKE_SECRET"
[nas]
url = "http://192.168.1.10"
ip = "192.168.1.10"
mac = "aa:bb:cc:dd:ee:ff"
[dns]
pi_ip = "192.168.1.20"
[pihole]
url = "http://127.0.0.1:8080"
password_env = "BALUPI_TEST_HANDSHAKE_SECRET"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balupi.toml"
    path.write_text(text)
    return path


def test_minimal_config_gets_the_documented_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("BALUPI_TEST_HANDSHAKE_SECRET", "0123456789abcdef0123")
    config = load_config(write(tmp_path, MINIMAL))
    h, n, d = config.handshake, config.nas, config.dns
    assert h is not None and n is not None and d is not None and h.secret is not None
    assert (h.listen_host, h.listen_port) == ("127.0.0.1", 8000)
    assert h.secret.reveal() == "0123456789abcdef0123"
    assert "0123456789abcdef0123" not in repr(config)
    assert h.snapshot_max_bytes == 1024 * 1024 and h.signature_window_seconds == 60
    assert (n.heartbeat_interval_seconds, n.misses_before_takeover) == (30, 3)
    assert n.wake_timeout_seconds == 90 and n.wol_port == 9
    assert (d.backend, d.hostname) == ("pihole", "baluhost.local")


def test_the_exporter_alone_needs_no_handshake_sections(tmp_path):
    assert load_config(write(tmp_path, "")).handshake is None


def test_every_problem_is_listed_with_its_key(tmp_path, monkeypatch):
    monkeypatch.delenv("BALUPI_TEST_HANDSHAKE_SECRET", raising=False)
    text = """
    [handshake]
    secret = "inline"
    snapshot_dir = "relative/dir"
    [nas]
    url = "ftp://nas"
    ip = "not-an-ip"
    mac = "aa:bb"
    heartbeat_interval_seconds = 0
    [dns]
    pi_ip = "192.168.1.20"
    backend = "bind"
    hostname = "bad host"
    [dns.hostsfile]
    reload_command = ["pihole", "restartdns", "reload"]
    pid_file = "/run/dnsmasq.pid"
    colour = 1
    """
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    problems = "\n".join(caught.value.problems)
    for key in (
        "handshake.secret: secrets are not written into the config",
        "handshake.snapshot_dir: must be an absolute path",
        "nas.url: must be http(s)://host[:port]",
        "nas.ip: must be an IP address",
        "nas.mac: must look like aa:bb:cc:dd:ee:ff",
        "nas.heartbeat_interval_seconds: must be between",
        "dns.backend: must be one of hostsfile, pihole",
        "dns.hostname: not a host name",
        "dns.hostsfile.pid_file: set only one of reload_command and pid_file",
        "dns.hostsfile.colour: unknown key",
    ):
        assert key in problems, problems


def test_hostsfile_backend_needs_a_reload(tmp_path, monkeypatch):
    monkeypatch.setenv("BALUPI_TEST_HANDSHAKE_SECRET", "0123456789abcdef0123")
    text = MINIMAL.replace(
        'pi_ip = "192.168.1.20"', 'pi_ip = "192.168.1.20"\nbackend = "hostsfile"'
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert any("dns.hostsfile.reload_command: required" in p for p in caught.value.problems)


def test_missing_secret_stops_the_service_at_start_up(tmp_path):
    path = write(tmp_path, MINIMAL.replace('secret_env = "BALUPI_TEST_HANDSHAKE_SECRET"\n', ""))
    run = subprocess.run(
        [str(BIN / "balupi-handshake"), "--config", str(path)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "handshake.secret: required: set secret_file or secret_env" in run.stderr


def test_a_config_without_handshake_is_refused_with_a_clear_word(tmp_path):
    run = subprocess.run(
        [str(BIN / "balupi-handshake"), "--config", str(write(tmp_path, ""))],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and "no [handshake] section" in run.stderr
