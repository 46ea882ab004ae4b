"""The [inbox] table: defaults, and every problem listed with its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from balupi.config import ConfigError, load_config


def keys(tmp_path: Path, mode: int = 0o600) -> tuple[Path, Path]:
    key = tmp_path / "nas_key"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    key.chmod(mode)
    known = tmp_path / "known_hosts"
    known.write_text("nas.local ssh-ed25519 AAAA\n")
    return key, known


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balupi.toml"
    path.write_text(text)
    return path


def test_no_inbox_table_means_no_inbox(tmp_path):
    assert load_config(write(tmp_path, "")).inbox is None


def test_inbox_defaults(tmp_path):
    key, known = keys(tmp_path)
    config = load_config(
        write(
            tmp_path,
            f"""
            [inbox]
            nas_host = "192.168.1.10"
            nas_user = "balupi"
            nas_path = "/srv/inbox from pi"
            ssh_key_file = "{key}"
            known_hosts_file = "{known}"
            """,
        )
    ).inbox
    assert config is not None
    assert config.path == Path("/smb/inbox") and config.staging_path == Path("/smb/.inbox-staging")
    assert config.nas_port == 22 and config.settle_seconds == 10.0
    assert config.io_timeout_seconds == 60 and config.bandwidth_limit_kib == 0
    assert config.interval_seconds == 60.0 and config.ssh_key_file == key


def test_key_file_from_credentials_directory(tmp_path, monkeypatch):
    key, known = keys(tmp_path)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = load_config(
        write(
            tmp_path,
            f"""
            [inbox]
            nas_host = "nas"
            nas_user = "u"
            nas_path = "/x"
            ssh_key_file = "{key.name}"
            known_hosts_file = "{known}"
            """,
        )
    ).inbox
    assert config is not None and config.ssh_key_file == key


def test_every_inbox_problem_is_listed(tmp_path):
    key, _known = keys(tmp_path, mode=0o644)
    path = write(
        tmp_path,
        f"""
        [inbox]
        path = "smb/inbox"
        staging_path = "/smb/inbox/.staging"
        nas_host = "-oProxyCommand=evil"
        nas_user = "root; rm"
        nas_path = "relative/folder"
        nas_port = 0
        ssh_key_file = "{key}"
        known_hosts_file = "{tmp_path / "missing"}"
        settle_seconds = -1
        io_timeout_seconds = 1.5
        bandwidth_limit_kib = "fast"
        colour = "blue"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    expected = [
        "inbox.path: must be an absolute path",
        "inbox.nas_host: not a host name or address",
        "inbox.nas_user: not a user name",
        "inbox.nas_path: must be an absolute path on the NAS",
        "inbox.nas_port: must be between 1 and 65535",
        "inbox.ssh_key_file: ",
        "inbox.known_hosts_file: ",
        "inbox.settle_seconds: must be between 0 and 3600",
        "inbox.io_timeout_seconds: must be an integer",
        "inbox.bandwidth_limit_kib: must be an integer",
        "inbox.colour: unknown key",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert any("readable by others" in p and "chmod 600" in p for p in problems)
    assert any("is not a file" in p for p in problems)


def test_missing_required_inbox_keys_and_staging_inside_inbox(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    path = write(
        tmp_path,
        """
        [inbox]
        path = "/smb/inbox"
        staging_path = "/smb/inbox/.staging"
        ssh_key_file = "relative-key"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    report = caught.value.report()
    for key in ("nas_host", "nas_user", "nas_path", "known_hosts_file"):
        assert f"inbox.{key}: required key is missing" in report
    assert "inbox.staging_path: must be outside the inbox" in report
    # Without $CREDENTIALS_DIRECTORY a relative name is looked up beside the config file.
    assert f"inbox.ssh_key_file: {tmp_path / 'relative-key'} is not a file" in report


def test_another_services_inbox_files_are_not_opened(tmp_path):
    """balupi-exporter reads the same file but never the NAS key: only its form is checked."""
    path = write(
        tmp_path,
        """
        [inbox]
        nas_host = "nas"
        nas_user = "u"
        nas_path = "/x"
        ssh_key_file = "/nonexistent/key"
        known_hosts_file = "/nonexistent/known_hosts"
        """,
    )
    config = load_config(path, secrets_for=("tapo",)).inbox
    assert config is not None and config.ssh_key_file == Path("/nonexistent/key")
    with pytest.raises(ConfigError, match="problem"):
        load_config(path, secrets_for=("inbox",))
