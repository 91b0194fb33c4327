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
`{"ready": false, "reason": "..."}` when preloading imported the project itself (it then exits, and
importmut starts a fresh process per run instead). The child leads a process group of its own, so a timeout
kills it and everything it started.
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


def _preload(names):
    try:  # pytest's own plugins, which pytest.main would otherwise import in every child
        from _pytest.config import builtin_plugins

        names = ["_pytest." + plugin for plugin in sorted(builtin_plugins) if "." not in plugin] + list(names)
    except ImportError:
        pass
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

    def __init__(self, names):
        self.names = names

    def pytest_configure(self, config):
        _preload(self.names)


def _warm_up(packages, names):
    """Run one pytest session on an empty folder: it loads the installed pytest plugins (not the project's)
    and the project's third-party modules, and does what pytest imports and compiles only while it runs
    (option parser, config file reader, regular expressions), once here rather than in every child. No
    conftest.py and no option from the environment is read; output goes to the worker's log."""
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
                    plugins=[_Preloader(names)])
    except BaseException:  # noqa: BLE001 - a warm-up that fails only leaves the children more to do
        pass
    finally:
        os.chdir(saved_cwd)
        os.environ.update(saved_env)
        shutil.rmtree(folder, ignore_errors=True)
    _preload(names)  # what the session did not get to, if it stopped early


def _project_modules(packages):
    return sorted(name for name in sys.modules if name.split(".")[0] in packages)


def begin_child(log_path, config=None):
    """In a forked child: a session of its own (a timeout kills its whole group), output to its log. Forked
    from inside a pytest session (`config`), pytest's capture of that session is started again on the log:
    between tests it would give the output back to the process it was started in, and its temporary files
    (with their offsets) would be shared with every other child."""
    capture = config.pluginmanager.getplugin("capturemanager") if config is not None else None
    if capture is not None:
        capture.stop_global_capturing()
    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    if capture is not None:
        capture.start_global_capturing()
        capture.suspend_global_capture()


def end_child(code):
    """Flush what the child printed and end it: it must never return into the worker's loop."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def _child(job):
    code = 70
    try:
        begin_child(job["log"])
        os.environ.update(job["env"])
        os.environ["IMPORTMUT_FORKED"] = "1"  # the plugin may end the child as soon as results are written
        os.chdir(job["cwd"])
        sys.path.insert(0, job["cwd"])  # what `python -m pytest` does
        import pytest

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
    """Load pytest, the plugins and the dependencies; why the worker is unusable, or None."""
    _preload(["pytest", "tomllib"])
    _warm_up(packages, names)
    loaded = _project_modules(packages)
    if loaded:  # a plugin or a dependency imported the project: children would not import it fresh
        return f"loading the plugins and dependencies imported {loaded[0]}"
    return None


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
        say(answers, {"exit": os.waitstatus_to_exitcode(status)})


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
    a thread the fork would leave behind, a process they would all share, or a conftest.py's
    pytest_sessionstart (what it makes for a session would be made once for all of them, and the first
    child's pytest_sessionfinish could undo it under the next)."""
    if threads_in_the_way():
        return "the session started a thread"
    if _child_processes():
        return "the session started a process"
    for plugin in config.pluginmanager.get_plugins():
        path = str(getattr(plugin, "__file__", None) or "")
        if os.path.basename(path) == "conftest.py" and hasattr(plugin, "pytest_sessionstart"):
            return f"{path} has a pytest_sessionstart"
    return None


class _JobChild(Exception):
    """Raised in a child forked from the held session, to leave the serving loop and collect the job's tests."""

    def __init__(self, job):
        super().__init__()
        self.job = job


class _SessionHolder:
    """A plugin for the held session: where collection would begin, it forks a child per job instead."""

    def __init__(self, answers, packages, options, verdict):
        self.answers = answers
        self.jobs = os.fdopen(os.dup(0), "r")  # pytest's capturing takes sys.stdin away during the session
        self.packages = packages
        self.options = options
        self.verdict = verdict  # a pipe to the worker: "serving", or why not
        self.in_job = False

    def tell(self, message):
        os.write(self.verdict, message.encode("utf-8"))
        os.close(self.verdict)
        self.verdict = None

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection(self, session):
        """Serve the jobs before any plugin collects (a wrapper's first half runs before every implementation);
        in a job's child, let the session go on with the job's tests."""
        loaded = _project_modules(self.packages)
        problem = sharing_problem(session.config)
        if loaded:
            self.tell(f"the session imported {loaded[0]} before collecting (conftest.py or a plugin)")
            end_child(0)
        if problem:
            self.tell(problem)
            end_child(0)
        self.tell("serving")
        gc.collect()
        gc.freeze()
        try:
            serve(self.answers, self._start, self._refuse, self.jobs)
            end_child(0)  # stdin closed: every job is served
        except _JobChild as child:
            job = child.job
        self.in_job = True
        begin_child(job["log"], session.config)
        os.environ.update(job["env"])
        os.environ["IMPORTMUT_FORKED"] = "1"  # the plugin ends the child as soon as results are written
        session.config.args = job["args"][len(self.options):]
        yield

    def _refuse(self, job):
        if job["args"][:len(self.options)] != self.options or len(job["args"]) == len(self.options):
            return "the run's options are not the held session's"
        return None

    @staticmethod
    def _start(job):
        raise _JobChild(job)


def _hold_session(answers, packages, session, verdict):
    """In the forked holder: start the session; it returns only in a job's child whose session ended
    before the plugin's own end (or in a holder that never served)."""
    holder = _SessionHolder(answers, packages, session["options"], verdict)
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
        _hold_session(answers, packages, session, write_end)
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as verdict:
        why_not = verdict.read()
    if why_not == "serving":
        say(answers, {"ready": True, "session": True})
        os.waitpid(pid, 0)
        return None
    os.waitpid(pid, 0)
    return why_not or "the session holder ended before collection"


def main():
    answers = take_stdout()
    packages = [name for name in os.environ.get("IMPORTMUT_PACKAGES", "").split(",") if name]
    problem = warm(packages, json.loads(sys.argv[1]) if len(sys.argv) > 1 else [])
    if problem:
        say(answers, {"ready": False, "reason": problem})
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
