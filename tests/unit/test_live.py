"""Live patches: which mutants may be applied to a session that imported the project once, and how."""

from __future__ import annotations

import ast

from importmut.import_graph import read_attribute_reads
from importmut.live import module_bindings
from tests.unit.test_plan import make_project, planner

CLOCK = """\
import json
import time
from collections import Counter, OrderedDict


def stamp():
    return time.time()


def dump(value):
    return json.dumps(value)


def tally(items):
    return Counter(items), OrderedDict()


def lazy(text):
    import textwrap
    return textwrap.dedent(text)
"""
USES = {"src/pkg/clock.py": {7: {"tests/test_clock.py::test_stamp"}, 11: {"tests/test_clock.py::test_dump"},
                             15: {"tests/test_clock.py::test_tally"}, 19: {"tests/test_clock.py::test_lazy"},
                             20: {"tests/test_clock.py::test_lazy"}}}
TESTS = ["tests/test_clock.py::test_stamp", "tests/test_clock.py::test_dump", "tests/test_clock.py::test_tally",
         "tests/test_clock.py::test_lazy"]
TEST_FILE = "from pkg import clock\n"
OPERATORS = ("delete", "drop-name", "localize", "fallback")


def _plans(tmp_path, files, lines=USES):
    mutants, graph = make_project(tmp_path, {"tests/test_clock.py": TEST_FILE, **files}, OPERATORS)
    plan = planner(graph, TESTS, lines)
    return {mutant_id: plan.plan(mutant) for mutant_id, mutant in mutants.items()}


def test_a_module_level_import_used_only_in_functions_is_deleted_from_the_module(tmp_path):
    plans = _plans(tmp_path, {"src/pkg/clock.py": CLOCK})
    live = plans["src/pkg/clock.py::delete::<module>::time"].live
    assert live is not None
    assert (live.modules, live.delete, live.function, live.warm) == (("pkg.clock",), ("time",), "", ("time",))
    dropped = plans["src/pkg/clock.py::drop-name::<module>::Counter"].live
    assert dropped.delete == ("Counter",) and dropped.warm == ("collections",)
    assert dropped.maybe_warm == ("collections.Counter", "collections.OrderedDict")
    assert plans["src/pkg/clock.py::delete::<module>::Counter,OrderedDict"].live.delete == ("Counter", "OrderedDict")


def test_a_moved_import_also_swaps_the_receiving_functions_code(tmp_path):
    plans = _plans(tmp_path, {"src/pkg/clock.py": CLOCK.replace("def stamp():\n    return time.time()",
                                                                "def stamp():\n    return json, time.time()")})
    live = plans["src/pkg/clock.py::localize::stamp::json"].live
    assert (live.delete, live.function) == (("json",), "stamp")
    job = live.job("/sandbox/src/pkg/clock.py", "mutated text")
    assert job["function"] == "stamp" and job["source"] == "mutated text" and job["delete"] == ["json"]


def test_an_import_inside_a_function_swaps_that_functions_code_unless_it_ran_at_import_time(tmp_path):
    plans = _plans(tmp_path, {"src/pkg/clock.py": CLOCK})
    live = plans["src/pkg/clock.py::delete::lazy::textwrap"].live
    assert (live.delete, live.function, live.warm) == ((), "lazy", ())
    assert live.job("f", "text")["source"] == "text"
    at_import = {"src/pkg/clock.py": {**USES["src/pkg/clock.py"], 19: {"", "tests/test_clock.py::test_lazy"}}}
    plans = _plans(tmp_path / "again", {"src/pkg/clock.py": CLOCK}, at_import)
    assert plans["src/pkg/clock.py::delete::lazy::textwrap"].live is None


def test_a_name_bound_twice_or_declared_global_or_a_file_binding_by_computed_names_is_imported_fresh(tmp_path):
    cases = {
        "rebound": CLOCK + "\ntime = None\n",
        "in a loop": CLOCK + "\nfor time in ():\n    pass\n",
        "global": CLOCK + "\n\ndef reset():\n    global time\n    time = None\n",
        "star": CLOCK + "\nfrom os.path import *\n",
        "globals()": CLOCK + "\nglobals()['x'] = 1\n",
    }
    for index, (case, text) in enumerate(cases.items()):
        plans = _plans(tmp_path / str(index), {"src/pkg/clock.py": text})
        assert plans["src/pkg/clock.py::delete::<module>::time"].live is None, case
        assert plans["src/pkg/clock.py::delete::lazy::textwrap"].live is not None, case


def test_another_file_that_may_read_the_name_while_the_tests_are_collected_makes_it_fresh(tmp_path):
    reader = {"src/pkg/reader.py": "from pkg import clock\n\nNOW = clock.time.time()\n", "src/pkg/clock.py": CLOCK}
    lines = {**USES, "src/pkg/reader.py": {1: {""}, 3: {""}}}
    assert _plans(tmp_path / "read", reader, lines)["src/pkg/clock.py::delete::<module>::time"].live is None
    # the same read, but only ever run by a test: the mutant's runs see it fail as a fresh import would
    later = {**USES, "src/pkg/reader.py": {1: {""}, 3: {"tests/test_clock.py::test_stamp"}}}
    assert _plans(tmp_path / "later", reader, later)["src/pkg/clock.py::delete::<module>::time"].live is not None
    # a test file that imports the name from the module (a re-export)
    files = {"src/pkg/clock.py": CLOCK, "tests/test_reexport.py": "from pkg.clock import time\n"}
    assert _plans(tmp_path / "from", files)["src/pkg/clock.py::delete::<module>::time"].live is None


def test_import_time_mutants_and_forced_fallbacks_are_imported_fresh(tmp_path):
    text = "import logging\ntry:\n    import ujson as json\nexcept ImportError:\n    json = None\n\n" \
           "LOG = logging.getLogger(__name__)\n\n\ndef dump(value):\n    return json.dumps(value)\n"
    plans = _plans(tmp_path, {"src/pkg/clock.py": text}, {"src/pkg/clock.py": {7: {""}}})
    assert plans["src/pkg/clock.py::delete::<module>::logging"].live is None
    assert plans["src/pkg/clock.py::fallback::<module>::json"].live is None
    assert plans["src/pkg/clock.py::delete::<module>::json"].live is None  # inside `try`: not the module body


def test_an_import_of_a_project_module_is_live_only_when_nothing_stops_being_imported(tmp_path):
    files = {"src/pkg/clock.py": CLOCK.replace("import json\n", "import json\nfrom pkg import util\n")
             .replace("return time.time()", "return util.now(time.time())"),
             "src/pkg/util.py": "def now(value):\n    return value\n"}
    lines = {"src/pkg/clock.py": {8: {"tests/test_clock.py::test_stamp"}}}
    assert _plans(tmp_path / "lost", files, lines)["src/pkg/clock.py::delete::<module>::util"].live is None
    files["src/pkg/__init__.py"] = "from . import util\n"  # the package imports it before clock's body runs
    live = _plans(tmp_path / "kept", files, lines)["src/pkg/clock.py::delete::<module>::util"].live
    assert live is not None and live.warm == ()


def test_module_bindings_counts_each_statement_that_binds_a_name_in_the_module_body():
    tree = ast.parse("import a, b.c\nfrom d import e as f\nx = y = 1\ndef g():\n    h = 1\nclass K:\n    m = 1\n"
                     "for i in (): pass\ntry: pass\nexcept E as err: pass\nwith w() as v: pass\nif 1:\n    x += 1\n"
                     "def n():\n    global q\n")
    bound = module_bindings(tree)
    assert {name: bound[name] for name in "a b f x y g K i err v q".split()} == \
        {"a": 1, "b": 1, "f": 1, "x": 2, "y": 1, "g": 1, "K": 1, "i": 1, "err": 1, "v": 1, "q": 2}
    assert bound["h"] == 0 and bound["m"] == 0 and bound["c"] == 0


def test_attribute_reads_are_found_with_their_lines():
    text = "import m\nx = m.time\ny = getattr(m, 'clock')\nz = vars(m)['json']\nw = (\n    m.\n    os)\n"
    reads = read_attribute_reads(ast.parse(text))
    assert reads["time"] == {2} and reads["clock"] == {3} and reads["json"] == {4} and reads["os"] == {5, 6}
    assert "m" not in reads and "getattr" not in reads
