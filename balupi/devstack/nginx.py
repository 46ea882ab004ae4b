"""Debian's nginx, run on a loopback port with the repository's site (nginx/balupi.conf).

The site file is the Pi's, unchanged except for the values in ``PI_VALUES``: each is replaced by
this machine's port or folder, so the demo and the tests serve what the Pi serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from balupi.devstack.process import ManagedProcess

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "nginx" / "balupi.conf"
FRONTEND_DIST = REPO / "frontend-dist"
MIME_TYPES = Path("/etc/nginx/mime.types")
# The Pi's per-worker figure (Debian's nginx.conf; the Pi 3B+ runs one worker per core).
WORKER_CONNECTIONS = 768


@dataclass(frozen=True)
class SiteValues:
    """Where this copy of the site listens, proxies to and serves from."""

    port: int
    handshake_port: int
    prometheus_port: int
    frontend_dist: Path
    snapshot_dir: Path


def nginx_binary() -> str:
    # nginx lives in /usr/sbin, which a user's PATH may lack.
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not found:
        raise FileNotFoundError(
            "nginx is not installed: run `make system-deps` (Debian package nginx)"
        )
    return found


def render_site(values: SiteValues, site: Path = SITE) -> str:
    """The site with the Pi's values replaced; fails when one of them is no longer in the file."""
    replacements = {
        "    listen 80 default_server;\n": f"    listen 127.0.0.1:{values.port} default_server;\n",
        "    listen [::]:80 default_server;\n": "",  # loopback only
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{values.handshake_port};",
        "server 127.0.0.1:9090;": f"server 127.0.0.1:{values.prometheus_port};",
        "root /usr/share/balupi/frontend-dist;": f"root {values.frontend_dist};",
        "alias /data/snapshot/": f"alias {values.snapshot_dir}/",
    }
    text = site.read_text()
    for pi_value, local in replacements.items():
        if pi_value not in text:
            raise ValueError(f"{site} no longer contains {pi_value.strip()!r}: update render_site")
        text = text.replace(pi_value, local)
    return text


def main_config(work: Path) -> str:
    """nginx.conf for a copy run from ``work``: Debian's main settings, every file in ``work``."""
    # Running as root, nginx's workers would become www-data, who cannot read a test's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {work / 'tmp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
daemon off;

events {{
    worker_connections {WORKER_CONNECTIONS};
}}

http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    access_log {work / "access.log"};
{temp}
    include {work / "balupi.conf"};
}}
"""


class Nginx(ManagedProcess):
    def __init__(self, workdir: Path, values: SiteValues):
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(exist_ok=True)
        (workdir / "balupi.conf").write_text(render_site(values))
        self.config = workdir / "nginx.conf"
        self.config.write_text(main_config(workdir))
        self.values = values
        self.url = f"http://127.0.0.1:{values.port}"
        self._argv = [nginx_binary(), "-p", str(workdir), "-c", str(self.config),
                      "-e", str(workdir / "error.log")]  # fmt: skip
        super().__init__("nginx", self._argv, log_path=workdir / "nginx.log")

    def test_config(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on this copy's config: its exit code and what it printed."""
        return subprocess.run([*self._argv, "-t"], capture_output=True, text=True, check=False)

    def wait_ready(self, timeout: float = 30) -> None:
        # Its own 404 for the snapshot folder: up, whether or not the dashboard is built.
        url = f"{self.url}/snapshot/"
        self.wait_until(lambda: _status(url) == 404, timeout=timeout, what=f"answer at {url}")


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback URLs
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, OSError):
        return None
