"""Scratch folders: each is named after its host and process, and only those of processes gone from this host
are removed."""

from __future__ import annotations

import os
import subprocess
import sys

from importmut import scratch


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _folder(temp_dir, name):
    folder = temp_dir / name
    (folder / "copy").mkdir(parents=True)
    return folder


def test_a_scratch_folder_is_named_after_this_host_and_process(temp_dir):
    folder = scratch.make("sandbox")
    assert folder.parent == temp_dir and folder.is_dir()
    assert folder.name.startswith(f"importmut-sandbox-{scratch._host()}-{os.getpid()}-")
    assert not scratch._owner_gone(folder)


def test_only_folders_of_processes_gone_from_this_host_are_removed(temp_dir):
    host = scratch._host()
    dead = _dead_pid()
    other_host = "0" * 8 if host != "0" * 8 else "1" * 8
    gone = _folder(temp_dir, f"importmut-sandbox-{host}-{dead}-abc")
    also_gone = _folder(temp_dir, f"importmut-run-{host}-{dead}-xyz")
    kept = [
        scratch.make("run"),  # this process
        _folder(temp_dir, f"importmut-plugin-{host}-{os.getppid()}-abc"),  # a running process
        _folder(temp_dir, f"importmut-sandbox-{other_host}-{dead}-abc"),  # another host's process
        _folder(temp_dir, "importmut-sandbox-abc123"),  # named otherwise (an older importmut)
        _folder(temp_dir, "importmut-warm-up-abc123"),
        _folder(temp_dir, f"other-tool-{host}-{dead}-abc"),  # not importmut's
    ]
    (temp_dir / f"importmut-run-{host}-{dead}-link").symlink_to(gone, target_is_directory=True)  # never followed
    assert scratch.remove_abandoned() == 2
    assert not gone.exists() and not also_gone.exists()
    assert all(folder.is_dir() for folder in kept)
    assert scratch.remove_abandoned() == 0
