"""Assembles the running service: controller, DNS switcher, heartbeat and the HTTP app."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from balupi.config import Config
from balupi.handshake.app import make_app
from balupi.handshake.clock_sync import clock_synchronised
from balupi.handshake.controller import NasController
from balupi.handshake.dns_backend import DnsBackend
from balupi.handshake.dns_switch import DnsSwitcher
from balupi.handshake.health_probe import HealthProbe
from balupi.handshake.heartbeat import Heartbeat
from balupi.handshake.inbox_flusher import InboxFlusher
from balupi.handshake.replay_record import ReplayRecord
from balupi.handshake.signing import Verifier
from balupi.inbox import InboxMover


@dataclass
class Service:
    app: web.Application
    controller: NasController
    switcher: DnsSwitcher
    heartbeat: Heartbeat
    inbox: InboxFlusher | None = None


def build_service(
    config: Config,
    backend: DnsBackend,
    *,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    clock_synchronised: Callable[[], bool] = clock_synchronised,
) -> Service:
    """The whole service; its background tasks start and stop with the app."""
    handshake, nas, dns = config.handshake, config.nas, config.dns
    assert handshake is not None and nas is not None and dns is not None
    assert handshake.secret is not None, "the config check refuses a missing secret"
    switcher = DnsSwitcher(backend, dns.hostname)
    controller = NasController(handshake, nas, dns, switcher, clock=clock, monotonic=monotonic)
    heartbeat = Heartbeat(controller, HealthProbe(nas.url, nas.heartbeat_timeout_seconds))
    verifier = Verifier(
        handshake.secret.reveal(),
        window_seconds=handshake.signature_window_seconds,
        clock=clock,
        clock_synchronised=clock_synchronised,
        # Next to the state: what was used up stays used up across restarts and reboots.
        record=ReplayRecord(handshake.state_file.with_name("signatures.json")),
    )
    # Without [inbox] the service only counts the folder; with it, it moves the files too.
    inbox = None
    if config.inbox is not None:
        mover = InboxMover(config.inbox)
        inbox = InboxFlusher(mover, controller, config.inbox.interval_seconds)
    app = make_app(controller, verifier, inbox)

    async def start(_app: web.Application) -> None:
        controller.restore()
        await switcher.start()
        heartbeat.start()
        if inbox is not None:
            inbox.start()

    async def stop(_app: web.Application) -> None:
        if inbox is not None:
            await inbox.stop()
        await heartbeat.stop()
        controller.close()
        await switcher.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return Service(app, controller, switcher, heartbeat, inbox)
