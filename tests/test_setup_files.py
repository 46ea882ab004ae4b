"""What `balupi setup` writes: its TOML reads back as the same data and as a valid config, the
drop-ins load exactly the credentials that exist, files are replaced atomically with a mode."""

from __future__ import annotations

import tomllib
from pathlib import Path

from balupi.config import load_config
from balupi.setup_cli import _Asker
from balupi.setup_files import drop_ins, toml_text, write_file

DATA = {
    "tapo": {
        "username": "a@example.com",
        "password_file": "tapo-password",
        "price_per_kwh": 0.3,
        "plugs": [{"name": "nas", "host": "192.168.1.50"}, {"name": "tv", "host": "h", "port": 81}],
    },
    "handshake": {"secret_file": "handshake-secret"},
    "nas": {"url": "http://192.168.1.10", "ip": "192.168.1.10", "mac": "aa:bb:cc:dd:ee:ff"},
    "dns": {
        "pi_ip": "192.168.1.20",
        "backend": "hostsfile",
        "hostsfile": {"path": '/var/lib/balupi/x "quoted".hosts', "reload_command": ["a", "b"]},
    },
}


def test_toml_reads_back_as_the_same_data_and_a_valid_config(tmp_path):
    text = toml_text(DATA)
    assert tomllib.loads(text) == DATA
    (tmp_path / "tapo-password").write_text("pw\n")
    (tmp_path / "handshake-secret").write_text("s" * 64 + "\n")
    (tmp_path / "balupi.toml").write_text(text)
    config = load_config(tmp_path / "balupi.toml")
    assert [p.name for p in config.tapo.plugs] == ["nas", "tv"]
    assert config.nas is not None and config.nas.mac == "aa:bb:cc:dd:ee:ff"


def test_drop_ins_load_only_the_credentials_that_exist():
    texts = drop_ins(Path("/etc/balupi"), ["pihole-password", "nas-ssh-key"])
    exporter = texts["balupi-exporter.service"]
    handshake = texts["balupi-handshake.service"]
    assert "LoadCredential=pihole-password:/etc/balupi/pihole-password" in exporter
    assert "tapo-password" not in exporter and "nas-ssh-key" not in exporter
    assert "LoadCredential=nas-ssh-key:/etc/balupi/nas-ssh-key" in handshake
    assert "[Service]" in exporter and "[Service]" in handshake


def test_write_file_reports_a_change_and_sets_the_mode(tmp_path):
    target = tmp_path / "secret"
    assert write_file(target, "one\n", mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600
    assert not write_file(target, "one\n", mode=0o600)  # same content and mode: no change
    assert write_file(target, "two\n", mode=0o600)
    assert target.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary file left


def test_non_interactive_answers_are_flag_then_current_then_default():
    ask = _Asker(interactive=False)
    assert ask("q", "flag", "current", "default") == "flag"
    assert ask("q", None, "current", "default") == "current"
    assert ask("q", None, None, "default") == "default"
