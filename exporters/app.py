"""The exporter's HTTP side: /metrics runs the selected collectors at scrape time.

Like node_exporter, one process serves several scrape jobs: ``/metrics?collect[]=tapo`` runs
only the Tapo collector, so each source has its own ``up`` in Prometheus. Without ``collect[]``
every collector runs, plus the process's own metrics (``collect[]=exporter``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from aiohttp import web
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric

from balupi import __version__
from balupi.aiohttp_compat import app_key
from balupi.config import ExporterConfig
from balupi.exporters.collector import AsyncCollector
from balupi.exporters.self_metrics import collector_results, process_registry

log = logging.getLogger("balupi.exporter")

SELF = "exporter"
COLLECTORS_KEY = app_key("collectors", dict)
_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"


class _Scrape:
    """What prometheus_client's encoders expect: an object whose collect() yields families."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def scrape_timeout(config: ExporterConfig, header: str | None) -> float:
    """How long collectors may take: below Prometheus's own timeout, never above ours."""
    limit = config.deadline_seconds
    if header:
        # A malformed header must not break the scrape; our own bound still holds.
        with contextlib.suppress(ValueError):
            limit = min(limit, float(header) - config.deadline_margin_seconds)
    return max(limit, 0.1)


def make_app(config: ExporterConfig, collectors: list[AsyncCollector]) -> web.Application:
    app = web.Application()
    app[COLLECTORS_KEY] = {c.name: c for c in collectors}
    process = process_registry()

    async def metrics(request: web.Request) -> web.Response:
        available = app[COLLECTORS_KEY]
        wanted = request.query.getall("collect[]", [])
        unknown = sorted(set(wanted) - set(available) - {SELF})
        if unknown:
            names = ", ".join([*sorted(available), SELF])
            raise web.HTTPBadRequest(
                text=f"unknown collector(s) {', '.join(unknown)}; this exporter has: {names}\n"
            )
        selected = [c for name, c in available.items() if not wanted or name in wanted]
        timeout = scrape_timeout(config, request.headers.get(_TIMEOUT_HEADER))
        results = await asyncio.gather(*(_run(c, timeout) for c in selected))
        families: list[Metric] = []
        for _name, _seconds, _ok, collected in results:
            families += collected
        families += collector_results([r[:3] for r in results])
        if not wanted or SELF in wanted:
            families += process.collect()
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(_Scrape(families)), headers={"Content-Type": content_type})

    async def index(_request: web.Request) -> web.Response:
        links = "".join(
            f'<li><a href="/metrics?collect[]={n}">{n}</a></li>'
            for n in [*app[COLLECTORS_KEY], SELF]
        )
        return web.Response(
            content_type="text/html",
            text=f"<h1>BaluPi exporter {__version__}</h1><p><a href='/metrics'>/metrics</a>"
            f" (all), or one source:</p><ul>{links}</ul>",
        )

    async def close_collectors(_app: web.Application) -> None:
        await asyncio.gather(*(c.close() for c in app[COLLECTORS_KEY].values()))

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", index)
    app.on_cleanup.append(close_collectors)
    return app


async def _run(collector: AsyncCollector, timeout: float) -> tuple[str, float, bool, list[Metric]]:
    started = time.perf_counter()
    try:
        families = await collector.collect(timeout)
        ok = True
    except Exception:
        # A bug in one collector must not take the others' metrics down with it.
        log.exception("collector %s failed", collector.name)
        families, ok = [], False
    return collector.name, time.perf_counter() - started, ok, families
