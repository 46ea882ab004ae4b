"""nginx/balupi.conf served by Debian's nginx in front of real Prometheus and balupi-handshake:
the configuration is valid, the Prometheus behind it is read-only, the snapshot folder shows
only its two files, every answer carries the security headers, a stopped Prometheus answers in
its own JSON error format, and idle or slow clients cannot starve the API."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
import urllib.parse
from contextlib import ExitStack

import pytest

from balupi.devstack.dashboard_stack import SECRET, DashboardStack
from balupi.devstack.nginx import FRONTEND_DIST, SITE, main_config, nginx_binary
from tests.handshake_helpers import baluhost_request
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def request(
    stack: DashboardStack,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with ``path`` sent exactly as written (no client-side normalising)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.ports["nginx"], timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        conn.close()


def query_path(endpoint: str = "query", **params: str) -> str:
    return f"/prometheus/api/v1/{endpoint}?" + urllib.parse.urlencode(params or {"query": "up"})


def test_the_pi_site_and_the_rendered_copy_pass_nginx_t(dashboard_stack, tmp_path):
    rendered = dashboard_stack.nginx.test_config()
    assert rendered.returncode == 0, rendered.stderr
    # The file as the Pi installs it, unchanged, inside a main config like Debian's.
    (tmp_path / "tmp").mkdir()
    main = main_config(tmp_path).replace(str(tmp_path / "balupi.conf"), str(SITE))
    (tmp_path / "nginx.conf").write_text(main)
    as_installed = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert as_installed.returncode == 0, as_installed.stderr


def test_instant_and_range_queries_answer(dashboard_stack):
    status, headers, body = request(dashboard_stack, "GET", query_path(query="tapo_power_watts"))
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success" and answer["data"]["result"], answer
    assert headers["Cache-Control"] == "no-store"
    now = time.time()
    params = {"query": "up", "start": str(now - 60), "end": str(now), "step": "15"}
    status, _, body = request(dashboard_stack, "GET", query_path("query_range", **params))
    assert status == 200 and json.loads(body)["data"]["resultType"] == "matrix", body
    status, headers, body = request(dashboard_stack, "HEAD", query_path())
    assert status == 200 and body == b"" and headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_a_query_by_any_other_method_is_refused(dashboard_stack, method):
    body = b"query=up"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, answer = request(dashboard_stack, method, query_path(), body, form)
    assert status == 405, answer
    assert headers["Allow"] == "GET, HEAD"


REFUSED = [
    ("POST", "/prometheus/api/v1/admin/tsdb/delete_series?match[]=up"),
    ("PUT", "/prometheus/api/v1/admin/tsdb/snapshot"),
    ("GET", "/prometheus/api/v1/admin/tsdb/clean_tombstones"),
    ("GET", "/prometheus/api/v1/status/config"),
    ("GET", "/prometheus/api/v1/status/flags"),
    ("GET", "/prometheus/api/v1/targets"),
    ("GET", "/prometheus/api/v1/series?match[]=up"),
    ("GET", "/prometheus/federate?match[]=up"),
    ("POST", "/prometheus/-/quit"),
    ("POST", "/prometheus/-/reload"),
    ("GET", "/prometheus/graph"),
    ("GET", "/prometheus/"),
    ("GET", "/prometheus/api/v1/query/"),
    ("GET", "/prometheus/api/v1/querything?query=up"),
    # Path tricks that nginx would otherwise normalise to an allowed or another path.
    ("GET", "/prometheus/api/v1/query/../status/config"),
    ("GET", "/prometheus/api/v1/query/..%2Fstatus%2Fconfig"),
    ("GET", "/prometheus/api/v1/%2e%2e/v1/status/config"),
    ("GET", "/prometheus/api/v1/%2E%2E/v1/status/config"),
    ("GET", "/prometheus/api/v1/./query?query=up"),
    ("GET", "/prometheus//api/v1/query?query=up"),
    ("GET", "//prometheus/api/v1/query?query=up"),
    ("GET", "/prometheus/api/v1/query%2F?query=up"),
    ("GET", "/prometheus/api/v1/%71uery?query=up"),  # %71 is "q": the raw path must match
    ("GET", "/prometheus/api/v1/query%5C..%5Cstatus%5Cconfig"),
    ("GET", "/api/../prometheus/api/v1/status/config"),
    ("GET", "/assets/../../etc/passwd"),
    ("GET", "/metrics"),  # the handshake's own metrics are Prometheus's, not the LAN's
]


@pytest.mark.parametrize(("method", "path"), REFUSED)
def test_everything_else_of_prometheus_is_refused(dashboard_stack, method, path):
    status, _, body = request(dashboard_stack, method, path)
    # 400: nginx's own answer to a path that climbs above the root.
    assert status in (400, 404, 405), (status, body[:200])
    for leak in (b"scrape_configs", b"resultType", b"root:", b"storage.tsdb", b"balupi_"):
        assert leak not in body


def test_the_snapshot_folder_serves_only_its_two_files(dashboard_stack):
    folder = dashboard_stack.snapshot_dir
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "snapshot.previous.json": b'{"version": 1, "generated_at": "earlier"}',
        ".snapshot.json.tmp": b'{"half": "written"}',
        "notes.txt": b"not for the LAN",
    }
    with ExitStack() as cleanup:
        for name, data in written.items():
            if (folder / name).exists():
                continue  # the handshake's own file: leave it
            (folder / name).write_bytes(data)
            cleanup.callback((folder / name).unlink)
        status, headers, body = request(dashboard_stack, "GET", "/snapshot/snapshot.previous.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert body == (folder / "snapshot.previous.json").read_bytes()
        for path in ("/snapshot/", "/snapshot/notes.txt", "/snapshot/.snapshot.json.tmp",
                     "/snapshot/snapshot.json.tmp", "/snapshot//notes.txt",
                     "/snapshot/snapshot.json/../notes.txt", "/snapshot/%6eotes.txt"):  # fmt: skip
            status, _, body = request(dashboard_stack, "GET", path)
            assert status == 404, (path, body)
            assert b"not for the LAN" not in body and b"half" not in body
        if not (folder / "snapshot.json").exists():
            status, headers, body = request(dashboard_stack, "GET", "/snapshot/snapshot.json")
            assert status == 404 and headers["Content-Type"] == "application/json"
            assert "no snapshot yet" in json.loads(body)["error"]


def test_a_signed_snapshot_of_nearly_the_limit_passes_through_nginx(dashboard_stack):
    """The NAS's calls come through port 80: headers and a large body reach the service."""
    disks = [{"name": f"disk{i}", "serial": "x" * 40, "notes": "y" * 800} for i in range(1000)]
    snapshot = {"version": 1, "generated_at": "2026-12-01T20:00:00Z", "storage": {"disks": disks}}
    headers, wire = baluhost_request("/api/handshake/snapshot", snapshot, secret=SECRET)
    assert 800_000 < len(wire) < 1024 * 1024
    status, _, body = request(dashboard_stack, "POST", "/api/handshake/snapshot", wire, headers)
    assert status == 200, body
    assert json.loads(body)["bytes"] == len(wire)
    status, _, served = request(dashboard_stack, "GET", "/snapshot/snapshot.json")
    assert status == 200 and json.loads(served)["storage"]["disks"][999]["name"] == "disk999"
    # A body over the limit is refused by nginx before it reaches the service.
    status, _, _ = request(dashboard_stack, "POST", "/api/handshake/snapshot", b"x" * 1_100_000,
                           {"Content-Type": "application/json"})  # fmt: skip
    assert status == 413


def _has_security_headers(headers: http.client.HTTPMessage) -> None:
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "nginx/" not in headers.get("Server", "")  # no version for the LAN


def test_every_answer_carries_the_security_headers(dashboard_stack):
    for method, path in [("GET", "/"), ("GET", "/api/health"), ("GET", query_path()),
                         ("GET", "/snapshot/notes.txt"), ("POST", query_path()),
                         ("GET", "/prometheus/api/v1/status/config")]:  # fmt: skip
        _status, headers, _ = request(dashboard_stack, method, path)
        _has_security_headers(headers)


def test_the_app_is_cached_by_name_and_index_html_never(dashboard_stack):
    if not (FRONTEND_DIST / "index.html").exists():
        pytest.fail("frontend-dist/ is not built: run make frontend")
    status, headers, _ = request(dashboard_stack, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-cache"
    assets = sorted(p.name for p in (FRONTEND_DIST / "assets").iterdir() if p.suffix == ".js")
    assert assets, "no JavaScript in frontend-dist/assets"
    path = f"/assets/{assets[0]}"
    status, headers, plain = request(dashboard_stack, "GET", path)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, headers, packed = request(
        dashboard_stack, "GET", path, headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip" and len(packed) < len(plain)
    assert "Accept-Encoding" in headers["Vary"]
    status, _, _ = request(dashboard_stack, "GET", "/assets/not-there.js")
    assert status == 404


def test_a_stopped_prometheus_answers_prometheus_s_json_error(dashboard_stack):
    dashboard_stack.stop("prometheus")
    try:
        for method in ("GET", "HEAD"):
            status, headers, body = request(dashboard_stack, method, query_path())
            assert status == 503
            assert headers["Content-Type"] == "application/json"
            _has_security_headers(headers)
        status, _, body = request(dashboard_stack, "GET", query_path("query_range"))
        answer = json.loads(body)
        assert answer["status"] == "error" and answer["errorType"] == "unavailable"
        assert "Prometheus" in answer["error"]
        # The rest of the Pi keeps answering.
        assert request(dashboard_stack, "GET", "/api/health")[0] == 200
    finally:
        dashboard_stack.start("prometheus")
    wait_for(
        lambda: request(dashboard_stack, "GET", query_path())[0] == 200,
        timeout=30,
        what="queries back",
    )


def test_prometheus_s_own_503_passes_unchanged(dashboard_stack):
    # A query given a microsecond runs out of time in Prometheus's queue: its own 503, which
    # the dashboard reads as "busy" (nginx must not turn it into a "starting" or "down" page).
    status, headers, body = request(
        dashboard_stack, "GET", query_path(query="up", timeout="0.000001")
    )
    assert status == 503 and headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["status"] == "error" and answer["errorType"] == "timeout", answer
    # "... in query queue", "... in query execution" or "... in expression evaluation", as far
    # as it got (on a busy machine any of them): Prometheus's words, not nginx's.
    assert answer["error"].startswith("query timed out in "), answer


def test_a_stopped_handshake_service_answers_a_json_error(dashboard_stack):
    dashboard_stack.stop("handshake")
    try:
        status, headers, body = request(dashboard_stack, "GET", "/api/status")
        assert status == 502 and headers["Content-Type"] == "application/json"
        assert "handshake service" in json.loads(body)["error"]
    finally:
        dashboard_stack.start("handshake")


def test_idle_and_slow_clients_do_not_stop_the_api_answering(dashboard_stack):
    """300 sockets held open (two thirds silent, a third stuck in their headers), then a
    person's request: it is answered while they are all still open."""
    port = dashboard_stack.ports["nginx"]
    with ExitStack() as held:
        for i in range(300):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            held.callback(sock.close)
            if i % 3 == 0:
                sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: balupi\r\nX-Slow: ")
        status, _, body = request(dashboard_stack, "GET", "/api/health")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, _, _ = request(dashboard_stack, "GET", query_path())
        assert status == 200
