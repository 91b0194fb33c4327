"""Scratch folders: importmut's temporary folders, and the removal of those a killed run left behind.

A run removes its sandboxes and other temporary folders when it ends, on Ctrl-C too; SIGKILL (a CI job's
timeout) gives it no chance, and each such night would leave a copy of the project in the temporary folder.
So every folder is made with an owner file naming the host and the process, and `importmut run` first
removes the folders whose owner process is gone. A folder without an owner file, or whose owner runs, on
another host, or as someone else, is left alone.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

PREFIX = "importmut-"
OWNER_FILE = ".importmut-owner"  # a dot: no project root (the sandbox copy beside it) is named so


def make(kind: str) -> Path:
    """A new temporary folder for this process (`kind`: sandbox, plugin, coverage, run)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-"))
    (folder / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8")
    return folder


def _owner_gone(folder: Path) -> bool:
    try:
        host, pid = (folder / OWNER_FILE).read_text(encoding="utf-8").split()
        number = int(pid)
    except (OSError, ValueError):
        return False  # not made by this module, or being made now
    if host != socket.gethostname() or number == os.getpid():
        return False
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process
        return False
    return False


def remove_abandoned() -> int:
    """Remove the scratch folders whose owner process no longer runs on this host; how many were removed."""
    removed = 0
    try:
        entries = list(Path(tempfile.gettempdir()).iterdir())
    except OSError:
        return 0
    for folder in entries:
        if folder.name.startswith(PREFIX) and folder.is_dir() and not folder.is_symlink() and _owner_gone(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
    return removed
