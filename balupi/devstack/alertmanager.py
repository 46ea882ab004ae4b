"""Debian's Alertmanager, run on a loopback port against the repository's alertmanager.yml."""

from __future__ import annotations

import shutil
from pathlib import Path

from balupi.devstack.process import ManagedProcess
from balupi.devstack.prometheus import REPO

ALERTMANAGER_YML = REPO / "prometheus" / "alertmanager.yml"
WEBHOOK_URL = "http://127.0.0.1:8123/balupi-alerts"  # the example receiver in alertmanager.yml


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager")
    if not found:
        raise FileNotFoundError("prometheus-alertmanager is not installed: run `make system-deps`")
    return found


def render_config(webhook_url: str) -> str:
    """The repository's alertmanager.yml with its webhook pointed at ``webhook_url``."""
    return ALERTMANAGER_YML.read_text().replace(WEBHOOK_URL, webhook_url)


class Alertmanager(ManagedProcess):
    def __init__(self, workdir: Path, config_text: str, *, port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "alertmanager.yml"
        config.write_text(config_text)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(
            "alertmanager",
            [
                alertmanager_binary(),
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # one instance: no gossip port to bind
                "--log.level=warn",
            ],
            log_path=workdir / "alertmanager.log",
        )

    def wait_ready(self, timeout: float = 60) -> None:
        self.wait_http(f"{self.url}/-/ready", timeout=timeout)
