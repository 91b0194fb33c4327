"""The warm worker: what it loads once, what it must leave for each child to import fresh, and when it
refuses to serve (the runner then starts a fresh process per run)."""

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

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


OPTIONS = ["-p", "no:cacheprovider", "-q"]


class _Worker:
    """The worker script as the runner starts it: preloading `preload`, and holding a session with OPTIONS over
    the whole project unless `session` is False."""

    def __init__(self, tmp_path: Path, project: Path, site: Path | None = None, preload: tuple[str, ...] = (),
                 session: bool = True, **env_changes: str) -> None:
        self.tmp_path = tmp_path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*([str(site)] if site else []), str(project)]),
               "IMPORT_LOG": str(tmp_path / "imports.log"), "IMPORTMUT_PACKAGES": "myproj",
               "IMPORTMUT_SANDBOX": str(project), "PIDS": str(tmp_path / "pids"), **env_changes}
        for key in ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
            if key not in env_changes:
                env.pop(key, None)
        held = [json.dumps({"options": OPTIONS, "tests": ["."]})] if session else []
        self.process = subprocess.Popen([sys.executable, str(WORKER), json.dumps(list(preload)), *held],
                                        cwd=project, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        self.project = project
        answered, _, _ = select.select([self.process.stdout], [], [], 60)
        self.first = json.loads(self.process.stdout.readline()) if answered else {"no answer": "within 60 s"}

    def job(self, args: list[str], log: Path) -> dict:
        """Send one job; the answers it gets."""
        job = {"args": args, "env": {}, "cwd": str(self.project), "log": str(log)}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "pid" in answer:
            answer.update(json.loads(self.process.stdout.readline()))
        return answer

    def close(self) -> None:
        """End the worker, and what the project's conftest.py started (their pids in PIDS)."""
        pids = self.tmp_path / "pids"
        for pid in pids.read_text().split() if pids.exists() else []:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process.poll() is None and not self.first.get("ready"):
            self.process.kill()
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _serve(tmp_path: Path, site: Path, project: Path, runs: int, **env_changes: str) -> tuple[dict, int, list[int]]:
    """Start the worker without a held session (preloading `outside_helper`, a third-party module of the
    project), run the tests `runs` times; its first answer, its pid and its children's pids."""
    worker = _Worker(tmp_path, project, site, ("outside_helper",), session=False, **env_changes)
    children = []
    try:
        for run in range(runs if worker.first.get("ready") else 0):
            answer = worker.job(["-p", "no:cacheprovider", "-q", "test_one.py"], tmp_path / f"run{run}.txt")
            assert answer["exit"] == 0, (tmp_path / f"run{run}.txt").read_text()
            children.append(answer["pid"])
    finally:
        worker.close()
    return worker.first, worker.process.pid, children


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


def _culprit_package(site: Path, project: Path) -> None:
    """A third-party package whose submodule imports the project, and a test that imports the submodule."""
    (site / "outside_pkg").mkdir()
    (site / "outside_pkg" / "__init__.py").write_text(RECORDER)
    (site / "outside_pkg" / "sub.py").write_text(RECORDER + "import myproj.named\n")
    (project / "test_two.py").write_text("import outside_pkg.sub\n\n\ndef test_two():\n    assert outside_pkg.sub\n")


def test_a_preloaded_module_that_imports_the_project_is_named_in_the_refusal(tmp_path):
    site, project = _project(tmp_path)
    _culprit_package(site, project)
    worker = _Worker(tmp_path, project, site, ("outside_helper", "outside_pkg", "outside_pkg.sub"), session=False)
    worker.close()
    assert worker.first == {"ready": False, "reason": "preloading outside_pkg.sub imported myproj",
                            "module": "outside_pkg.sub"}


@pytest.mark.parametrize("isolation", ["fork", "live"])
def test_the_runner_starts_the_worker_again_without_a_preload_that_imports_the_project(
        tmp_path, monkeypatch, isolation):
    site, project = _project(tmp_path)
    _culprit_package(site, project)
    monkeypatch.setenv("IMPORT_LOG", str(tmp_path / "imports.log"))
    monkeypatch.setenv("PYTHONPATH", str(site))
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_two.py",), ["."], ["myproj"],
                          isolation=isolation, preload=["outside_helper", "outside_pkg", "outside_pkg.sub"])
    try:
        # a live worker imports the project and collects the tests once: the culprit too, but only then
        assert runner.start_live(project, []) is (isolation == "live")
        run = runner.run(project)
        warm = runner._workers[project].process.pid  # the fork worker: started with the culprit left out
    finally:
        runner.close()
    assert run.passed == ["test_two.py::test_two"], run.output
    assert (runner.isolation, runner.warnings) == (isolation, [])
    assert runner.preload == ["outside_helper", "outside_pkg"]
    imports = _imports(tmp_path / "imports.log")
    assert warm in imports["outside_pkg"] and warm in imports["outside_helper"]
    assert warm not in imports["outside_pkg.sub"] | imports["myproj.named"]
    # the worker that preloaded the culprit, the run's child (and the live worker's collection)
    assert len(imports["outside_pkg.sub"]) == (3 if isolation == "live" else 2)


def _held_project(tmp_path: Path, conftest: str = "", files: dict[str, str] | None = None,
                  ini: str = "") -> Path:
    """A project whose conftest.py and module note which process imported them, with a passing and a failing
    test file."""
    project = tmp_path / "held"
    (project / "myproj").mkdir(parents=True)
    (project / "myproj" / "__init__.py").write_text("")
    (project / "myproj" / "mod.py").write_text(RECORDER)
    (project / "conftest.py").write_text(RECORDER + conftest)
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n" + ini)
    (project / "test_pass.py").write_text("import myproj.mod\n\n\ndef test_pass():\n    print('own output')\n")
    (project / "test_fail.py").write_text("def test_fail():\n    assert False\n")
    for path, text in (files or {}).items():
        (project / path).write_text(text)
    return project


def test_children_are_forked_from_a_held_session_and_collect_only_their_jobs_tests(tmp_path):
    """conftest.py is loaded once, by the session the worker holds; each child imports the project fresh and
    runs the job's own test files, with its output in its own log."""
    worker = _Worker(tmp_path, _held_project(tmp_path))
    try:
        assert worker.first == {"ready": True, "session": True}
        passing = [worker.job([*OPTIONS, "test_pass.py"], tmp_path / f"pass{run}.txt") for run in range(2)]
        failing = worker.job([*OPTIONS, "test_fail.py"], tmp_path / "fail.txt")
    finally:
        worker.close()
    assert [answer["exit"] for answer in passing] == [0, 0]
    assert failing["exit"] == 1
    imports = _imports(tmp_path / "imports.log")
    children = {answer["pid"] for answer in passing}
    assert imports["myproj.mod"] == children
    assert len(imports["conftest"]) == 1
    assert not imports["conftest"] & (children | {worker.process.pid, failing["pid"]})  # the holder's
    assert "1 passed" in (tmp_path / "pass1.txt").read_text()
    assert "1 failed" in (tmp_path / "fail.txt").read_text()


def test_a_job_with_other_options_than_the_held_sessions_is_refused(tmp_path):
    worker = _Worker(tmp_path, _held_project(tmp_path))
    try:
        answer = worker.job(["-p", "no:cacheprovider", "-x", "test_pass.py"], tmp_path / "run.txt")
    finally:
        worker.close()
    assert answer == {"refused": "the run's options are not the held session's"}


NOTE_PID = "\ndef note(pid):\n    with open(os.environ['PIDS'], 'a') as pids:\n        pids.write(f'{pid}\\n')\n\n\n"


@pytest.mark.parametrize("conftest, files, reason", [
    ("import myproj\n", {}, "the session imported myproj before collecting (conftest.py or a plugin)"),
    ("import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n", {},
     "the session started a thread"),
    (NOTE_PID + "import subprocess, sys\nnote(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']).pid)\n",
     {}, "the session started a process"),
    # a process forked before collection holds every descriptor the session had open: the worker must not wait
    # for it to end
    (NOTE_PID + "import multiprocessing, time\nSLEEPER = multiprocessing.get_context('fork').Process("
     "target=time.sleep, args=(600,))\nSLEEPER.start()\nnote(SLEEPER.pid)\n", {}, "the session started a process"),
    ("def pytest_sessionstart(session):\n    pass\n", {}, "conftest.py has a pytest_sessionstart"),
    # made once while configuring, undone at each session's end: the second child would find nothing
    ("import pathlib, shutil\n\n\ndef pytest_configure(config):\n    pathlib.Path('made').mkdir()\n\n\n"
     "def pytest_sessionfinish(session):\n    shutil.rmtree('made')\n", {}, "conftest.py has a pytest_sessionfinish"),
    ("pytest_plugins = ['dbplugin']\n", {"dbplugin.py": "def pytest_sessionstart(session):\n    pass\n"},
     "dbplugin.py has a pytest_sessionstart"),
], ids=["imports the project", "thread", "process", "forked process", "conftest sessionstart",
        "conftest configure and sessionfinish", "plugin module sessionstart"])
def test_a_session_children_could_not_share_leaves_each_child_to_start_pytest_itself(tmp_path, conftest, files,
                                                                                     reason):
    worker = _Worker(tmp_path, _held_project(tmp_path, conftest, files))
    try:
        answers = [worker.job([*OPTIONS, "test_pass.py"], tmp_path / f"run{run}.txt") for run in range(2)]
    finally:
        worker.close()
    assert worker.first["ready"] is True
    assert reason in worker.first["session"]
    assert [answer["exit"] for answer in answers] == [0, 0]
    assert {answer["pid"] for answer in answers} <= _imports(tmp_path / "imports.log")["conftest"]


def test_the_runner_runs_a_job_the_held_session_refuses_in_a_fresh_process(tmp_path, monkeypatch):
    project = _held_project(tmp_path)
    monkeypatch.setenv("IMPORT_LOG", str(tmp_path / "imports.log"))
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_pass.py",), ["."], ["myproj"],
                          isolation="fork")
    try:
        held = runner.run(project, extra_args=["-q"])
        other = runner.run(project, extra_args=["-x"])  # the worker holds a session with -q
    finally:
        runner.close()
    assert held.passed == other.passed == ["test_pass.py::test_pass"]
    assert runner.isolation == "fork" and runner.warnings == []


def test_a_logging_handler_the_session_gave_the_capture_file_still_writes_in_each_child(tmp_path):
    """logging.basicConfig() in conftest.py holds the session's capture file: a child must not close it (every
    log call would then print a logging error, which a test reading stderr notices)."""
    check = ("import logging\n\n\ndef test_log(capsys):\n    logging.getLogger('x').warning('hello')\n"
             "    assert 'Logging error' not in capsys.readouterr().err\n")
    worker = _Worker(tmp_path, _held_project(tmp_path, "import logging\nlogging.basicConfig()\n", {"test_log.py": check}))
    try:
        answers = [worker.job([*OPTIONS, "test_log.py"], tmp_path / f"run{run}.txt") for run in range(2)]
    finally:
        worker.close()
    assert worker.first == {"ready": True, "session": True}
    assert [answer["exit"] for answer in answers] == [0, 0], (tmp_path / "run1.txt").read_text()


def test_test_paths_from_addopts_are_collected_beside_each_jobs_own(tmp_path):
    """`addopts = "test_fail.py"` makes a fresh `pytest test_pass.py` collect both files; so must a child."""
    project = _held_project(tmp_path, ini='addopts = "test_fail.py"\n')
    fresh = subprocess.run([sys.executable, "-m", "pytest", *OPTIONS, "test_pass.py"], cwd=project,
                           capture_output=True, env={**os.environ, "IMPORT_LOG": str(tmp_path / "fresh.log")})
    worker = _Worker(tmp_path, project)
    try:
        answer = worker.job([*OPTIONS, "test_pass.py"], tmp_path / "run.txt")
    finally:
        worker.close()
    assert worker.first == {"ready": True, "session": True}
    assert answer["exit"] == fresh.returncode == 1


def test_a_child_that_crashes_dumps_its_traceback_into_its_own_log(tmp_path):
    """pytest's faulthandler writes to a copy of stderr made while the held session was configured: in a child
    it must be the child's log, which importmut reports from when a run ends without results."""
    crash = "import ctypes\n\n\ndef test_crash():\n    ctypes.string_at(0)\n"
    worker = _Worker(tmp_path, _held_project(tmp_path, files={"test_crash.py": crash}))
    try:
        answer = worker.job([*OPTIONS, "test_crash.py"], tmp_path / "run.txt")
    finally:
        worker.close()
    assert worker.first == {"ready": True, "session": True}
    assert answer["exit"] != 0
    assert "Fatal Python error: Segmentation fault" in (tmp_path / "run.txt").read_text()
