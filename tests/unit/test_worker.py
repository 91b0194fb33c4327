"""The warm worker: what it imports once, and what it must leave for each child to import fresh."""

import json
import os
import subprocess
import sys
from pathlib import Path

import importmut.worker

WORKER = Path(importmut.worker.__file__)

RECORDER = "import os\nwith open(os.environ['IMPORT_LOG'], 'a') as log:\n    log.write(f'{__name__} {os.getpid()}\\n')\n"


def _project(tmp_path: Path) -> tuple[Path, Path]:
    """An installed pytest plugin outside the project, one that belongs to the project, a plugin named in
    PYTEST_PLUGINS and a conftest.py: each notes which process imported it."""
    site = tmp_path / "site"
    (site / "outside_plugin.py").parent.mkdir(parents=True)
    (site / "outside_plugin.py").write_text(RECORDER)
    dist = site / "plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\noutside = outside_plugin\nown = myproj.plugin\n")
    project = tmp_path / "project"
    (project / "myproj").mkdir(parents=True)
    (project / "myproj" / "__init__.py").write_text("")
    (project / "myproj" / "plugin.py").write_text(RECORDER)
    (project / "myproj" / "named.py").write_text(RECORDER)
    (project / "conftest.py").write_text(RECORDER)
    (project / "test_one.py").write_text("def test_one():\n    assert True\n")
    return site, project


def _imports(log: Path) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        name, pid = line.split()
        found.setdefault(name, set()).add(int(pid))
    return found


def test_installed_plugins_are_imported_once_and_the_projects_own_in_every_child(tmp_path):
    site, project = _project(tmp_path)
    log = tmp_path / "imports.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(project)]), "IMPORT_LOG": str(log),
           "IMPORTMUT_PACKAGES": "myproj", "PYTEST_PLUGINS": "myproj.named"}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("PYTEST_ADDOPTS", None)
    worker = subprocess.Popen([sys.executable, str(WORKER), "[]"], cwd=project, env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    children = []
    try:
        for run in range(2):
            job = {"args": ["-p", "no:cacheprovider", "-q", "test_one.py"], "env": {}, "cwd": str(project),
                   "log": str(tmp_path / f"run{run}.txt")}
            worker.stdin.write(json.dumps(job) + "\n")
            worker.stdin.flush()
            children.append(json.loads(worker.stdout.readline())["pid"])  # the warm-up printed nothing here
            assert json.loads(worker.stdout.readline()) == {"exit": 0}, (tmp_path / f"run{run}.txt").read_text()
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    imports = _imports(log)
    assert imports["outside_plugin"] == {worker.pid}
    for name in ("myproj.plugin", "myproj.named", "conftest"):
        assert imports[name] == set(children), name


def test_no_plugin_is_preloaded_when_autoloading_is_off(monkeypatch, tmp_path):
    site, _ = _project(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    assert "outside_plugin" in importmut.worker._entry_point_plugins(["myproj"])
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert importmut.worker._entry_point_plugins(["myproj"]) == []
