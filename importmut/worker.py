"""A warm worker: imports pytest and the project's third-party dependencies once, then forks a child
per mutant, in which pytest imports the project's own modules fresh from the sandbox.

It is copied next to the pytest plugin and started with the test interpreter, so it may use only the
standard library (and pytest, once started). Protocol, one JSON object per line: importmut writes a
job `{"args": [...], "env": {...}, "cwd": "...", "log": "..."}` to stdin; the worker answers
`{"pid": N}` when the child starts and `{"exit": CODE}` when it ends. The child leads a process group
of its own, so a timeout kills it and everything it started.
"""

import gc
import json
import os
import sys


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
    _preload(["pytest"] + (json.loads(sys.argv[1]) if len(sys.argv) > 1 else []))
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
