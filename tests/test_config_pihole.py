"""The [pihole] config section: defaults, URL checks, the password, the top-N bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from balupi.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "balupi.toml"
    path.write_text(text)
    return path


def test_no_section_means_no_pihole(tmp_path):
    assert load_config(write(tmp_path, "")).pihole is None


def test_defaults_and_password_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("BALUPI_TEST_PIHOLE", "app-pw")
    config = load_config(
        write(
            tmp_path,
            '[pihole]\nurl = "http://127.0.0.1:8080/"\npassword_env = "BALUPI_TEST_PIHOLE"\n',
        )
    ).pihole
    assert config is not None and config.password is not None
    assert config.url == "http://127.0.0.1:8080"
    assert config.hostname == "127.0.0.1"
    assert config.password.reveal() == "app-pw"
    assert config.request_timeout_seconds == 5.0 and config.top_items == 0
    assert "app-pw" not in repr(config)


def test_api_suffix_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("P", "x")
    text = '[pihole]\nurl = "https://pi.hole:443/api"\npassword_env = "P"\ntop_items = 25\n'
    config = load_config(write(tmp_path, text)).pihole
    assert config is not None
    assert config.url == "https://pi.hole:443" and config.top_items == 25


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('url = "pi.hole"', "pihole.url: must look like http://HOST:PORT"),
        ('url = "ftp://pi.hole"', "pihole.url: must look like http://HOST:PORT"),
        ('url = "http://pi.hole:99999"', "pihole.url: not a valid URL"),
        ('url = "http://u:pw@pi.hole"', "pihole.url: must not carry credentials"),
        ('url = "http://pi.hole/admin"', "pihole.url: give only scheme, host and port"),
        ("url = 8080", "pihole.url: must be a non-empty string"),
        ('password = "inline"', "pihole.password: secrets are not written into the config"),
        ("top_items = 26", "pihole.top_items: must be between 0 and 25, got 26"),
        ("top_items = 2.5", "pihole.top_items: must be an integer"),
        ("request_timeout_seconds = 0", "pihole.request_timeout_seconds: must be between"),
        ("colour = 1", "pihole.colour: unknown key"),
    ],
)
def test_problems_name_their_key(tmp_path, monkeypatch, lines, expected):
    monkeypatch.setenv("P", "x")
    base = {"url": 'url = "http://127.0.0.1"', "password": 'password_env = "P"'}
    key = lines.split("=")[0].strip()
    if key in ("url",):
        base["url"] = lines
    else:
        base[key] = lines
    text = "[pihole]\n" + "\n".join(base.values()) + "\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems
    assert "inline" not in caught.value.report()


def test_url_and_password_are_required(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "[pihole]\n"))
    problems = caught.value.problems
    assert "pihole.url: required key is missing" in problems
    assert "pihole.password: required: set password_file or password_env" in problems
