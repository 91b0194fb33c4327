"""A warm worker: imports pytest, its installed plugins and the project's third-party dependencies once,
and runs one empty pytest session, then forks a child per mutant, in which pytest imports the project's
own modules fresh from the sandbox.

It is copied next to the pytest plugin and started with the test interpreter, so it may use only the
standard library (and pytest, once started). Protocol, one JSON object per line: importmut writes a
job `{"args": [...], "env": {...}, "cwd": "...", "log": "..."}` to stdin; the worker answers
`{"pid": N}` when the child starts and `{"exit": CODE}` when it ends. The child leads a process group
of its own, so a timeout kills it and everything it started.
"""

import gc
import json
import os
import shutil
import sys
import tempfile


def _entry_point_plugins(packages):
    """The modules of the pytest plugins installed in this interpreter (entry points of group pytest11),
    which pytest would import in every child; never the project's own (those must be imported fresh)."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return []
    try:
        from importlib.metadata import entry_points

        found = entry_points(group="pytest11")
    except Exception:  # noqa: BLE001 - no plugin list: the children import them as usual
        return []
    modules = []
    for entry in found:
        module = entry.value.split(":")[0].strip()
        if module and module.split(".")[0] not in packages and module not in modules:
            modules.append(module)
    return modules


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


def _warm_up():
    """Run one pytest session on an empty folder, so that what pytest imports and compiles only while it
    runs (its option parser, config file reader, regular expressions) is done once here rather than in
    every child. Nothing of the project is seen: no plugin is loaded by entry point, no conftest.py, no
    option from the environment; output goes nowhere (the worker's stdout carries its answers)."""
    folder = tempfile.mkdtemp(prefix="importmut-warm-up-")
    config = os.path.join(folder, "pyproject.toml")
    saved_env = {key: os.environ.pop(key) for key in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS") if key in os.environ}
    saved_autoload = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    saved_fds = [os.dup(1), os.dup(2)]
    saved_cwd = os.getcwd()
    try:
        with open(config, "w", encoding="utf-8") as handle:
            handle.write("[tool.pytest.ini_options]\n")
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        os.chdir(folder)
        import pytest

        pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", folder, "-c", config, folder])
    except BaseException:  # noqa: BLE001 - a warm-up that fails only leaves the children more to do
        pass
    finally:
        os.chdir(saved_cwd)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)
        if saved_autoload is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved_autoload
        os.environ.update(saved_env)
        shutil.rmtree(folder, ignore_errors=True)


def _child(job):
    code = 70
    try:
        os.setsid()
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
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
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(code)


def main():
    packages = [name for name in os.environ.get("IMPORTMUT_PACKAGES", "").split(",") if name]
    preload = json.loads(sys.argv[1]) if len(sys.argv) > 1 else []
    _preload(["pytest", "tomllib"] + _entry_point_plugins(packages) + preload)
    _warm_up()
    # Children never free what the worker preloaded: kept out of the collector's sight, it is not walked by
    # each child's collections (whose walks would also copy the worker's memory pages).
    gc.collect()
    gc.freeze()
    answers = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(job)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
