"""The warm worker: what it loads once, what it must leave for each child to import fresh, and when it
refuses to serve (the runner then starts a fresh process per run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import importmut.worker
from importmut.runner import PytestRunner

WORKER = Path(importmut.worker.__file__)

RECORDER = "import os\nwith open(os.environ['IMPORT_LOG'], 'a') as log:\n    log.write(f'{__name__} {os.getpid()}\\n')\n"


def _plugin_distribution(site: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """An installed distribution on `site` (a folder on PYTHONPATH) with pytest11 entry points."""
    site.mkdir(parents=True, exist_ok=True)
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[pytest11]\n{entry_points}\n")
    (dist / "RECORD").write_text("".join(f"{path},,\n" for path in modules))
    for path, text in modules.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text)


def _project(tmp_path: Path) -> tuple[Path, Path]:
    """An installed pytest plugin outside the project (its distribution also holds a helper module the
    project depends on), one that belongs to the project, a plugin named in PYTEST_PLUGINS and a conftest.py:
    each notes which process imported it. Warnings are errors, as in many projects."""
    site = tmp_path / "site"
    helper = RECORDER + "def double(x):\n    assert isinstance(x, int)\n    return 2 * x\n"
    _plugin_distribution(site, "plugins", "outside = outside_plugin\nown = myproj.plugin",
                         {"outside_plugin.py": RECORDER, "outside_helper.py": helper})
    project = tmp_path / "project"
    (project / "myproj").mkdir(parents=True)
    (project / "myproj" / "__init__.py").write_text("")
    (project / "myproj" / "plugin.py").write_text(RECORDER)
    (project / "myproj" / "named.py").write_text(RECORDER)
    (project / "conftest.py").write_text(RECORDER)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n')
    (project / "test_one.py").write_text("import outside_helper\n\n\ndef test_one():\n    assert outside_helper.double(2) == 4\n")
    return site, project


def _imports(log: Path) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        name, pid = line.split()
        found.setdefault(name, set()).add(int(pid))
    return found


def _serve(tmp_path: Path, site: Path, project: Path, runs: int, **env_changes: str) -> tuple[dict, int, list[int]]:
    """Start the worker (preloading `outside_helper`, a third-party module of the project), run the tests
    `runs` times; its first answer, its pid and its children's pids."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(project)]),
           "IMPORT_LOG": str(tmp_path / "imports.log"), "IMPORTMUT_PACKAGES": "myproj", **env_changes}
    for key in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        if key not in env_changes:
            env.pop(key, None)
    worker = subprocess.Popen([sys.executable, str(WORKER), json.dumps(["outside_helper"])], cwd=project, env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    children = []
    try:
        first = json.loads(worker.stdout.readline())
        for run in range(runs if first.get("ready") else 0):
            output = tmp_path / f"run{run}.txt"
            job = {"args": ["-p", "no:cacheprovider", "-q", "test_one.py"], "env": {}, "cwd": str(project),
                   "log": str(output)}
            worker.stdin.write(json.dumps(job) + "\n")
            worker.stdin.flush()
            children.append(json.loads(worker.stdout.readline())["pid"])
            assert json.loads(worker.stdout.readline()) == {"exit": 0}, output.read_text()
    finally:
        worker.stdin.close()
        worker.wait(timeout=30)
    return first, worker.pid, children


def test_installed_plugins_are_loaded_once_and_the_projects_own_in_every_child(tmp_path):
    site, project = _project(tmp_path)
    first, worker, children = _serve(tmp_path, site, project, 2, PYTEST_PLUGINS="myproj.named")
    assert first == {"ready": True}
    imports = _imports(tmp_path / "imports.log")
    # loaded once, by pytest's own machinery: no child warns that they escaped assertion rewriting
    assert imports["outside_plugin"] == {worker}
    assert imports["outside_helper"] == {worker}
    for name in ("myproj.plugin", "myproj.named", "conftest"):
        assert imports[name] == set(children), name


def test_no_plugin_is_loaded_when_autoloading_is_off(tmp_path):
    site, project = _project(tmp_path)
    first, worker, children = _serve(tmp_path, site, project, 1, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert first == {"ready": True}
    imports = _imports(tmp_path / "imports.log")
    assert "outside_plugin" not in imports and "myproj.plugin" not in imports
    assert imports["conftest"] == set(children)


def test_a_plugin_that_imports_the_project_makes_the_worker_refuse_and_the_runner_use_fresh_processes(
        tmp_path, monkeypatch):
    site, project = _project(tmp_path)
    (site / "outside_plugin.py").write_text(RECORDER + "import myproj.named\n")
    first, _, _ = _serve(tmp_path, site, project, 1)
    assert first == {"ready": False, "reason": "loading the plugins and dependencies imported myproj"}
    monkeypatch.setenv("IMPORT_LOG", str(tmp_path / "imports.log"))
    monkeypatch.setenv("PYTHONPATH", str(site))
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_one.py",), ["."], ["myproj"],
                          isolation="fork", preload=["outside_helper"])
    try:
        run = runner.run(project)
    finally:
        runner.close()
    assert run.passed == ["test_one.py::test_one"]
    assert runner.isolation == "process"
    assert runner.warnings == ["loading the plugins and dependencies imported myproj; each mutant runs in a fresh "
                               "process (--isolation process)"]
