"""The read-only side of the API: status, health, metrics and an OpenAPI document that names
exactly the routes the app serves."""

from __future__ import annotations

import socket

from prometheus_client.parser import text_string_to_metric_families

from balupi import __version__
from balupi.handshake.openapi import openapi_document
from balupi.handshake.states import NasState
from tests.waiting import wait_for_async


async def test_openapi_names_every_route(make_stack):
    stack = await make_stack()
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in stack.service.app.router.routes()
        if route.method != "HEAD"
    }
    document = await (await stack.client.get("/api/openapi.json")).json()
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert served == documented
    assert document == openapi_document()


async def test_status_endpoints(make_stack):
    stack = await make_stack()
    c = stack.client
    (stack.tmp_path / "inbox" / "sub").mkdir(parents=True)
    (stack.tmp_path / "inbox" / "sub" / "a.bin").write_bytes(b"x" * 1_500_000)
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(lambda: not stack.controller.switcher.status.pending, what="dns settled")

    status = await (await c.get("/api/status")).json()
    assert status["nas_state"] == "online" and status["since"].endswith("Z")
    assert status["dns"]["target"] == "nas" and status["dns"]["pending"] is False
    assert status["wake"] == {"in_progress": False, "elapsed_seconds": None,
                              "timeout_seconds": 20.0}  # fmt: skip
    assert status["heartbeat"]["last_result"] == "ok"
    assert status["inbox"]["files"] == 1 and status["inbox"]["bytes"] == 1_500_000
    assert "not configured" in status["inbox"]["flush"]  # no [inbox]: counted, not moved
    assert status["last_snapshot"] is None

    baluhost = await (await c.get("/api/handshake/status")).json()
    assert baluhost == {
        "nas_state": "online", "since": status["since"], "last_snapshot": None,
        "inbox_size_mb": 1.5, "inbox_files": 1,
    }  # fmt: skip
    health = await (await c.get("/api/health")).json()
    assert health == {"status": "ok", "version": __version__, "hostname": socket.gethostname()}


async def test_metrics(make_stack):
    stack = await make_stack()
    await wait_for_async(lambda: stack.controller.state is NasState.ONLINE, what="online")
    await wait_for_async(lambda: not stack.controller.switcher.status.pending, what="dns settled")
    text = await (await stack.client.get("/metrics")).text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("balupi_nas_up", ())] == 1
    states = {dict(k[1])["state"]: v for k, v in samples.items() if k[0] == "balupi_nas_state"}
    assert states == {"online": 1, "shutting_down": 0, "offline": 0, "waking": 0, "unreachable": 0}
    assert families["balupi_nas_online_seconds"].type == "counter"
    assert families["balupi_nas_takeovers"].type == "counter"
    assert families["balupi_nas_wake_duration_seconds"].type == "histogram"
    assert families["balupi_nas_heartbeat_duration_seconds"].type == "histogram"
    target = {dict(k[1])["target"]: v for k, v in samples.items() if k[0] == "balupi_dns_target"}
    assert target == {"nas": 1, "pi": 0}
    assert samples[("balupi_dns_switch_pending", ())] == 0
    assert samples[("balupi_nas_state_since_timestamp_seconds", ())] > 1.7e9
    # No snapshot yet and no wake in progress: absent, not 0.
    assert "balupi_snapshot_last_timestamp_seconds" not in families
    assert "balupi_nas_wake_elapsed_seconds" not in families
