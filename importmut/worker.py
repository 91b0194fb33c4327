"""A warm worker: runs one pytest session on an empty folder, which loads pytest, its installed plugins
and the project's third-party dependencies once, then forks a child per mutant, in which pytest imports
the project's own modules fresh from the sandbox.

Given the runs' pytest options, it first forks a session holder: a process that starts a pytest session in
the sandbox with those options (plugins registered, options parsed, conftest.py loaded, configured) and stops
where collection would begin. Each child is then forked from there and collects and runs only its job's
tests, without a pytest start-up of its own. Where that session imported a module of the project before
collecting (conftest.py or a plugin did), or cannot be shared by forked children (`sharing_problem`), the
holder gives up and the worker forks each child from itself, to run `pytest.main` whole.

It is copied next to the pytest plugin and started with the test interpreter, so it may use only the
standard library and pytest. Arguments: the modules to preload, and optionally the runs' session as
`{"options": [...], "tests": [...]}`, each as JSON. Protocol, one JSON object per line: importmut writes a
job `{"args": [...], "env": {...}, "cwd": "...", "log": "..."}` to stdin; the worker answers
`{"pid": N}` when the child starts and `{"exit": CODE}` when it ends, or `{"refused": "why"}` for a job
whose options are not the held session's. Its first line says whether it is
ready: `{"ready": true}` (with `"session": true`, or why not, when a session was asked for), or
`{"ready": false, "reason": "..."}` when preloading imported the project itself (it then exits). With
`"module": name`, preloading that module did: importmut starts the worker again without it. Otherwise a plugin
did, and importmut starts a fresh process per run instead. The child leads a process group of its own, so a
timeout kills it and everything it started.
"""

import gc
import json
import os
import shutil
import sys
import tempfile
import threading

import pytest


def _project_plugins(packages):
    """Names of the installed pytest plugins (entry points of group pytest11) that are the project's own:
    the warm-up must not load them, as each child imports the project fresh."""
    try:
        from importlib.metadata import entry_points

        found = entry_points(group="pytest11")
    except Exception:  # noqa: BLE001 - no plugin list: no plugin is loaded by entry point either
        return []
    return sorted({entry.name for entry in found if entry.value.split(":")[0].strip().split(".")[0] in packages})


def _preload(names, packages=()):
    """Import pytest's own plugins and `names`; the first of `names` whose import brought in a module of the
    project (`packages`), which ends the preloading, or None."""
    try:  # pytest's own plugins, which pytest.main would otherwise import in every child
        from _pytest.config import builtin_plugins

        _import_all("_pytest." + plugin for plugin in sorted(builtin_plugins) if "." not in plugin)
    except ImportError:
        pass
    if _project_modules(packages):  # a plugin loaded it: no preload is to blame
        return None
    for name in names:
        count = len(sys.modules)
        _import_all([name])
        if len(sys.modules) != count and _project_modules(packages):
            return name
    return None


def _import_all(names):
    for name in names:
        try:
            __import__(name)
        except BaseException:  # noqa: BLE001 - a module that cannot be preloaded is imported by the child
            pass


class _Preloader:
    """A plugin for the warm-up session: imports the project's third-party modules while pytest's
    assertion rewriting hook is in place, as a child's session would (a module of an installed pytest
    plugin's distribution, such as anyio or hypothesis, is rewritten; imported outside a session, every
    child would warn that it was imported before it could be rewritten)."""

    def __init__(self, names, packages):
        self.names = names
        self.packages = packages
        self.culprit = None

    def pytest_configure(self, config):
        self.culprit = _preload(self.names, self.packages)


def _warm_up(packages, names):
    """Run one pytest session on an empty folder: it loads the installed pytest plugins (not the project's)
    and the project's third-party modules, and does what pytest imports and compiles only while it runs
    (option parser, config file reader, regular expressions), once here rather than in every child. No
    conftest.py and no option from the environment is read; output goes to the worker's log. Returns the
    module whose preloading imported the project, if one did (`_preload`)."""
    preloader = _Preloader(names, packages)
    folder = tempfile.mkdtemp(prefix="importmut-warm-up-")
    config = os.path.join(folder, "pyproject.toml")
    saved_env = {key: os.environ.pop(key) for key in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if key in os.environ}
    saved_cwd = os.getcwd()
    blocked = [arg for name in _project_plugins(packages) for arg in ("-p", f"no:{name}")]
    try:
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("[tool.pytest.ini_options]\n")
        os.chdir(folder)
        import pytest

        pytest.main(["-q", "-p", "no:cacheprovider", *blocked, "--rootdir", folder, "-c", config, folder],
                    plugins=[preloader])
    except BaseException:  # noqa: BLE001 - a warm-up that fails only leaves the children more to do
        pass
    finally:
        os.chdir(saved_cwd)
        os.environ.update(saved_env)
        shutil.rmtree(folder, ignore_errors=True)
    # what the session did not get to, if it stopped early
    return preloader.culprit or _preload(names, packages)


def _project_modules(packages):
    return sorted(name for name in sys.modules if name.split(".")[0] in packages)


def begin_child(log_path, config=None):
    """In a forked child: a session of its own (a timeout kills its whole group), output to its log. Forked
    from inside a pytest session (`config`), it takes over what that session opened on its process's
    output (`_take_over_outputs`)."""
    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(devnull, 0)
    if config is not None:
        _take_over_outputs(config, log, devnull)


def _take_over_outputs(config, log, devnull):
    """Make the session's capture and fault handler the child's own, without closing anything (a logging
    handler may hold a capture file): the process's output they restore between tests, or dump a crash to,
    becomes the child's log (stdin: nothing), and each capture file a private one, as it is shared (with its
    offset) with the session's process and every other child."""
    capture = config.pluginmanager.getplugin("capturemanager")
    multi = getattr(capture, "_global_capturing", None)
    for fd_capture in (getattr(multi, "in_", None), getattr(multi, "out", None), getattr(multi, "err", None)):
        saved = getattr(fd_capture, "targetfd_save", None)
        if not isinstance(saved, int):  # capturing sys.stdout only (or nothing): no descriptor of the process
            continue
        os.dup2(devnull if fd_capture.targetfd == 0 else log, saved)
        if fd_capture.targetfd in (1, 2):
            with tempfile.TemporaryFile() as private:
                os.dup2(private.fileno(), fd_capture.tmpfile.fileno())
    try:  # pytest's faulthandler writes to a copy of stderr it made while configuring (a file in pytest 7)
        from _pytest import faulthandler as pytest_faulthandler

        key = getattr(pytest_faulthandler, "fault_handler_stderr_fd_key", None) or getattr(
            pytest_faulthandler, "fault_handler_stderr_key", None)
        crash_output = config.stash.get(key, None) if key is not None else None
        if crash_output is not None:
            os.dup2(log, crash_output if isinstance(crash_output, int) else crash_output.fileno())
    except Exception:  # noqa: BLE001 - a crash's dump then goes to the worker's log
        pass


def end_child(code):
    """Flush what the child printed and end it: it must never return into the worker's loop."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def become_job(job, config=None):
    """In a forked child: begin it (`begin_child`) and give it the job's environment."""
    begin_child(job["log"], config)
    os.environ.update(job["env"])
    os.environ["IMPORTMUT_FORKED"] = "1"  # the plugin may end the child as soon as results are written


def _child(job):
    code = 70
    try:
        become_job(job)
        os.chdir(job["cwd"])
        sys.path.insert(0, job["cwd"])  # what `python -m pytest` does
        code = int(pytest.main(job["args"]))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001 - report it; the child must never return into the worker loop
        import traceback

        traceback.print_exc()
    finally:
        end_child(code)


def take_stdout():
    """The answers go to the real stdout; whatever preloaded code prints goes nowhere, never into them."""
    answers = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return answers


def say(answers, message):
    answers.write(json.dumps(message) + "\n")
    answers.flush()


def warm(packages, names):
    """Load pytest, the plugins and the dependencies; None, or the answer that the worker is unusable. When
    preloading one of `names` imported the project, the answer names it (`"module"`): importmut starts the
    worker again without it."""
    _preload(["tomllib"])
    culprit = _warm_up(packages, names)
    loaded = _project_modules(packages)
    if not loaded:
        return None
    # a plugin or a dependency imported the project: children would not import it fresh
    if culprit is None:
        return {"ready": False, "reason": f"loading the plugins and dependencies imported {loaded[0]}"}
    return {"ready": False, "reason": f"preloading {culprit} imported {loaded[0]}", "module": culprit}


def serve(answers, start_child, refuse=lambda job: None, jobs=None):
    """Fork a child per job read from `jobs` (stdin by default; `start_child(job)` never returns); answer its
    pid and exit code, or `{"refused": why}` for a job `refuse` turns down."""
    for line in jobs or sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        problem = refuse(job)
        if problem:
            say(answers, {"refused": problem})
            continue
        pid = os.fork()
        if pid == 0:
            start_child(job)
        say(answers, {"pid": pid})
        _, status = os.waitpid(pid, 0)
        say(answers, {"exit": _exit_code(status)})


def _exit_code(status):
    """A wait status as an exit code, negative for a signal (os.waitstatus_to_exitcode, new in Python 3.9)."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


# Plugins whose threads a forked child can do without. pytest-rerunfailures starts a server for pytest-xdist's
# workers in every session where xdist is installed, also when no worker will connect (importmut's runs start
# none); without the exception, no session of such a project could be forked.
SPARED_THREADS = ("pytest_rerunfailures",)


def threads_in_the_way():
    """Threads other than this one that a fork would leave behind, and that may hold what the child needs."""
    found = []
    for thread in threading.enumerate():
        if thread is threading.current_thread():
            continue
        target = getattr(thread, "_target", None)  # what Thread(target=...) runs; a subclass runs itself
        bound_to = getattr(target, "__self__", None)
        runs = type(bound_to) if bound_to is not None else (target if target is not None else type(thread))
        if str(getattr(runs, "__module__", "")).split(".")[0] not in SPARED_THREADS:
            found.append(thread)
    return found


def _child_processes():
    """The processes this one started and has not reaped (Linux's /proc; elsewhere none are known)."""
    found = []
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as handle:
                found += handle.read().split()
    except OSError:
        return []
    return found


def sharing_problem(config):
    """Why children forked from this session could not each go on with it as if it were their own, or None:
    a thread the fork would leave behind, a process they would all share, or a plugin of the project's own
    (conftest.py, or a module in the sandbox) with pytest_sessionstart or pytest_sessionfinish: what the
    session's start (or configuration) made once for all of them, the first child's end could undo under the
    next."""
    if threads_in_the_way():
        return "the session started a thread"
    if _child_processes():
        return "the session started a process"
    sandbox = os.path.realpath(os.environ.get("IMPORTMUT_SANDBOX") or os.getcwd()) + os.sep
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if not isinstance(path, str) or not os.path.realpath(path).startswith(sandbox):
            continue
        for hook in ("pytest_sessionstart", "pytest_sessionfinish"):
            if hasattr(plugin, hook):
                return f"{os.path.relpath(path, sandbox)} has a {hook}"
    return None


def _paths_beside(config, tests):
    """The test paths of the session that are not the runs' own tests (from addopts or the options), which a
    fresh run with other tests collects too; None where they cannot be told apart."""
    held = [str(arg) for arg in config.args]
    source = getattr(config, "args_source", None)  # pytest 7.2 and later
    if source is not None and source.name != "ARGS":  # testpaths, or the current folder: only without tests
        return []
    if not tests:
        return held if source is not None else None
    return held[:-len(tests)] if held[-len(tests):] == list(tests) else None


class _JobChild(Exception):
    """Raised in a child forked from the held session, to leave the serving loop and collect the job's tests."""

    def __init__(self, job):
        super().__init__()
        self.job = job


class _SessionHolder:
    """A plugin for the held session: where collection would begin, it forks a child per job instead."""

    def __init__(self, answers, packages, session, verdict):
        self.answers = answers
        self.jobs = os.fdopen(os.dup(0), "r")  # pytest's capturing takes sys.stdin away during the session
        self.packages = packages
        self.options = session["options"]
        self.tests = session["tests"]
        self.verdict = verdict  # a pipe to the worker: "serving", or why not
        self.in_job = False

    def tell(self, message):
        """One line: a process the session started may hold the pipe open, so the worker reads no further."""
        os.write(self.verdict, (" ".join(message.split()) + "\n").encode("utf-8"))
        os.close(self.verdict)
        self.verdict = None

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection(self, session):
        """Serve the jobs before any plugin collects (a wrapper's first half runs before every implementation);
        in a job's child, let the session go on with the job's tests."""
        loaded = _project_modules(self.packages)
        beside = _paths_beside(session.config, self.tests)
        if loaded:
            problem = f"the session imported {loaded[0]} before collecting (conftest.py or a plugin)"
        elif beside is None:
            problem = "the session's test paths cannot be told from the runs' own"
        else:
            problem = sharing_problem(session.config)
        if problem:
            self.tell(problem)
            # the session ends as any would (pytest_sessionfinish, pytest_unconfigure), undoing what it made
            raise session.Failed(f"importmut holds no session: {problem}")
        held = list(session.config.args)
        self.tell("serving")
        gc.collect()
        gc.freeze()
        try:
            serve(self.answers, self._start, self._refuse, self.jobs)
            end_child(0)  # stdin closed: every job is served
        except _JobChild as child:
            job = child.job
        self.in_job = True
        become_job(job, session.config)
        tests = job["args"][len(self.options):]
        session.config.args = [*beside, *tests] if tests else held  # what a fresh run with these arguments collects
        yield

    def _refuse(self, job):
        if job["args"][:len(self.options)] != self.options:
            return "the run's options are not the held session's"
        return None

    @staticmethod
    def _start(job):
        raise _JobChild(job)


def _run_holder(answers, packages, session, verdict):
    """In the forked holder: start the session; it returns only in a job's child whose session ended
    before the plugin's own end (or in a holder that never served)."""
    holder = _SessionHolder(answers, packages, session, verdict)
    sys.path.insert(0, os.getcwd())  # what `python -m pytest` does
    code = 70
    try:
        code = pytest.main([*session["options"], *session["tests"]], plugins=[holder])
    except BaseException:  # noqa: BLE001 - report it; neither a child nor the holder may return to the worker
        import traceback

        traceback.print_exc()
    finally:
        if holder.verdict is not None:
            holder.tell(f"the session did not reach collection (pytest: {code})")
        end_child(int(code) if holder.in_job else 0)


def hold_session(answers, packages, session):
    """Fork the session holder; None once it has served every job (stdin closed), or why it could not serve,
    and the worker serves them itself."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _run_holder(answers, packages, session, write_end)
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as verdict:
        why_not = verdict.readline().strip()
    serving = why_not == "serving"
    if serving:
        say(answers, {"ready": True, "session": True})
    os.waitpid(pid, 0)  # the holder ends when it has served every job, or as soon as it gave up
    return None if serving else why_not or "the session holder ended before collection"


def main():
    answers = take_stdout()
    packages = [name for name in os.environ.get("IMPORTMUT_PACKAGES", "").split(",") if name]
    unusable = warm(packages, json.loads(sys.argv[1]) if len(sys.argv) > 1 else [])
    if unusable:
        say(answers, unusable)
        return
    # Children never free what the worker preloaded: kept out of the collector's sight, it is not walked by
    # each child's collections (whose walks would also copy the worker's memory pages).
    gc.collect()
    gc.freeze()
    ready = {"ready": True}
    if len(sys.argv) > 2:
        why_not = hold_session(answers, packages, json.loads(sys.argv[2]))
        if why_not is None:
            return
        print(f"no held session: {why_not}", file=sys.stderr, flush=True)
        ready["session"] = why_not
    say(answers, ready)
    serve(answers, _child)


if __name__ == "__main__":
    main()
