"""The pytest plugin importmut loads into every test run it starts.

It is copied into a private folder and loaded by module name (`-p _importmut_pytest_plugin`),
so it may import only the standard library, pytest and (for the baseline) coverage. It records
each test's own outcome, collection errors, and which project modules were imported from
outside the sandbox; in the baseline also the order in which the project's files ran as modules
and the tests that started a process. It writes them as JSON for the lab to read. Settings come from
environment variables so that the command line stays the user's.
"""

import json
import os
import re
import sys
import time

import pytest

COVERAGE_FILE = os.environ.get("IMPORTMUT_COVERAGE")
COVERAGE_SOURCE = os.environ.get("IMPORTMUT_COVERAGE_SOURCE", "")
PACKAGES = [name for name in os.environ.get("IMPORTMUT_PACKAGES", "").split(",") if name]
SANDBOX = os.environ.get("IMPORTMUT_SANDBOX", "")
# IMPORTMUT_SELECT (a file of test ids: run only those, in that order) and IMPORTMUT_RESULTS are read when used:
# a warm worker's session imports this plugin once, before the job that sets them

_tests = {}
_collection_errors = []
_coverage = None
_current = [None]  # the test now running
_spawners = set()  # tests that started a process: it may run the project's code where coverage cannot see
# project modules imported before this plugin (a `-p` plugin in addopts): coverage did not see them imported
_early = sorted(name for name in sys.modules if name.split(".")[0] in PACKAGES) if COVERAGE_FILE else []


# audit events of a process started (or this one forked): its code runs where the coverage map cannot see it
STARTS_A_PROCESS = {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec",
                    "os.spawn"}


_shared_setup = [0]  # fixtures of a wider scope than one test now being set up
_spawned_for_all = [False]  # a process started outside any one test: every test may talk to it


def _note_spawner():
    if _current[0] is None or _shared_setup[0]:
        _spawned_for_all[0] = True  # while the tests are collected, or by a session or module fixture
    else:
        _spawners.add(_current[0])


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    shared = fixturedef.scope != "function"
    _shared_setup[0] += shared
    try:
        yield
    finally:
        _shared_setup[0] -= shared


def _watch_multiprocessing():
    """multiprocessing's processes all start in `BaseProcess.start`: the spawn and forkserver methods raise no
    audit event (a forkserver forks its own children, on request)."""
    import multiprocessing.process

    original = multiprocessing.process.BaseProcess.start

    def start(self):
        _note_spawner()
        return original(self)

    multiprocessing.process.BaseProcess.start = start


_module_runs = {}  # baseline: each sandbox file run as a module -> [first, last, runs]: ordinals and count
_runs_seen = [0]
_testing = [False]  # the tests have started: their order may change from one session to the next
# the sandbox's path as given and as resolved: a module's file name is the one its sys.path entry spelled
_in_sandbox = tuple({SANDBOX + os.sep, os.path.realpath(SANDBOX) + os.sep}) if SANDBOX else ()


def _audit(event, args):
    """The baseline's audit hook. It notes the tests that start a process, so every mutant runs them (the
    process may import the mutated module, out of the coverage map's sight). And it notes each run of a module
    body: every one is run by `exec` (the import system's, or pytest's for test files and conftest.py),
    whatever finder found it, and again if a test re-imports it. The order tells the planner which of the
    project's modules were already imported when another was first imported: a statement that imports one of
    those binds names and nothing more, in a session of the whole suite. Runs while the tests run share one
    ordinal, the last: a plugin such as pytest-randomly may run the tests in another order."""
    if event == "exec":
        filename = getattr(args[0], "co_filename", "")
        if filename.startswith(_in_sandbox) and filename.endswith(".py"):
            ordinal = _runs_seen[0]
            if not _testing[0]:
                _runs_seen[0] += 1
            runs = _module_runs.setdefault(filename, [ordinal, ordinal, 0])
            runs[1] = ordinal
            runs[2] += 1
    elif event in STARTS_A_PROCESS:
        _note_spawner()


def pytest_collection_finish(session):
    _testing[0] = True


if COVERAGE_FILE:
    try:
        import coverage

        _coverage = coverage.Coverage(
            data_file=COVERAGE_FILE,
            source=[path for path in COVERAGE_SOURCE.split(os.pathsep) if path],
            config_file=False,
        )
        _coverage.start()
        _watch_multiprocessing()
        sys.addaudithook(_audit)
    except ImportError:  # the test interpreter has no coverage: no coverage map, same verdicts
        _coverage = None


# Python's own words for a missing name, module or attribute: where a failing test's captured output (a
# server's log of the error it caught) holds them, importmut may see that the failure names what a mutant took
NAMING_ERROR = re.compile(r"name '[\w.]+' is not defined|cannot import name '[\w.]+'|has no attribute '[\w.]+'"
                          r"|No module named '[\w.]+'")


def named_in_output(report):
    """The errors naming a missing name in what a failing test printed or logged (at most ten)."""
    found = []
    for _, content in getattr(report, "sections", ()):
        for match in NAMING_ERROR.findall(content):
            if match not in found:
                found.append(match)
    return found[:10]


def _record(nodeid, outcome, duration, message="", evidence=()):
    entry = _tests.setdefault(nodeid, {"outcome": "passed", "duration": 0.0, "message": "", "evidence": []})
    entry["duration"] += duration
    entry["evidence"] += [found for found in evidence if found not in entry["evidence"]]
    rank = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
    if rank[outcome] >= rank[entry["outcome"]]:
        entry["outcome"] = outcome
        entry["message"] = message or entry["message"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    select = os.environ.get("IMPORTMUT_SELECT")
    if not select:
        return
    with open(select, encoding="utf-8") as handle:
        order = {nodeid: index for index, nodeid in enumerate(handle.read().splitlines())}
    kept = sorted((item for item in items if item.nodeid in order), key=lambda item: order[item.nodeid])
    dropped = [item for item in items if item.nodeid not in order]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


# Options of pytest's cache plugin, which importmut's runs leave out (`-p no:cacheprovider`, and stepwise with
# it): in a project's addopts each would stop pytest at an unrecognised argument, and each reorders or skips
# tests by what an earlier run saw.
CACHE_FLAGS = {"--lf", "--last-failed", "--ff", "--failed-first", "--nf", "--new-first", "--cache-clear",
               "--cache-show", "--sw", "--stepwise", "--sw-skip", "--stepwise-skip", "--sw-reset",
               "--stepwise-reset"}
CACHE_OPTIONS_WITH_VALUE = {"--lfnf", "--last-failed-no-failures"}


def drop_cache_options(args):
    """Remove the cache plugin's options from an argument list, in place."""
    kept, skip_value = [], False
    for arg in args:
        name = str(arg).split("=", 1)[0]
        if skip_value:
            skip_value = False
        elif name in CACHE_FLAGS or name in CACHE_OPTIONS_WITH_VALUE:
            skip_value = name in CACHE_OPTIONS_WITH_VALUE and "=" not in str(arg)
        else:
            kept.append(arg)
    args[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest reads the final arguments (this same list, addopts included, after this hook):
    drop the cache plugin's options, and keep pytest-cov (`--cov` in addopts) from measuring: in the
    baseline its tracer would replace the coverage map's, leaving most lines unseen by any test (false
    NoCoverage), and in a mutant run it costs time and may fail the run on `--cov-fail-under`. pytest-cov
    starts in this hook, after this wrapper."""
    drop_cache_options(args)
    options = early_config.known_args_namespace
    if getattr(options, "cov_source", None):
        options.cov_source = None
    yield


# Report files a project's options have pytest or a plugin write at the end of every run (junitxml, pytest-html,
# pytest-reportlog, pytest-json-report, allure), and the value that turns each off: importmut reads none of them,
# and a path outside the sandbox would be the user's file, overwritten by every mutant run.
REPORT_OPTIONS = {"xmlpath": None, "htmlpath": None, "report_log": None, "json_report": False,
                  "allure_report_dir": None}


def keep_writes_in_sandbox(option, log_file_in_ini=""):
    """Turn off the project's report files, and send an absolute `--basetemp` or `log_file` back to pytest's
    defaults (a numbered folder of its own; no log file): every parallel run would share them, and pytest
    empties the basetemp folder when a session starts, under another run's tests. Relative paths stay: they
    land in the run's own sandbox."""
    for name, off in REPORT_OPTIONS.items():
        if getattr(option, name, None):
            setattr(option, name, off)
    if getattr(option, "basetemp", None) and os.path.isabs(str(option.basetemp)):
        option.basetemp = None
    log_file = getattr(option, "log_file", None) or log_file_in_ini
    if log_file and os.path.isabs(str(log_file)) and log_file != os.devnull:
        option.log_file = os.devnull  # pytest reads the ini's value only where the option is unset


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Run the tests in this process even where the project's options (`-n auto` in addopts) ask
    pytest-xdist to spread them over processes of its own: this plugin would not see them run, and
    importmut already runs mutants in parallel. xdist decides in its own (later) pytest_configure, as
    junitxml, tmp_path's factory and the log file do from the options `keep_writes_in_sandbox` changes."""
    option = config.option
    if getattr(option, "dist", "no") != "no" or getattr(option, "numprocesses", None):
        option.dist = "no"
        option.numprocesses = 0
        option.tx = []
    keep_writes_in_sandbox(option, config.getini("log_file"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """End a session whose collection failed as a failed session. pytest would raise its Interrupted, a
    KeyboardInterrupt, whose report (the terminal's pytest_keyboard_interrupt) parses the source of every
    frame: about 100 ms in each run that a mutant kills while the tests are imported. importmut reads the
    collection errors from the results either way."""
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Failed(f"{session.testsfailed} error(s) during collection")


def pytest_runtest_logstart(nodeid, location):
    _current[0] = nodeid
    if _coverage is not None:
        _coverage.switch_context(nodeid)


def pytest_runtest_logreport(report):
    message = ""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash is not None else str(report.longrepr)[-2000:]
    if report.when == "call":
        outcome = "failed" if report.failed else ("skipped" if report.skipped else "passed")
    elif report.failed:
        outcome = "error"
    elif report.skipped:
        outcome = "skipped"
    else:
        outcome = "passed"
    _record(report.nodeid, outcome, report.duration, message, named_in_output(report) if report.failed else ())


def pytest_collectreport(report):
    if report.failed:
        _collection_errors.append({"nodeid": report.nodeid, "message": str(report.longrepr)[-4000:]})


def _outside_modules():
    """Project modules that were imported from anywhere but the sandbox."""
    outside = []
    sandbox = os.path.realpath(SANDBOX) + os.sep if SANDBOX else ""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in PACKAGES:
            continue
        filename = getattr(module, "__file__", None)
        if filename and sandbox and not os.path.realpath(filename).startswith(sandbox):
            outside.append([name, filename])
    return outside


def write_results(path, session, exitstatus):
    """Write what the run found, as JSON, for the lab to read."""
    data = {
        "tests": _tests,
        "collection_errors": _collection_errors,
        "outside": _outside_modules() if COVERAGE_FILE else [],  # checked in the baseline, once
        "exitstatus": int(exitstatus),
        "rootdir": str(session.config.rootpath),
        "spawners": sorted(_tests) if _spawned_for_all[0] else sorted(_spawners),
        "early": _early,
        "module_runs": _module_runs,
        "finished": time.time(),
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    exitstatus = session.exitstatus  # as conftest.py's own pytest_sessionfinish may have set it, like pytest's end
    if _coverage is not None:
        _coverage.stop()
        _coverage.save()
    results = os.environ.get("IMPORTMUT_RESULTS")
    if not results:
        return
    write_results(results, session, exitstatus)
    if os.environ.get("IMPORTMUT_FORKED"):
        # a forked child is thrown away: skip pytest's unconfigure (a full gc.collect() among others)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(exitstatus))
