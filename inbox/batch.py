"""What one flush takes: the ready files, and the folders that can move as a whole.

A folder moves to the staging folder in one rename when everything below it is a ready
file: that is one system call instead of one per file, which is most of what a flush of many
small files costs on the Pi's side. Any other folder stays, and its ready files move one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from balupi.inbox.open_files import FileId
from balupi.inbox.scan import InboxFile, Tree


@dataclass
class Batch:
    files: dict[str, InboxFile] = field(default_factory=dict)  # every ready file, by path
    whole: list[str] = field(default_factory=list)  # folders that move whole, none inside another
    loose: list[InboxFile] = field(default_factory=list)  # ready files outside those folders
    folders: dict[str, int] = field(default_factory=dict)  # every folder seen, with its inode


def plan(
    all_files: list[InboxFile], ready: list[InboxFile], tree: Tree, open_ids: set[FileId]
) -> Batch:
    """A folder moves whole when it holds at least one file, every file below it is ready,
    nothing else is in it (no symlink, no empty folder, nothing unreadable) and no process we
    can see has it open (a client may be about to write into it)."""
    batch = Batch(files={f.rel: f for f in ready}, folders=tree.folders)
    whole = dict.fromkeys(tree.folders, True)
    has_file = dict.fromkeys(tree.folders, False)
    whole[""] = has_file[""] = False  # the inbox itself never moves
    for folder in tree.mixed:
        whole[folder] = False
    dev = ready[0].dev if ready else 0
    for folder, ino in tree.folders.items():
        if (dev, ino) in open_ids:
            whole[folder] = False
    for f in all_files:
        parent = f.rel.rpartition("/")[0]
        has_file[parent] = True
        if f.rel not in batch.files:
            whole[parent] = False
    for folder in reversed(tree.folders):  # children before their parents
        parent = folder.rpartition("/")[0]
        if not has_file[folder]:
            whole[folder] = False
        if not whole[folder]:
            whole[parent] = False
        has_file[parent] = has_file[parent] or has_file[folder]
    batch.whole = [d for d in tree.folders if whole[d] and not whole[d.rpartition("/")[0]]]
    batch.loose = [f for f in ready if not whole[f.rel.rpartition("/")[0]]]
    return batch
