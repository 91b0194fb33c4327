"""Fixtures shared by the unit tests."""

from __future__ import annotations

import textwrap

import pytest


@pytest.fixture
def write_project(tmp_path):
    """Write {relpath: content} under tmp_path and return tmp_path.

    Text is dedented and written as UTF-8; bytes are written as they are.
    """

    def write(files):
        for relpath, content in files.items():
            target = tmp_path / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                content = textwrap.dedent(content).encode("utf-8")
            target.write_bytes(content)
        return tmp_path

    return write


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """An empty folder that stands for the system's temporary folder (where importmut's scratch folders go)."""
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
