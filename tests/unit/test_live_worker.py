"""The live worker, driven by the runner: a session that imported the project once, with each mutant applied
to the imported module in a forked child; what it refuses, and that it then imports the mutant fresh."""

from __future__ import annotations

import sys

import pytest

from importmut.runner import PytestRunner

CLOCK = """\
import colorsys
import json
import time


def stamp():
    return time.time() > 0


def dump():
    return json.dumps(1)


def lazy():
    import textwrap
    return textwrap.dedent(" x")


def items():
    import textwrap
    yield textwrap.dedent(" y")


def shade():
    return colorsys.rgb_to_hsv(0, 0, 0)
"""
TESTS = """\
from myproj import clock


def test_stamp():
    assert clock.stamp()


def test_dump():
    assert clock.dump() == "1"


def test_lazy():
    assert clock.lazy() == "x"


def test_items():
    assert list(clock.items()) == ["y"]


def test_shade():
    assert clock.shade() == (0, 0, 0)
"""


def _start(tmp_path, tests=TESTS):
    """A project, and a runner whose live worker has collected its tests; and a function running one test
    with a live patch of myproj/clock.py."""
    (tmp_path / "myproj").mkdir()
    (tmp_path / "myproj" / "__init__.py").write_text("")
    (tmp_path / "myproj" / "clock.py").write_text(CLOCK)
    (tmp_path / "test_clock.py").write_text(tests)
    runner = PytestRunner(sys.executable, (), ("test_clock.py",), ["."], ["myproj"], isolation="live")
    extra = ["-x", "--tb=line", "--rootdir", str(tmp_path)]
    assert runner.start_live(tmp_path, extra), runner.warnings
    file = str(tmp_path / "myproj" / "clock.py")

    def run(test, delete=(), function="", source="", warm=()):
        job = {"modules": ["myproj.clock"], "file": file, "delete": list(delete), "function": function,
               "source": source, "warm": list(warm), "maybe_warm": []}
        return runner.run(tmp_path, extra_args=extra, select=(f"test_clock.py::{test}",), test_args=("test_clock.py",),
                          live=job, timeout=60)

    return runner, run


@pytest.fixture
def live(tmp_path):
    runner, run = _start(tmp_path)
    yield runner, run
    runner.close()


def test_a_deleted_global_fails_its_users_only_in_that_child(live):
    runner, run = live
    broken = run("test_stamp", delete=["time"])
    assert broken.failed == ["test_clock.py::test_stamp"]
    assert "name 'time' is not defined" in broken.tests["test_clock.py::test_stamp"].message
    assert "1 failed" in broken.output  # pytest's report reaches the child's own log, not the worker's
    assert run("test_dump", delete=["time"]).passed == ["test_clock.py::test_dump"]
    assert run("test_stamp").passed == ["test_clock.py::test_stamp"]  # the worker's module is untouched
    assert runner.live_runs == 3 and runner.refused == {}


def test_a_function_gets_its_mutated_code(live):
    runner, run = live
    localized = CLOCK.replace("import json\n", "").replace("def dump():\n", "def dump():\n    import json\n")
    assert run("test_dump", delete=["json"], function="dump", source=localized).passed == ["test_clock.py::test_dump"]
    assert run("test_dump", delete=["json"]).failed == ["test_clock.py::test_dump"]
    without = CLOCK.replace("def lazy():\n    import textwrap\n", "def lazy():\n")
    failed = run("test_lazy", function="lazy", source=without)
    assert "name 'textwrap' is not defined" in failed.tests["test_clock.py::test_lazy"].message
    assert runner.live_runs == 3


def test_what_the_worker_cannot_apply_faithfully_is_refused_and_imported_fresh(live):
    runner, run = live
    # colorsys was first imported by the project: another module may rely on this statement having loaded it
    fresh = run("test_shade", delete=["colorsys"], warm=["colorsys"])
    assert fresh.passed == ["test_clock.py::test_shade"]  # the fresh run imported the file on disk, unmutated
    without = CLOCK.replace("def items():\n    import textwrap\n", "def items():\n")
    assert run("test_items", function="items", source=without).passed == ["test_clock.py::test_items"]
    assert run("test_stamp", delete=["nothing"]).passed == ["test_clock.py::test_stamp"]
    assert runner.live_runs == 0
    reasons = " | ".join(runner.refused)
    assert "colorsys was first imported after the project" in reasons
    assert "items is a generator" in reasons
    assert "nothing is not bound in the imported module" in reasons


def test_a_module_imported_under_two_names_is_refused(tmp_path):
    """A fresh import of the mutant would change both copies; deleting the name from one would not."""
    twice = "import os\nimport sys\n\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'myproj'))\nimport clock\n" + TESTS
    runner, run = _start(tmp_path, twice.replace("from myproj import clock", "from myproj import clock as mine"))
    try:
        assert run("test_dump").passed == ["test_clock.py::test_dump"]
        assert runner.live_runs == 0 and list(runner.refused) == ["the module was imported under 2 names in the session"]
    finally:
        runner.close()


def test_a_logging_handler_made_while_the_tests_were_collected_still_writes_in_each_child(tmp_path):
    """A handler made while the live session collected holds that session's capture file: a child must not close
    it (every log call would print a logging error to stderr, and a test reading stderr would fail)."""
    logs = ("import logging\nimport sys\n\nLOG = logging.getLogger('clock')\n"
            "LOG.addHandler(logging.StreamHandler(sys.stderr))\nLOG.propagate = False\n\n\n"
            "def test_log(capsys):\n    LOG.warning('tick')\n"
            "    assert 'Logging error' not in capsys.readouterr().err\n")
    runner, run = _start(tmp_path, TESTS + "\n\n" + logs.replace("import logging\nimport sys\n\n", "import logging\nimport sys\n"))
    try:
        results = [run("test_log"), run("test_log")]
    finally:
        runner.close()
    assert [result.passed for result in results] == [["test_clock.py::test_log"]] * 2
    assert runner.live_runs == 2
