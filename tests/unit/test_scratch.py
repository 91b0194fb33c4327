"""Scratch folders: each names its owner process, and only those of processes gone from this host are removed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile

import pytest

from importmut import scratch


@pytest.fixture
def temp(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _folder(temp, name, owner=None):
    folder = temp / name
    (folder / "copy").mkdir(parents=True)
    if owner is not None:
        (folder / scratch.OWNER_FILE).write_text(owner)
    return folder


def test_a_scratch_folder_names_this_host_and_process(temp):
    folder = scratch.make("sandbox")
    assert folder.parent == temp and folder.name.startswith("importmut-sandbox-")
    assert (folder / scratch.OWNER_FILE).read_text().split() == [socket.gethostname(), str(os.getpid())]


def test_only_folders_of_processes_gone_from_this_host_are_removed(temp):
    host = socket.gethostname()
    dead = _dead_pid()
    gone = _folder(temp, "importmut-sandbox-gone", f"{host} {dead}\n")
    kept = [
        scratch.make("run"),  # this process
        _folder(temp, "importmut-plugin-parent", f"{host} {os.getppid()}\n"),  # a running process
        _folder(temp, "importmut-sandbox-elsewhere", f"another-{host} {dead}\n"),  # another host's process
        _folder(temp, "importmut-sandbox-unowned"),  # no owner file: being made, or not importmut's
        _folder(temp, "importmut-sandbox-garbled", "not a pid"),
        _folder(temp, "other-tool-gone", f"{host} {dead}\n"),  # not importmut's
    ]
    (temp / "importmut-link").symlink_to(gone, target_is_directory=True)  # never followed
    assert scratch.remove_abandoned() == 1
    assert not gone.exists()
    assert all(folder.is_dir() for folder in kept)
    assert scratch.remove_abandoned() == 0
