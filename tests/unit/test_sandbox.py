"""Sandboxes: a copy of the project that is cut short leaves nothing in the temporary folder; a mutated file
is put back with its compiled forms, and a mutant is never loaded from the original's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

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


def _import_in_a_fresh_process(root):
    """What `import pkg` gives in a process that writes no bytecode (as mutant runs do), and where from."""
    done = subprocess.run([sys.executable, "-B", "-v", "-c", "import pkg; print(pkg.VALUE)"], cwd=root,
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    from_compiled = f"code object from '{root / 'pkg' / '__pycache__'}" in done.stderr
    return done.stdout.strip(), from_compiled


def test_a_mutated_file_is_restored_with_its_time_and_compiled_forms_and_a_mutant_never_uses_them(project):
    config, _ = project
    (config.root / "pkg" / "__init__.py").write_text("VALUE = 'original'\n")
    sandbox = Sandbox(config)
    try:
        source = sandbox.root / "pkg" / "__init__.py"
        subprocess.run([sys.executable, "-c", "import pkg"], cwd=sandbox.root, check=True,
                       env={**os.environ, "PYTHONPATH": str(sandbox.root), "PYTHONDONTWRITEBYTECODE": ""})
        compiled = {path: path.read_bytes() for path in (sandbox.root / "pkg" / "__pycache__").iterdir()}
        assert compiled
        assert _import_in_a_fresh_process(sandbox.root) == ("original", True)
        mtime = source.stat().st_mtime_ns
        for _ in range(2):  # the same size, written within the same second as the original's .pyc
            sandbox.mutate("pkg/__init__.py", b"VALUE = 'mutant!!'\n")
            assert not any((sandbox.root / "pkg" / "__pycache__").iterdir())
            assert _import_in_a_fresh_process(sandbox.root) == ("mutant!!", False)
            sandbox.restore("pkg/__init__.py")
            assert source.read_text() == "VALUE = 'original'\n" and source.stat().st_mtime_ns == mtime
            assert {path: path.read_bytes() for path in (sandbox.root / "pkg" / "__pycache__").iterdir()} == compiled
            assert _import_in_a_fresh_process(sandbox.root) == ("original", True)
    finally:
        sandbox.remove()
