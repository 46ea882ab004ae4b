"""The SMB inbox: files dropped on the Pi move to the NAS with rsync over SSH, none lost.

The handshake service creates one ``InboxMover(config.inbox)``, awaits ``flush()`` after the NAS
announces itself (and every ``interval_seconds`` while it is online and files wait), and adds
``InboxCollector(mover)`` to its /metrics registry.
"""

from balupi.inbox.metrics import InboxCollector
from balupi.inbox.mover import FlushBusyError, InboxMover
from balupi.inbox.report import FileProblem, FlushReport, InboxStatus, Renamed

__all__ = [
    "FileProblem",
    "FlushBusyError",
    "FlushReport",
    "InboxCollector",
    "InboxMover",
    "InboxStatus",
    "Renamed",
]
