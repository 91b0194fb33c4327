"""Sandboxes: a copy of the project that is cut short leaves nothing in the temporary folder."""

from __future__ import annotations

import shutil

import pytest

from importmut import sandbox as sandbox_module
from importmut.config import load_config
from importmut.sandbox import Sandbox


@pytest.fixture
def project(tmp_path, temp_dir):
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("import os\n")
    (root / "pyproject.toml").write_text('[tool.importmut]\npaths = ["pkg"]\n')
    return load_config(root), temp_dir


def test_a_sandbox_is_a_copy_of_the_project_in_the_temporary_folder(project):
    config, temp = project
    sandbox = Sandbox(config)
    assert sandbox.home.parent == temp
    assert (sandbox.root / "pkg" / "__init__.py").read_text() == "import os\n"
    sandbox.remove()
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_copy_cut_short_is_removed(project, monkeypatch, error):
    config, temp = project
    copy = shutil.copytree
    depth = [0]

    def copy_then_fail(*args, **kwargs):
        depth[0] += 1  # copytree calls itself for each folder
        try:
            copy(*args, **kwargs)  # part of the copy is on disk when the disk fills, or Ctrl-C comes
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            raise error

    monkeypatch.setattr(sandbox_module.shutil, "copytree", copy_then_fail)
    with pytest.raises(type(error)):
        Sandbox(config)
    assert list(temp.iterdir()) == []
