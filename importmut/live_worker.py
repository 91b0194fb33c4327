"""A live worker: loads pytest, the plugins and the dependencies as a warm worker does (worker.py), then runs
one pytest session in the sandbox that imports the project and collects the tests once, and, instead of
running them, forks a child per mutant. The child takes the mutant's names out of the imported module's
globals and, for an import moved into a function or one inside a function, gives that function its mutated
code; then it runs the selected tests of that session, in order, stopping at the first failure. Which mutants may be tested so is decided
by importmut (live.py); this worker refuses a job it cannot apply faithfully, and importmut then imports the
mutant fresh in a warm worker's child.

It is copied next to the warm worker and the pytest plugin, and may use only the standard library, pytest
and those two. Its arguments: the modules to preload and the session's pytest arguments, as JSON. Protocol
as the warm worker's, plus the answer `{"refused": "why"}`. A job: `{"modules": [...], "file": "...",
"delete": [...], "function": "", "source": "", "warm": [...], "maybe_warm": [...], "tests": [...],
"results": "...", "log": "..."}`.
"""

import gc
import inspect
import json
import os
import sys
import types

import _importmut_worker as worker
import pytest

PLUGIN_MODULE = "_importmut_pytest_plugin"


def _code_objects(code):
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _function(module, qualname):
    """The function object a qualified name (`f`, `Cls.method`) defines in the module, decorators unwrapped."""
    target = module
    for part in qualname.split("."):
        try:
            target = vars(target)[part]
        except (KeyError, TypeError):
            return None
    for _ in range(20):
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
        elif isinstance(target, types.FunctionType) and target.__code__.co_qualname == qualname:
            return target
        elif hasattr(target, "__wrapped__"):
            target = target.__wrapped__
        else:
            return None
    return None


def _mutated_code(module, qualname, source):
    """(function, its mutated code object), or why the function's code cannot be swapped."""
    if not hasattr(types.CodeType, "co_qualname"):
        return "moving an import into a function needs Python 3.11 to find the function's code"
    try:
        compiled = compile(source, module.__file__, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return f"the mutated file does not compile: {error}"
    found = [code for code in _code_objects(compiled) if code.co_qualname == qualname]
    function = _function(module, qualname)
    if len(found) != 1 or function is None:
        return f"{qualname} is not one plain function of the module"
    if function.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
                                     | inspect.CO_ITERABLE_COROUTINE):
        return (f"{qualname} is a generator or a coroutine function: one made while the tests were collected "
                f"would keep the old code")
    if found[0].co_freevars != function.__code__.co_freevars:
        return f"{qualname}'s mutated code needs other closure variables"
    return function, found[0]


class _Server:
    """A plugin for the live session: once the tests are collected, it serves mutants instead of running them."""

    def __init__(self, answers, jobs):
        self.answers = answers
        self.jobs = jobs  # the worker's stdin: pytest's capturing takes sys.stdin away during the session
        self.warm = frozenset(sys.modules)  # loaded before the project
        self.started = False
        self.problem = ""  # why the session cannot serve mutants
        self.session = None
        self.items = {}
        self.names_of = {}  # file -> the names it was imported under in the session
        self.job_patch = None  # the module and function patch of the job being forked

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.testsfailed:  # collection errors: no session to serve from
            return None
        problem = worker.sharing_problem(session.config)
        if problem:
            self.problem = f"the live session cannot be forked: {problem}"
            return None
        self.started = True
        self.session = session
        self.items = {item.nodeid: item for item in session.items}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                self.names_of.setdefault(os.path.realpath(path), []).append(name)
        gc.collect()
        gc.freeze()  # the children share the session's memory; their collections need not walk it
        worker.say(self.answers, {"ready": True})
        worker.serve(self.answers, self._child, self._refuse, self.jobs)
        os._exit(0)

    def _refuse(self, job):
        """Why a job cannot be applied to this session faithfully, or None (then its patch is ready)."""
        names = self.names_of.get(os.path.realpath(job["file"]), [])
        if len(names) > 1:  # a fresh import of the mutant would change every copy
            return f"the module was imported under {len(names)} names in the session"
        module = sys.modules.get(names[0]) if names and names[0] in job["modules"] else None
        if module is None:
            return "the module was not imported from the sandbox in the session"
        missing = [name for name in job["delete"] if name not in vars(module)]
        if missing:
            return f"{missing[0]} is not bound in the imported module"
        submodules = [name for name in job["delete"] if f"{module.__name__}.{name}" in sys.modules]
        if submodules:  # importing the submodule binds the name in its package anyway
            return f"{submodules[0]} is also a submodule of {module.__name__}"
        cold = [name for name in job["warm"] if name not in self.warm]
        cold += [name for name in job["maybe_warm"] if name in sys.modules and name not in self.warm]
        if cold:
            return f"{cold[0]} was first imported after the project: it may have been loaded for others"
        unknown = [test for test in job["tests"] if test not in self.items]
        if unknown:
            return f"{unknown[0]} was not collected in the session"
        doctests = [test for test in job["tests"] if hasattr(self.items[test], "dtest")]
        if doctests:  # a doctest runs in a copy of the module's globals, taken while it was collected
            return f"{doctests[0]} is a doctest"
        function = None
        if job["function"]:
            function = _mutated_code(module, job["function"], job["source"])
            if isinstance(function, str):
                return function
        self.job_patch = (module, function)
        return None

    def _child(self, job):
        code = 70
        try:
            worker.begin_child(job["log"], self.session.config)
            module, function = self.job_patch
            for name in job["delete"]:
                delattr(module, name)
            if function is not None:
                function[0].__code__ = function[1]
            session = self.session
            selected = [self.items[test] for test in job["tests"]]
            for index, item in enumerate(selected):
                following = selected[index + 1] if index + 1 < len(selected) else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
                if session.shouldfail or session.shouldstop:
                    break
            code = session.exitstatus = 1 if session.testsfailed else 0
            # conftest.py and plugins may still change the exit status, as at the end of any session
            session.config.hook.pytest_sessionfinish(session=session, exitstatus=code)
            code = int(session.exitstatus)
            sys.modules[PLUGIN_MODULE].write_results(job["results"], session, code)
        except BaseException:  # noqa: BLE001 - report it; the child must never return into the worker loop
            import traceback

            traceback.print_exc()
        finally:
            worker.end_child(code)


def main():
    answers = worker.take_stdout()
    packages = [name for name in os.environ.get("IMPORTMUT_PACKAGES", "").split(",") if name]
    unusable = worker.warm(packages, json.loads(sys.argv[1]))
    if unusable:
        worker.say(answers, unusable)
        return
    server = _Server(answers, os.fdopen(os.dup(0), "r"))
    sys.path.insert(0, os.getcwd())  # what `python -m pytest` does
    try:
        code = pytest.main(json.loads(sys.argv[2]), plugins=[server])
    except BaseException as error:  # noqa: BLE001 - any failure only means no live session
        code = repr(error)
    if not server.started:
        reason = server.problem or f"the test session of the live worker did not start (pytest: {code})"
        worker.say(answers, {"ready": False, "reason": reason})


if __name__ == "__main__":
    main()
