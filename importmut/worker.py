"""A warm worker: runs one pytest session on an empty folder, which loads pytest, its installed plugins
and the project's third-party dependencies once, then forks a child per mutant, in which pytest imports
the project's own modules fresh from the sandbox.

It is copied next to the pytest plugin and started with the test interpreter, so it may use only the
standard library (and pytest, once started). Protocol, one JSON object per line: importmut writes a
job `{"args": [...], "env": {...}, "cwd": "...", "log": "..."}` to stdin; the worker answers
`{"pid": N}` when the child starts and `{"exit": CODE}` when it ends. Its first line says whether it is
ready: `{"ready": true}`, or `{"ready": false, "reason": "..."}` when preloading imported the project
itself (it then exits, and importmut starts a fresh process per run instead). The child leads a process group
of its own, so a timeout kills it and everything it started.
"""

import gc
import json
import os
import shutil
import sys
import tempfile


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


def begin_child(log_path):
    """In a forked child: a session of its own (a timeout kills its whole group), output to its log."""
    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)


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
    say(answers, {"ready": True})
    serve(answers, _child)


if __name__ == "__main__":
    main()
