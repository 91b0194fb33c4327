"""What the runner hands every test run it starts."""

import sys

import pytest

from importmut.runner import LIVE_WORKER_MODULE, WORKER_MODULE, PytestRunner, interpreter_problem
from tests.conftest import RENDEZVOUS


def _environment(sandbox_root, write_bytecode=False):
    """The environment a runner gives a test run in `sandbox_root`."""
    runner = PytestRunner(sys.executable, (), ("tests",), ["."], ["pkg"])
    try:
        return runner._environment(sandbox_root, write_bytecode=write_bytecode)
    finally:
        runner.close()


def test_runs_start_no_coverage_measurement_of_the_users_environment(monkeypatch, tmp_path):
    """COVERAGE_PROCESS_START (coverage's own .pth file) or pytest-cov's subprocess variables would start a
    second tracer in every run: slower, and data files written where the user measures."""
    monkeypatch.setenv("COVERAGE_PROCESS_START", str(tmp_path / ".coveragerc"))
    monkeypatch.setenv("COV_CORE_SOURCE", "pkg")
    monkeypatch.setenv("COV_CORE_DATAFILE", str(tmp_path / ".coverage"))
    monkeypatch.setenv("COVERAGE_PROCESS_CONFIG", "[run]\npatch = subprocess\n")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    env = _environment(tmp_path)
    assert not {"COVERAGE_PROCESS_START", "COV_CORE_SOURCE", "COV_CORE_DATAFILE", "COVERAGE_PROCESS_CONFIG"} & set(env)
    assert env["SOMETHING_ELSE"] == "kept"
    assert env["IMPORTMUT_SANDBOX"] == str(tmp_path)


def test_runs_inherit_nothing_of_a_forked_child_importmut_itself_runs_in(monkeypatch, tmp_path):
    """importmut run by a test, in a child a worker forked: that child's settings are not its runs'."""
    monkeypatch.setenv("IMPORTMUT_FORKED", "1")  # would end the run's pytest before its unconfigure hooks
    monkeypatch.setenv("IMPORTMUT_RESULTS", str(tmp_path / "results.json"))
    env = _environment(tmp_path)
    assert not {"IMPORTMUT_FORKED", "IMPORTMUT_RESULTS"} & set(env)


def test_runs_keep_compiled_modules_beside_their_sources(monkeypatch, tmp_path):
    """Under PYTHONPYCACHEPREFIX the baseline's .pyc files would land in a tree of their own, where mutating a
    file does not drop them: one could stand in for a mutant of the same size written in the same second."""
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path / "pycache"))
    assert "PYTHONPYCACHEPREFIX" not in _environment(tmp_path, write_bytecode=True)
    assert "PYTHONPYCACHEPREFIX" not in _environment(tmp_path)


@pytest.mark.parametrize("isolation", ["process", "fork"])
def test_a_collection_error_ends_the_run_as_failed_not_interrupted(tmp_path, isolation):
    """pytest's Interrupted (a KeyboardInterrupt) has its report parse the source of every frame, about 100 ms in
    each run a mutant kills at import time; the plugin ends such a run as failed, with the error in the results."""
    (tmp_path / "test_broken.py").write_text("value = undefined_name\n\n\ndef test_value():\n    pass\n")
    runner = PytestRunner(sys.executable, ("-q",), ("test_broken.py",), ["."], ["pkg"], isolation=isolation)
    try:
        run = runner.run(tmp_path, extra_args=["-x", "--tb=line"])
    finally:
        runner.close()
    assert run.exit_code == 1
    assert [nodeid for nodeid, _ in run.collection_errors] == ["test_broken.py"]
    assert "NameError: name 'undefined_name' is not defined" in run.collection_errors[0][1]
    assert "KeyboardInterrupt" not in run.output and "Interrupted" not in run.output


def _baseline(root, tests):
    """A baseline run (under coverage of root/pkg) of `tests` in root, which must pass."""
    runner = PytestRunner(sys.executable, ("-q",), (tests,), ["."], ["pkg"])
    try:
        run = runner.run(root, coverage_file=root / "cov" / ".coverage", coverage_source=[root / "pkg"])
    finally:
        runner.close()
    assert run.exit_code == 0, run.output
    return run


def test_the_baseline_reports_the_order_in_which_the_project_files_ran_as_modules(tmp_path):
    """The planner reads from it which project modules were already imported when another was first imported;
    a module a test re-imports has its last run apart from its first."""
    files = {
        "pkg/__init__.py": "",
        "pkg/base.py": "VALUE = 1\n",
        "pkg/user.py": "from pkg import base\n",
        "pkg/lazy.py": "",
        "pkg/lazier.py": "",
        "tests/test_first.py": "import pkg.base\n\n\ndef test_first():\n    import pkg.lazy\n",
        "tests/test_second.py": "import importlib\n\nimport pkg.user\n\n\n"
                                "def test_second():\n    importlib.reload(pkg.user)\n"
                                "    importlib.import_module('pkg.lazier')\n",
    }
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    runs = _baseline(tmp_path, "tests").module_runs
    assert set(runs) == {"pkg/__init__.py", "pkg/base.py", "pkg/user.py", "pkg/lazy.py", "pkg/lazier.py",
                         "tests/test_first.py", "tests/test_second.py"}
    assert runs["tests/test_first.py"][0] < runs["pkg/__init__.py"][0] < runs["pkg/base.py"][0]
    assert runs["pkg/base.py"] == (runs["pkg/base.py"][0],) * 2 + (1,)  # once
    assert runs["pkg/base.py"][1] < runs["tests/test_second.py"][0] < runs["pkg/user.py"][0]
    first, last, count = runs["pkg/user.py"]
    assert first < last and count == 2  # test_second reloaded it, after every test file ran
    assert last > runs["tests/test_second.py"][1]
    # what runs while the tests run is not ordered: another session may run the tests in another order
    assert runs["pkg/lazy.py"] == runs["pkg/lazier.py"] == (last, last, 1)


def test_the_baseline_names_the_tests_that_start_a_process_however_they_start_it(tmp_path):
    """Such a process may import the mutated module where the coverage map cannot see it, so every mutant runs
    these tests; multiprocessing's spawn raises no audit event of its own."""
    starts = {
        "popen": "import subprocess, sys\n    subprocess.run([sys.executable, '-c', 'pass'], check=True)",
        "system": "import os\n    os.system('true')",
        "posix_spawn": "import os\n    os.waitpid(os.posix_spawn('/bin/true', ['true'], os.environ), 0)",
        "fork": "import os\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)",
        "spawn": "import multiprocessing, os\n    with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
                 "        assert pool.apply(os.getpid) != os.getpid()",
        # the forkserver is started once; the second test's pool asks it for processes without starting one
        **{f"forkserver_{n}": "import multiprocessing, os\n"
                              "    with multiprocessing.get_context('forkserver').Pool(1) as pool:\n"
                              "        assert pool.apply(os.getpid) != os.getpid()" for n in (1, 2)},
        "none": "pass",
    }
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "test_starts.py").write_text("".join(f"def test_{name}():\n    {body}\n\n\n"
                                                     for name, body in starts.items()))
    assert set(_baseline(tmp_path, "test_starts.py").spawners) == {f"test_starts.py::test_{name}" for name in starts if name != "none"}


def test_a_file_run_under_both_spellings_of_a_symlinked_sandbox_counts_once(tmp_path):
    """A module's file name is the one its sys.path entry spelled: through the link or resolved. Keeping only one
    spelling's runs could make a module that ran late look as if it had only run early."""
    from importmut.runner import _relative_runs

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    runs = {str(tmp_path / "link" / "pkg" / "x.py"): [0, 9, 2], str(tmp_path / "real" / "pkg" / "x.py"): [3, 3, 1],
            str(tmp_path / "link" / "pkg" / "y.py"): [4, 4, 1], "/elsewhere/z.py": [5, 5, 1]}
    assert _relative_runs(runs, tmp_path / "link") == {"pkg/x.py": (0, 9, 3), "pkg/y.py": (4, 4, 1)}


@pytest.mark.parametrize("isolation", ["process", "fork"])
def test_every_run_has_the_same_hash_seed_unless_the_user_chose_one(tmp_path, monkeypatch, isolation):
    """The order of a set of strings then stays the baseline's in every mutant run (a conftest.py importing
    modules in a loop over a set imports them in one order)."""
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    (tmp_path / "test_seed.py").write_text("import os\n\n\ndef test_seed():\n"
                                           "    with open('seeds.txt', 'a') as out:\n"
                                           "        out.write(f\"{hash('importmut')}\\n\")\n")
    runner = PytestRunner(sys.executable, ("-q",), ("test_seed.py",), ["."], ["pkg"], isolation=isolation)
    try:
        baseline = runner.run(tmp_path, coverage_file=tmp_path / "cov" / ".coverage", coverage_source=[tmp_path])
        assert baseline.exit_code == 0, baseline.output
        for _ in range(2):  # in fork mode, from the worker: a process started apart from the baseline's
            assert runner.run(tmp_path).exit_code == 0
        monkeypatch.setenv("PYTHONHASHSEED", "123")
        assert runner._environment(tmp_path)["PYTHONHASHSEED"] == "123"
    finally:
        runner.close()
    seeds = (tmp_path / "seeds.txt").read_text().split()
    assert len(seeds) == 3 and len(set(seeds)) == 1


@pytest.mark.parametrize("where", ["collection", "session_fixture"])
def test_a_process_started_outside_any_one_test_makes_every_test_count_as_starting_one(tmp_path, where):
    """A process started while the tests are collected, or by a fixture shared by many tests (a server), may be
    used by any of them."""
    start = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'], check=True)\n"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    if where == "collection":
        (tmp_path / "test_a.py").write_text(start + "\n\ndef test_a():\n    pass\n")
    else:
        (tmp_path / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture(scope='session')\n"
                                              "def server():\n    " + start.replace("\n", "\n    ") + "\n")
        (tmp_path / "test_a.py").write_text("def test_a(server):\n    pass\n")
    (tmp_path / "test_b.py").write_text("def test_b():\n    pass\n")
    assert set(_baseline(tmp_path, ".").spawners) == {"test_a.py::test_a", "test_b.py::test_b"}


def test_a_workers_start_up_is_counted_apart_from_the_run_that_waited_for_it(tmp_path, monkeypatch):
    """The first run in a sandbox waits for its warm worker: that wait is the sandbox's once, not the mutant's,
    as the live worker's already was (`--stats` gives it as the worker start-up)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "slow_dependency.py").write_text("import time\ntime.sleep(2)\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_a.py").write_text("def test_a():\n    pass\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_a.py",), ["."], ["myproj"],
                          isolation="fork", preload=["slow_dependency"])
    try:
        first = runner.run(project)
        second = runner.run(project)
    finally:
        runner.close()
    assert first.passed == second.passed == ["test_a.py::test_a"]
    assert runner.isolation == "fork" and runner.startup_seconds >= 2
    assert first.duration < 1.5 and second.duration < 1.5


@pytest.mark.parametrize(("says", "problem"), [
    ("printf '3.7 1'", "is Python 3.7; importmut's test runs need Python 3.8 or newer"),
    ("printf '2.7 0'", "is Python 2.7; importmut's test runs need Python 3.8 or newer"),
    ("printf '3.12 0'", "cannot import pytest: install it in that environment"),
    ("echo 'cannot execute binary file' >&2; exit 126",
     "did not run as a Python interpreter: cannot execute binary file"),
])
def test_a_test_interpreter_that_cannot_run_the_tests_is_named_in_one_line(tmp_path, says, problem):
    """What the probe finds, from stand-ins that answer as an old Python, one without pytest, and no Python."""
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\n{says}\n")
    python.chmod(0o755)
    assert interpreter_problem(str(python)) == f"'python' ({python}) {problem}"


def test_importmuts_own_interpreter_can_run_the_tests_and_a_missing_one_cannot(tmp_path):
    assert interpreter_problem(sys.executable) is None
    assert interpreter_problem(str(tmp_path / "nowhere")).startswith(f"'python' ({tmp_path / 'nowhere'}) did not run")


def test_a_sandboxs_workers_started_ahead_load_side_by_side_and_serve_its_first_runs(tmp_path, monkeypatch):
    """`prestart` starts the live and the warm worker at once: each preloads a dependency that waits (up to 10
    s) until the other has begun loading it too. The first live and fork runs use those very workers."""
    site, project, folder = tmp_path / "site", tmp_path / "project", tmp_path / "rendezvous"
    for path in (site, project, folder):
        path.mkdir()
    (site / "rendezvous.py").write_text(RENDEZVOUS)
    (project / "test_a.py").write_text("def test_a():\n    pass\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("RENDEZVOUS", str(folder))
    monkeypatch.setenv("RENDEZVOUS_LOG", str(tmp_path / "rendezvous.log"))
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_a.py",), ["."], ["myproj"],
                          isolation="live", preload=["rendezvous"])
    try:
        runner.prestart(project, [])
        started = sorted(worker.process.pid for worker in runner._early.values())
        assert (LIVE_WORKER_MODULE, project) in runner._early  # started, not yet waited for
        assert runner.start_live(project, [])
        assert (LIVE_WORKER_MODULE, project) not in runner._early
        run = runner.run(project)
        used = sorted([runner._live[project].process.pid, runner._workers[project].process.pid])
    finally:
        runner.close()
    assert run.passed == ["test_a.py::test_a"] and runner.warnings == []
    assert started == used
    met = dict(line.split(maxsplit=1) for line in (tmp_path / "rendezvous.log").read_text().splitlines())
    assert met == {str(pid): "other met" for pid in used}


def test_a_worker_started_ahead_with_other_preloaded_modules_is_started_again(tmp_path):
    """Workers are started ahead on a guess of what the baseline will show: a guess that turned out wrong
    costs a start, never a worker other than the one asked for."""
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n")
    runner = PytestRunner(sys.executable, ("-p", "no:cacheprovider"), ("test_a.py",), ["."], ["myproj"],
                          isolation="live", preload=["json"])
    try:
        runner.prestart(tmp_path, [])
        guessed = dict(runner._early)
        runner.preload = ["csv"]
        assert runner.start_live(tmp_path, [])
        run = runner.run(tmp_path)
        used = {LIVE_WORKER_MODULE: runner._live[tmp_path], WORKER_MODULE: runner._workers[tmp_path]}
        assert all(worker.process.wait(timeout=10) is not None for worker in guessed.values())  # closed
    finally:
        runner.close()
    assert sorted(module for module, _ in guessed) == sorted(used)
    assert all(worker is not guessed[module, tmp_path] and worker.command[2] == '["csv"]'
               for module, worker in used.items())
    assert run.passed == ["test_a.py::test_a"] and runner.warnings == []


def test_workers_are_started_ahead_only_for_the_isolation_that_uses_them(tmp_path):
    started = {}
    for isolation in ("process", "fork", "live"):
        runner = PytestRunner(sys.executable, (), ("tests",), ["."], ["pkg"], isolation=isolation)
        try:
            runner.prestart(tmp_path, [])
            runner.prestart(tmp_path, [])  # once per sandbox
            started[isolation] = sorted(module for module, _ in runner._early)
        finally:
            runner.close()
    assert started == {"process": [], "fork": ["_importmut_worker"], "live": ["_importmut_live_worker",
                                                                              "_importmut_worker"]}
