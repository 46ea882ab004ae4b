"""What one flush moves, and what becomes of each of its files: deciding, not sending.

A ``Flight`` holds the files of one flush from the moment they leave the inbox for the staging
folder until each is on the NAS or back in the inbox. It picks the ready files (``take``), tells
a name taken on the NAS from a failed file after rsync left some (``sort_out``), gives a taken
name a distinct one (``rename``), and in the end counts what arrived and puts the rest back
(``settle``). Every method works on the disk: call them off the event loop.
"""

from __future__ import annotations

import logging
import os

from balupi.config_inbox import InboxConfig
from balupi.inbox.batch import plan
from balupi.inbox.open_files import open_file_ids
from balupi.inbox.report import FileProblem, FlushReport, Renamed
from balupi.inbox.rsync_command import RESUME_FROM_BYTES
from balupi.inbox.rsync_output import Item
from balupi.inbox.scan import InboxFile, Tree, split_ready, walk
from balupi.inbox.staging import Staging, distinct_name, remove_emptied_folders

log = logging.getLogger("balupi.inbox")

NOT_SENT = "not transferred this round"
# Distinct names tried for one file before giving up on it for this flush.
_MAX_RENAMES = 100


class Flight:
    """The files of one flush while they are in the staging folder."""

    def __init__(self, config: InboxConfig, staging: Staging) -> None:
        self._inbox = config.path
        self._settle_seconds = config.settle_seconds
        self._staging = staging
        self.files: dict[str, InboxFile] = {}  # by their path in the inbox
        self.names: dict[str, str] = {}  # their path in staging (= on the NAS)
        self._renames: dict[str, int] = {}  # distinct names tried, per file
        self._returned: set[str] = set()  # failed, back in the inbox already
        self._delivered_before: set[str] = set()  # the NAS had them already
        self.why = NOT_SENT  # for the files that stay

    @property
    def small_files_only(self) -> bool:
        """Every file is below the size from which an interrupted transfer is resumed: rsync
        may send them whole, and several rsyncs may share them."""
        return bool(self.files) and max(f.size for f in self.files.values()) < RESUME_FROM_BYTES

    def take(self, report: FlushReport) -> None:
        """Recover what an interrupted flush left, pick the ready files (settled, open by no
        process) and move them into the staging folder."""
        self._staging.give_back_all(report.problems)
        inbox = str(self._inbox)
        tree = Tree()
        files = list(walk(inbox, report.problems, tree))
        opened, complete = open_file_ids(inbox) if files else (set(), True)
        ready, waiting = split_ready(files, inbox, self._settle_seconds, (opened, complete))
        report.not_ready = [f.rel for f in waiting]
        if ready:
            self.files = self._staging.take(plan(files, ready, tree, opened), report.problems)
            self.names = {rel: rel for rel in self.files}

    def note_send(self, error: str | None) -> None:
        """Remember why the files still in staging stay, after a send that ended with ``error``."""
        self.why = NOT_SENT + (f" ({error.split(':')[0]})" if error else "")

    def sort_out(self, left: set[str], items: dict[str, Item], report: FlushReport) -> list[str]:
        """Of the files rsync left in staging (``left``, compared with the NAS in ``items``):
        the ones whose name is taken on the NAS by another file. The same file already there
        is removed here; a failed one goes back to the inbox."""
        taken = []
        for rel, name in self.names.items():
            if name not in left:
                continue
            item = items.get(name)
            if item is None or item.is_new:  # not a taken name: it failed
                self._staging.give_back(name, report.problems)
                self._returned.add(rel)
                report.problems.append(FileProblem(rel, self.why))
            elif item.same_content:  # an earlier flush was cut off after rsync wrote it
                try:
                    os.unlink(self._staging.files / name)
                except OSError as err:
                    report.problems.append(FileProblem(rel, f"cannot remove: {err.strerror}"))
                    continue
                self._delivered_before.add(rel)
                report.already_on_nas.append(rel)
            else:
                taken.append(rel)
        return taken

    def rename(self, rel: str, tag: str) -> bool:
        """Give the file ``rel`` a distinct name in staging (``tag``: the flush's time);
        False when every name tried is taken."""
        while self._renames.get(rel, 0) < _MAX_RENAMES:
            attempt = self._renames[rel] = self._renames.get(rel, 0) + 1
            new_name = distinct_name(rel, tag, attempt)
            if self._staging.rename(self.names[rel], new_name):
                log.info("%r exists on the NAS: sending it as %r", self.names[rel], new_name)
                self.names[rel] = new_name
                return True
        return False

    def settle(self, report: FlushReport) -> None:
        """Count what reached the NAS; put the rest back into the inbox."""
        left = self._staging.files_left()
        moved = []
        for rel, f in self.files.items():
            if rel in self._returned or rel in self._delivered_before:
                continue
            name = self.names[rel]
            if name in left:
                report.problems.append(FileProblem(rel, self.why))
                continue
            moved.append(rel)
            report.moved_files += 1
            report.moved_bytes += f.size
            if name != rel:
                report.renamed.append(Renamed(rel, name))
        self._staging.give_back_all(report.problems)
        remove_emptied_folders(self._inbox, moved + sorted(self._delivered_before))
