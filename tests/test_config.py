"""The config file: defaults, secrets, and every problem listed at once with its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from balupi.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balupi.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid(tmp_path, monkeypatch):
    (tmp_path / "tapo-password").write_text("s3cret\n")
    (tmp_path / "handshake-secret").write_text("a-long-enough-shared-secret\n")
    (tmp_path / "pihole-password").write_text("app-password\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = load_config(REPO / "config" / "balupi.example.toml")
    assert config.exporter.listen_port == 9877
    assert config.pihole is not None and config.pihole.password is not None
    assert config.pihole.password.reveal() == "app-password"
    assert config.dns is not None and config.dns.backend == "pihole"
    (plug,) = config.tapo.plugs
    assert plug.name == "nas" and plug.transport == "klap" and plug.port is None
    assert plug.password is not None and plug.password.reveal() == "s3cret"


def test_empty_file_gives_defaults(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert config.exporter.listen_port == 9877
    assert config.exporter.deadline_seconds == 9.0
    assert config.tapo.plugs == ()


def test_every_problem_is_listed_with_its_key(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    path = write(
        tmp_path,
        """
        colour = "blue"
        [exporter]
        listen_port = 70000
        deadline_seconds = "soon"
        [tapo]
        password = "inline"
        [[tapo.plugs]]
        name = "nas"
        host = "10.0.0.2"
        password_env = "NOPE_NOT_SET"
        transport = "xor"
        [[tapo.plugs]]
        name = "nas"
        prot = 80
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    expected = [
        "colour: unknown key",
        "exporter.listen_port: must be between 1 and 65535, got 70000",
        "exporter.deadline_seconds: must be a number, got str 'soon'",
        "tapo.password: secrets are not written into the config",
        "tapo.plugs[0].username: required here or in [tapo]",
        "tapo.plugs[0].password_env: environment variable NOPE_NOT_SET is not set",
        "tapo.plugs[0].transport: must be one of klap, aes, got 'xor'",
        "tapo.plugs[1].host: required key is missing",
        "tapo.plugs[1].prot: unknown key",
        "tapo.plugs[1].name: 'nas' is used by another plug",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert "inline" not in caught.value.report()


def test_secret_from_env_and_file_never_shows(tmp_path, monkeypatch):
    monkeypatch.setenv("BALUPI_TEST_PW", "hunter2")
    (tmp_path / "pw").write_text("filepw\n")
    path = write(
        tmp_path,
        f"""
        [tapo]
        username = "me@example.com"
        password_env = "BALUPI_TEST_PW"
        [[tapo.plugs]]
        name = "a"
        host = "h"
        [[tapo.plugs]]
        name = "b"
        host = "h"
        password_file = "{tmp_path / "pw"}"
        """,
    )
    a, b = load_config(path).tapo.plugs
    assert a.password is not None and b.password is not None
    assert a.password.reveal() == "hunter2" and b.password.reveal() == "filepw"
    for shown in (repr(a), str(a), repr(b), repr(load_config(path))):
        assert "hunter2" not in shown and "filepw" not in shown


def test_secret_file_problems(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    (tmp_path / "empty").write_text("\n")
    path = write(
        tmp_path,
        f"""
        [tapo]
        username = "u"
        [[tapo.plugs]]
        name = "a"
        host = "h"
        password_file = "{tmp_path / "missing"}"
        [[tapo.plugs]]
        name = "b"
        host = "h"
        password_file = "{tmp_path / "empty"}"
        [[tapo.plugs]]
        name = "c"
        host = "h"
        password_file = "relative"
        [[tapo.plugs]]
        name = "d d"
        host = "h"
        password_env = "X"
        password_file = "/x"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    report = caught.value.report()
    assert "tapo.plugs[0].password_file: cannot read" in report
    assert "tapo.plugs[1].password_file:" in report and "is empty" in report
    # Without systemd's $CREDENTIALS_DIRECTORY a relative name is found beside the config.
    assert f"tapo.plugs[2].password_file: cannot read {tmp_path / 'relative'}" in report
    assert "tapo.plugs[3].password_file: set only one of" in report
    assert "tapo.plugs[3].name: use letters" in report


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="problem") as caught:
        load_config(write(tmp_path, "[exporter\n"))
    assert "not valid TOML" in caught.value.problems[0]
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "cannot read" in caught.value.problems[0]


def test_check_config_command(tmp_path):
    good = write(tmp_path, "[exporter]\nlisten_port = 9999\n")
    run = subprocess.run(
        [sys.executable, "-m", "balupi.cli", "check-config", str(good)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and "OK" in run.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[exporter]\nlisten_port = 0\nextra = 1\n")
    run = subprocess.run(
        [sys.executable, "-m", "balupi.cli", "check-config", str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "2 problem(s)" in run.stderr
    assert "exporter.listen_port" in run.stderr and "exporter.extra: unknown key" in run.stderr


def test_pihole_dns_backend_needs_a_pihole_section(tmp_path, monkeypatch):
    monkeypatch.setenv("BALUPI_TEST_SECRET", "a-long-enough-shared-secret-0123456789")
    path = write(
        tmp_path,
        """
        [handshake]
        secret_env = "BALUPI_TEST_SECRET"
        [nas]
        url = "http://192.168.1.10"
        ip = "192.168.1.10"
        mac = "aa:bb:cc:dd:ee:ff"
        [dns]
        pi_ip = "192.168.1.20"
        backend = "pihole"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(
        p.startswith('dns.backend: "pihole" needs a [pihole]') for p in caught.value.problems
    )


def test_a_service_reads_only_its_own_secrets(tmp_path, monkeypatch):
    """The exporter's unit has no handshake secret and the handshake's no Tapo password: each
    loads the one shared file and reads only the credentials it needs."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("BALUPI_TEST_UNSET", raising=False)
    path = write(
        tmp_path,
        """
        [tapo]
        username = "u"
        password_file = "tapo-password"
        [[tapo.plugs]]
        name = "nas"
        host = "h"
        [pihole]
        url = "http://127.0.0.1:8080"
        password_env = "BALUPI_TEST_UNSET"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)  # check-config reads them all
    assert len(caught.value.problems) == 2
    config = load_config(path, secrets_for=("handshake",))
    assert config.pihole is not None
    assert config.tapo.plugs[0].password is None and config.pihole.password is None
    with pytest.raises(ConfigError) as caught:
        load_config(path, secrets_for=("tapo",))
    assert [p.split(":")[0] for p in caught.value.problems] == ["tapo.password_file"]
