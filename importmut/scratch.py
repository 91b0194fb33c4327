"""Scratch folders: importmut's temporary folders, and the removal of those a killed run left behind.

A run removes its sandboxes and other temporary folders when it ends, on Ctrl-C too; SIGKILL (a CI job's
timeout) gives it no chance, and each such night would leave a copy of the project in the temporary folder.
So each folder's name says which host and process made it (`importmut-sandbox-<host>-<pid>-...`, given as
the folder is made, so a kill cannot come between), and `importmut run` first removes the folders whose
process is gone. A folder named otherwise, or whose process runs, on another host, or as someone else, is
left alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

PREFIX = "importmut-"
OWNED = re.compile(r"importmut-[a-z]+-([0-9a-f]{8})-([0-9]+)-")  # kind, host, pid


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def make(kind: str) -> Path:
    """A new temporary folder for this process (`kind`: sandbox, plugin, coverage, run)."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{_host()}-{os.getpid()}-"))


def _owner_gone(folder: Path) -> bool:
    owner = OWNED.match(folder.name)
    if owner is None or owner.group(1) != _host() or int(owner.group(2)) == os.getpid():
        return False
    try:
        os.kill(int(owner.group(2)), 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process
        return False
    return False


def remove_abandoned() -> int:
    """Remove the scratch folders whose process no longer runs on this host; how many were removed."""
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
