"""Debian's Prometheus, run on a loopback port against the repository's prometheus.yml."""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
import urllib.request
from pathlib import Path

from balupi.devstack.process import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_YML = REPO / "prometheus" / "prometheus.yml"


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if not found:
        raise FileNotFoundError(
            "prometheus is not installed: run `make system-deps` (Debian package prometheus)"
        )
    return found


RULES_DIR = REPO / "prometheus" / "rules"


def render_config(
    targets: dict[str, str],
    *,
    scrape_interval: str | None = None,
    evaluation_interval: str | None = None,
    rules_dir: Path = RULES_DIR,
) -> str:
    """The repository's prometheus.yml with its default addresses replaced, for a copy that
    runs from another folder (its rule files stay the repository's unless ``rules_dir``)."""
    text = PROMETHEUS_YML.read_text().replace("- rules/", f"- {rules_dir}/")
    for default, actual in targets.items():
        text = text.replace(default, actual)
    if scrape_interval:
        # A faster test scrape also needs a timeout no longer than its interval.
        text = text.replace("scrape_interval: 15s", f"scrape_interval: {scrape_interval}")
        text = text.replace("scrape_timeout: 10s", f"scrape_timeout: {scrape_interval}")
    if evaluation_interval:
        text = text.replace(
            "evaluation_interval: 30s", f"evaluation_interval: {evaluation_interval}"
        )
    return text


def render_rules(dest: Path, *, interval: str) -> Path:
    """Copies of the repository's rule files with every group evaluated each ``interval``, for
    tests that cannot wait the minutes the Pi's groups take; returns the folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for source in RULES_DIR.glob("*.rules.yml"):
        text = re.sub(r"^(\s+)interval: \S+$", rf"\g<1>interval: {interval}", source.read_text(),
                      flags=re.MULTILINE)  # fmt: skip
        (dest / source.name).write_text(text)
    return dest


class Prometheus(ManagedProcess):
    def __init__(self, workdir: Path, config_text: str, *, port: int, retention: str = "1d"):
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        config.write_text(config_text)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.data_dir = workdir / "data"
        super().__init__(
            "prometheus",
            [
                prometheus_binary(),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--storage.tsdb.retention.time={retention}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            log_path=workdir / "prometheus.log",
        )

    def wait_ready(self, timeout: float = 60) -> None:
        self.wait_http(f"{self.url}/-/ready", timeout=timeout)

    def api(self, path: str, **params: str) -> dict:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
            body = json.load(answer)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus answered {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]
