"""The plan: which tests each mutant needs, from a hand-made coverage map and the import graph of small projects."""

from __future__ import annotations

import textwrap

import pytest

from importmut import import_graph
from importmut.config import load_config
from importmut.coverage_map import CoverageMap
from importmut.mutants import collect
from importmut.plan import Planner


def make_project(root, files, operators=("delete",)):
    """Write a src-layout project under `root`; return its mutants by id and its import graph."""
    pyproject = (
        '[tool.importmut]\npaths = ["src/pkg"]\ntests = ["tests"]\n'
        f"operators = [{', '.join(repr(name) for name in operators)}]\n"
    ).replace("'", '"')
    for relpath, text in {"pyproject.toml": pyproject, "src/pkg/__init__.py": "", **files}.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    mutants = {mutant.id: mutant for mutant in collect(load_config(root)).mutants}
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    return mutants, graph


def planner(graph, tests, lines=None, durations=None, module_runs=None):
    """A planner for test ids named `file::function`; `lines` maps relpath -> line -> test ids ("" = import time);
    `module_runs` maps relpath -> (first, last, count) of the module body's runs in the baseline."""
    coverage = CoverageMap({
        path: {line: frozenset(ids) for line, ids in by_line.items()} for path, by_line in (lines or {}).items()
    })
    test_files = {nodeid: nodeid.split("::")[0] for nodeid in tests}
    return Planner(coverage, graph, test_files, durations or {}, module_runs=module_runs)


# --- selection by coverage --------------------------------------------------------------------

JSON_MODULE = """\
import json


def dump(value):
    return json.dumps(value)


def load(text):
    return json.loads(text)


def other():
    return 1
"""
CONTINUED = """\
import json


def build(value):
    result = dict(
        text=json.dumps(value),
    )
    return result
"""
UNTESTED = """\
\"\"\"Helpers.\"\"\"
import json
import os


def dump(value):
    return json.dumps(value)
def load(text):
    return json.loads(text)


def home():
    return os.sep
"""
SAME_LINE = """\
import json


def roundtrip(value):
    return json.loads(json.dumps(value))
"""
DUMP, OTHER, LOAD = "tests/test_a.py::test_dump", "tests/test_a.py::test_other", "tests/test_b.py::test_load"
BUILD, UNTESTED_TEST = "tests/test_c.py::test_build", "tests/test_c.py::test_untested"
JSON_LINES = {"src/pkg/mod.py": {
    1: [""], 4: [""], 8: [""], 12: [""],  # the import and the defs ran while the tests were collected
    5: [DUMP], 9: [LOAD], 13: [OTHER],
}}


@pytest.fixture(scope="module")
def covered(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("covered"), {
        "src/pkg/mod.py": JSON_MODULE,
        "src/pkg/continued.py": CONTINUED,
        "src/pkg/untested.py": UNTESTED,
        "src/pkg/same_line.py": SAME_LINE,
        "tests/test_a.py": "from pkg.mod import dump, other\n",
        "tests/test_b.py": "from pkg.mod import load\n",
        "tests/test_c.py": "import pkg.continued, pkg.untested, pkg.same_line\n",
    })


def test_only_the_tests_that_execute_a_use_are_selected_fastest_first(covered):
    mutants, graph = covered
    plan = planner(graph, [DUMP, OTHER, LOAD], JSON_LINES, {DUMP: 0.5, LOAD: 0.1, OTHER: 0.01}).plan(
        mutants["src/pkg/mod.py::delete::<module>::json"])
    assert plan.tests == (LOAD, DUMP)  # test_other imports the module but runs no use
    assert plan.import_time is False
    assert plan.reason == ""


def test_the_order_follows_the_durations_with_unknown_ones_first_and_ties_by_id(covered):
    mutants, graph = covered
    mutant = mutants["src/pkg/mod.py::delete::<module>::json"]
    tests = [DUMP, OTHER, LOAD]
    assert planner(graph, tests, JSON_LINES, {DUMP: 0.1, LOAD: 0.5}).plan(mutant).tests == (DUMP, LOAD)
    assert planner(graph, tests, JSON_LINES, {DUMP: 0.1}).plan(mutant).tests == (LOAD, DUMP)
    assert planner(graph, tests, JSON_LINES, {DUMP: 0.2, LOAD: 0.2}).plan(mutant).tests == (DUMP, LOAD)


def test_a_use_on_a_continuation_line_counts_as_its_statements_first_line(covered):
    mutants, graph = covered
    # coverage.py reports the statement `result = dict(...)` on its first line (5), not on the use's line (6)
    lines = {"src/pkg/continued.py": {1: [""], 4: [""], 5: [BUILD], 8: [BUILD]}}
    plan = planner(graph, [BUILD, UNTESTED_TEST], lines).plan(mutants["src/pkg/continued.py::delete::<module>::json"])
    assert plan.tests == (BUILD,)
    assert plan.import_time is False


def test_no_test_executing_a_use_means_no_tests_and_a_reason_naming_the_lines(covered):
    mutants, graph = covered
    lines = {"src/pkg/untested.py": {1: [""], 2: [""], 3: [""], 6: [""], 8: [""], 12: [""]}}
    plan = planner(graph, [UNTESTED_TEST], lines).plan(mutants["src/pkg/untested.py::delete::<module>::json"])
    assert plan.tests == ()
    assert plan.import_time is False
    assert plan.reason == "no test executes any line that uses the name (lines 7, 9)"
    plan = planner(graph, [UNTESTED_TEST], lines).plan(mutants["src/pkg/untested.py::delete::<module>::os"])
    assert plan.tests == ()
    assert plan.reason == "no test executes any line that uses the name (line 13)"


def test_two_unexecuted_uses_on_one_line_are_named_as_one_line(covered):
    mutants, graph = covered
    lines = {"src/pkg/same_line.py": {1: [""], 4: [""]}}
    plan = planner(graph, [UNTESTED_TEST], lines).plan(mutants["src/pkg/same_line.py::delete::<module>::json"])
    assert plan.tests == ()
    assert plan.reason == "no test executes any line that uses the name (line 5)"


# --- import time (one project: each module below is imported by the same tests) --------------

CALLED = """\
import os


def home():
    return os.path.expanduser("~")


HOME = home()
"""
SIDE_EFFECTS = """\
from pkg import registry
from . import plugins
import json


def lookup(name):
    return registry.PLUGINS[name], json
"""
STAR = "from os.path import *\n\n\ndef f():\n    return join('a', 'b')\n"
LOCAL = """\
def name():
    from pkg import plugins

    return plugins.NAME
"""
FALLBACKS = """\
try:
    import ujson as json
except ImportError:
    import json


def dump(value):
    return json.dumps(value)


def load_yaml(text):
    try:
        import yaml
    except ImportError:
        return None
    return yaml.safe_load(text)


try:
    import simdjson
except ImportError:
    simdjson = None
    print("simdjson missing: the slow path")


def fast():
    return simdjson
"""
UNUSED = "import json\nimport os\n\nSEP = os.sep\n"
# the handler only rebinds the name, but to a module of the project, whose body then runs
PROJECT_FALLBACK = """\
try:
    import orjson
except ImportError:
    from pkg import unused as orjson


def dumps(value):
    return orjson.dumps(value)
"""
IMPORTED = {"called": CALLED, "side_effects": SIDE_EFFECTS, "star": STAR, "local": LOCAL, "fallbacks": FALLBACKS,
            "unused": UNUSED, "project_fallback": PROJECT_FALLBACK}

DIRECT, INDIRECT, LATE, UNDER = ("tests/test_direct.py::test_direct", "tests/test_indirect.py::test_indirect",
                                 "tests/test_late.py::test_late", "tests/sub/deeper/test_under.py::test_under")
BESIDE = "tests/other/test_beside.py::test_beside"
ALL_TESTS = [DIRECT, INDIRECT, LATE, UNDER, BESIDE]
IMPORTING = {DIRECT, INDIRECT, LATE, UNDER}  # BESIDE imports pkg, but none of the modules above


@pytest.fixture(scope="module")
def importers(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("importers"), {
        **{f"src/pkg/{name}.py": source for name, source in IMPORTED.items()},
        "src/pkg/orphan.py": "import json\n",  # no test imports it
        "src/pkg/rooted.py": "import os\n\nSEP = os.sep\n",  # only the root conftest.py imports it
        "conftest.py": "import pkg.rooted\n",
        "src/pkg/registry.py": "PLUGINS = {}\n",
        "src/pkg/plugins.py": "from .registry import PLUGINS\n\nNAME = 'plugins'\nPLUGINS['shout'] = str.upper\n",
        "src/pkg/api.py": f"from pkg import {', '.join(IMPORTED)}\n",
        "tests/test_direct.py": "".join(f"import pkg.{name}\n" for name in IMPORTED),
        "tests/test_indirect.py": "from pkg.api import called\n",
        "tests/test_late.py": "def test_late():\n    import pkg.api\n",
        "tests/sub/conftest.py": "from pkg import api\n",
        "tests/sub/deeper/test_under.py": "",
        "tests/other/test_beside.py": "import pkg.registry\n",
    }, operators=("delete", "hoist", "fallback"))


def test_a_use_executed_at_import_time_selects_every_test_importing_the_module(importers):
    mutants, graph = importers
    mutant = mutants["src/pkg/called.py::delete::<module>::os"]
    # line 5 ran while the test files were collected (context ""), and again in test_direct
    lines = {"src/pkg/called.py": {1: [""], 4: [""], 5: ["", DIRECT], 8: [""]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutant)
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True
    # the same use run by a test only is not import time
    lines = {"src/pkg/called.py": {1: [""], 4: [""], 5: [DIRECT], 8: [""]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutant)
    assert plan.tests == (DIRECT,)
    assert plan.import_time is False


def test_a_module_level_use_is_import_time_even_without_coverage(importers):
    mutants, graph = importers
    plan = planner(graph, ALL_TESTS).plan(mutants["src/pkg/unused.py::delete::<module>::os"])  # line 4
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True


def test_a_module_level_import_of_a_project_module_acts_at_import_time(importers):
    mutants, graph = importers
    lines = {"src/pkg/side_effects.py": {1: [""], 2: [""], 3: [""], 6: [""], 7: [DIRECT]}}
    # `plugins` is never used: it is imported to register the plugins
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/side_effects.py::delete::<module>::plugins"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True
    assert plan.first == ()  # no test executes a use: nothing likelier to kill than the rest
    # `registry` has a use, run by one test, but this import may be the one that loads it
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/side_effects.py::delete::<module>::registry"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True
    # the test that runs the use goes first, on its own: the other three files need not be imported for a kill
    assert plan.first == (DIRECT,)
    # the standard library is not the project: only the test that runs the use
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/side_effects.py::delete::<module>::json"])
    assert plan.tests == (DIRECT,)
    assert plan.import_time is False
    assert plan.first == ()


def test_an_import_of_what_an_earlier_statement_surely_imported_does_not_act_at_import_time(tmp_path):
    tests = ["tests/test_api.py::test_api", "tests/test_use.py::test_use"]
    mutants, graph = make_project(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/registry.py": "PLUGINS = {}\n\n\ndef helper():\n    return 1\n",
        "src/pkg/plugins.py": "from .registry import PLUGINS\n\nPLUGINS['shout'] = str.upper\n",
        # line 3 finds registry imported by plugins (line 1); line 4 runs before anything imports it
        "src/pkg/api.py": "from pkg import plugins\n\nfrom pkg.registry import helper\nfrom pkg import late\n\n\n"
                          "def use():\n    return helper(), late\n",
        "src/pkg/late.py": "from pkg import registry, plugins\n",
        "tests/test_api.py": "import pkg.api\n\n\ndef test_api():\n    pass\n",
        "tests/test_use.py": "from pkg.api import use\n\n\ndef test_use():\n    use()\n",
    }, operators=("delete", "drop-name"))
    lines = {"src/pkg/api.py": {1: [""], 3: [""], 4: [""], 7: [""], 8: [tests[1]]}}
    plan = planner(graph, tests, lines).plan(mutants["src/pkg/api.py::delete::<module>::helper"])
    assert plan.tests == (tests[1],)  # only the test that uses the name
    assert plan.import_time is False
    plan = planner(graph, tests, lines).plan(mutants["src/pkg/api.py::delete::<module>::late"])
    assert set(plan.tests) == set(tests)  # late.py is imported by this statement only
    assert plan.import_time is True
    # dropping one name of two: the statement still imports the module
    plan = planner(graph, tests, {"src/pkg/late.py": {1: [""]}}).plan(
        mutants["src/pkg/late.py::drop-name::<module>::registry"])
    assert plan.import_time is True  # `registry` is a submodule: dropping it stops importing registry.py
    mutants, graph = make_project(tmp_path / "names", {
        "src/pkg/__init__.py": "",
        "src/pkg/tools.py": "def a():\n    return 1\n\n\ndef b():\n    return 2\n",
        "src/pkg/mod.py": "from pkg.tools import a, b\n\n\ndef f():\n    return a() + b()\n",
        "tests/test_mod.py": "import pkg.mod\n\n\ndef test_mod():\n    pass\n",
    }, operators=("delete", "drop-name"))
    plan = planner(graph, ["tests/test_mod.py::test_mod"]).plan(mutants["src/pkg/mod.py::drop-name::<module>::a"])
    assert plan.import_time is False  # `a` is a function: tools.py is still imported, for `b`
    assert plan.tests == ()
    plan = planner(graph, ["tests/test_mod.py::test_mod"]).plan(mutants["src/pkg/mod.py::delete::<module>::a,b"])
    assert plan.import_time is True


def test_an_import_of_a_module_the_baseline_ran_before_the_importing_one_does_not_act_at_import_time(importers):
    mutants, graph = importers
    lines = {"src/pkg/side_effects.py": {1: [""], 2: [""], 3: [""], 6: [""], 7: [DIRECT]}}
    registry = mutants["src/pkg/side_effects.py::delete::<module>::registry"]

    def plan(**runs):
        files = {f"src/pkg/{name}.py": ordinals for name, ordinals in runs.items()}
        return planner(graph, ALL_TESTS, lines, module_runs=files).plan(registry)

    # a test file imported registry.py before anything imported side_effects.py: in a session of the whole
    # suite the statement only binds the name, so only the test that runs its use can notice
    assert plan(registry=(3, 3, 1), side_effects=(5, 5, 1)).tests == (DIRECT,)
    assert plan(registry=(3, 3, 1), side_effects=(5, 5, 1)).import_time is False
    # side_effects.py imported registry.py first: removing the import may lose what registry.py's body does
    assert set(plan(registry=(6, 6, 1), side_effects=(5, 5, 1)).tests) == IMPORTING
    # registry.py ran first, and again after a test dropped it from sys.modules: that may be this statement's
    assert plan(registry=(3, 7, 2), side_effects=(5, 5, 1)).import_time is True
    # side_effects.py ran twice: a test may have put a stub (or None) in sys.modules for registry before the second
    assert plan(registry=(3, 3, 1), side_effects=(5, 9, 2)).import_time is True
    # both first imported while the tests ran (one ordinal): their order may change from one session to the next
    assert plan(registry=(9, 9, 1), side_effects=(9, 9, 1)).import_time is True
    # side_effects.py itself was never run in the baseline, or the baseline did not say: as before
    assert plan(registry=(3, 3, 1)).import_time is True
    assert plan().import_time is True


def test_a_module_level_star_import_acts_at_import_time(importers):
    mutants, graph = importers
    lines = {"src/pkg/star.py": {1: [""], 4: [""], 5: [DIRECT]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/star.py::delete::<module>::*"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True


def test_a_function_level_import_acts_at_import_time_only_when_hoisted(importers):
    mutants, graph = importers
    lines = {"src/pkg/local.py": {1: [""], 2: [DIRECT], 4: [DIRECT]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/local.py::delete::name::plugins"])
    assert plan.tests == (DIRECT,)
    assert plan.import_time is False
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/local.py::hoist::name::plugins"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True


def test_a_forced_fallback_is_import_time_at_module_level_unless_it_only_rebinds_the_name(importers):
    mutants, graph = importers
    lines = {"src/pkg/fallbacks.py": {1: [""], 2: [""], 3: [""], 4: [""], 7: [""], 8: [DIRECT], 11: [""],
                                      12: [INDIRECT], 13: [INDIRECT], 14: [INDIRECT], 15: [INDIRECT], 16: [DIRECT]}}
    lines["src/pkg/fallbacks.py"].update({20: [""], 21: [""], 27: [""], 28: [INDIRECT]})
    # the handler runs code of its own (a call): forcing it changes what importing the module does
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/fallbacks.py::fallback::<module>::simdjson"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True
    # the handler only rebinds the name: only the tests that use it can tell
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/fallbacks.py::fallback::<module>::json"])
    assert plan.tests == (DIRECT,)
    assert plan.import_time is False
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/fallbacks.py::fallback::load_yaml::yaml"])
    assert plan.tests == (DIRECT,)
    assert plan.import_time is False


def test_a_forced_fallback_importing_a_project_module_is_import_time(importers):
    mutants, graph = importers
    lines = {"src/pkg/project_fallback.py": {1: [""], 2: [""], 3: [""], 4: [""], 7: [""], 8: [DIRECT]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/project_fallback.py::fallback::<module>::orjson"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is True


def test_an_unused_import_selects_the_tests_importing_its_module(importers):
    mutants, graph = importers
    lines = {"src/pkg/unused.py": {1: [""], 2: [""], 4: [""]}}
    plan = planner(graph, ALL_TESTS, lines).plan(mutants["src/pkg/unused.py::delete::<module>::json"])
    assert set(plan.tests) == IMPORTING
    assert plan.import_time is False
    assert plan.reason == ""


def test_an_unused_import_in_a_module_no_test_imports_has_no_tests(importers):
    mutants, graph = importers
    plan = planner(graph, ALL_TESTS, {"src/pkg/orphan.py": {1: [""]}}).plan(
        mutants["src/pkg/orphan.py::delete::<module>::json"])
    assert plan.tests == ()
    assert plan.import_time is False
    assert plan.reason == "no test imports the module"


def test_a_root_conftest_importing_the_module_selects_every_test(importers):
    mutants, graph = importers
    plan = planner(graph, ALL_TESTS).plan(mutants["src/pkg/rooted.py::delete::<module>::os"])
    assert set(plan.tests) == set(ALL_TESTS)
    assert plan.import_time is True


def test_a_module_pytest_imports_before_any_test_file_selects_every_test(importers):
    """A plugin named with `-p` (and what it imports) is imported in every test run, before coverage starts."""
    mutants, graph = importers
    coverage = CoverageMap()
    test_files = {nodeid: nodeid.split("::")[0] for nodeid in ALL_TESTS}
    mutant = mutants["src/pkg/orphan.py::delete::<module>::json"]  # no test file imports it
    assert planner(graph, ALL_TESTS).plan(mutant).tests == ()
    early = Planner(coverage, graph, test_files, {}, early_modules=("pkg", "pkg.orphan"))
    assert set(early.plan(mutant).tests) == set(ALL_TESTS)
    assert set(early.plan(mutants["src/pkg/unused.py::delete::<module>::os"]).tests) == IMPORTING


# --- re-exports and names in strings (one project; each plan knows only the tests it lists) ---

REEXPORTED = """\
from json import dumps
import os.path


def save(value):
    return dumps(value), os.path.sep
"""
SAVE, NAME, API = "tests/test_save.py::test_save", "tests/test_name.py::test_name", "tests/test_api.py::test_api"
OS, PLAIN = "tests/test_os.py::test_os", "tests/test_plain.py::test_plain"
PATCHED, UNPATCHED, FAST = ("tests/test_patch.py::test_patched", "tests/test_other.py::test_other",
                            "tests/fast/test_fast.py::test_fast")
SAVE_LINES = {"src/pkg/mod.py": {1: [""], 2: [""], 5: [""], 6: [SAVE]}}


@pytest.fixture(scope="module")
def reexports(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("reexports"), {
        "src/pkg/mod.py": REEXPORTED,
        "src/pkg/api.py": "from .mod import dumps as to_json\n",
        "tests/test_save.py": "from pkg.mod import save\n",
        "tests/test_name.py": "from pkg.mod import dumps\n",
        "tests/test_api.py": "import pkg.api\n",
        "tests/test_os.py": "from pkg.mod import os\n",
        "tests/test_plain.py": "import pkg.mod\n",
        "tests/test_patch.py": """\
            from unittest import mock


            def test_patched():
                with mock.patch("pkg.mod.dumps"):
                    pass
            """,
        "tests/test_other.py": "def test_other():\n    assert 'pkg.mod.save'\n",
        "tests/fast/conftest.py": """\
            from unittest import mock

            import pytest


            @pytest.fixture(autouse=True)
            def no_json():
                with mock.patch("pkg.mod.dumps"):
                    yield
            """,
        "tests/fast/test_fast.py": "def test_fast():\n    pass\n",
    })


def test_tests_importing_the_name_from_the_module_or_from_a_re_export_are_selected(reexports):
    mutants, graph = reexports
    tests = [SAVE, NAME, API, OS, PLAIN]
    plan = planner(graph, tests, SAVE_LINES).plan(mutants["src/pkg/mod.py::delete::<module>::dumps"])
    assert set(plan.tests) == {SAVE, NAME, API}  # test_plain imports the module, not the name
    assert plan.import_time is False
    # `import os.path` binds `os`: a test importing `os` from the module loses it
    plan = planner(graph, tests, SAVE_LINES).plan(mutants["src/pkg/mod.py::delete::<module>::os.path"])
    assert set(plan.tests) == {SAVE, OS}


def test_a_test_naming_the_name_in_a_string_is_selected(reexports):
    mutants, graph = reexports
    plan = planner(graph, [SAVE, PATCHED, UNPATCHED], SAVE_LINES).plan(
        mutants["src/pkg/mod.py::delete::<module>::dumps"])
    assert set(plan.tests) == {SAVE, PATCHED}  # test_other names pkg.mod.save, not pkg.mod.dumps


def test_a_conftest_naming_the_name_in_a_string_selects_the_tests_below_it(reexports):
    # the autouse fixture's patch fails (pkg.mod has no attribute dumps) for every test below tests/fast/
    # once `from json import dumps` is deleted, though no test runs the use on line 6
    mutants, graph = reexports
    lines = {"src/pkg/mod.py": {1: [""], 2: [""], 5: [""]}}
    plan = planner(graph, [FAST, UNPATCHED], lines).plan(mutants["src/pkg/mod.py::delete::<module>::dumps"])
    assert plan.tests == (FAST,)


def test_a_name_re_exported_by_a_star_import_selects_the_tests_importing_it(tmp_path):
    # `from pkg import dumps` fails once pkg/mod.py stops binding `dumps`, though no test runs line 5
    mutants, graph = make_project(tmp_path, {
        "src/pkg/__init__.py": "from .mod import *\n",
        "src/pkg/mod.py": """\
            from json import dumps


            def save(value):
                return dumps(value)
            """,
        "tests/test_a.py": "from pkg import dumps\n",
    })
    test_a = "tests/test_a.py::test_a"
    plan = planner(graph, [test_a], {"src/pkg/mod.py": {1: [""], 4: [""]}}).plan(
        mutants["src/pkg/mod.py::delete::<module>::dumps"])
    assert plan.tests == (test_a,)


# --- deselected tests -------------------------------------------------------------------------


def test_tests_missing_from_test_files_are_never_selected(importers, reexports):
    mutants, graph = importers
    lines = {"src/pkg/side_effects.py": {7: [DIRECT, INDIRECT]}}
    json = mutants["src/pkg/side_effects.py::delete::<module>::json"]
    assert set(planner(graph, ALL_TESTS, lines).plan(json).tests) == {DIRECT, INDIRECT}
    # coverage names test_direct, but it is not among the tests that run
    assert planner(graph, [INDIRECT, UNDER, BESIDE], lines).plan(json).tests == (INDIRECT,)
    # test_direct, test_late and the test below tests/sub/conftest.py import the module, but do not run
    os_ = mutants["src/pkg/called.py::delete::<module>::os"]
    assert planner(graph, [INDIRECT, BESIDE], {"src/pkg/called.py": {5: [""]}}).plan(os_).tests == (INDIRECT,)
    # test_name imports `dumps` and test_patch names it; neither runs
    mutants, graph = reexports
    dumps = mutants["src/pkg/mod.py::delete::<module>::dumps"]
    assert planner(graph, [SAVE, PLAIN, UNPATCHED], SAVE_LINES).plan(dumps).tests == (SAVE,)


def test_a_use_run_only_by_missing_tests_is_reported_as_unexecuted(importers):
    # test_direct, the only test that runs line 7, was deselected; test_indirect imports the module
    mutants, graph = importers
    lines = {"src/pkg/side_effects.py": {1: [""], 2: [""], 3: [""], 6: [""], 7: [DIRECT]}}
    plan = planner(graph, [INDIRECT], lines).plan(mutants["src/pkg/side_effects.py::delete::<module>::json"])
    assert plan.tests == ()
    assert plan.reason == "no test executes any line that uses the name (line 7)"


def test_a_name_reached_as_an_attribute_of_the_module_from_elsewhere_selects_those_tests(tmp_path):
    """`clock.time.time()` in a test fails once `import time` is gone from clock, though coverage shows that
    test running no line of clock that uses `time`."""
    mutants, graph = make_project(tmp_path, {
        "src/pkg/clock.py": "import time\n\n\ndef stamp():\n    return time.time()\n",
        "tests/test_reach.py": "from pkg import clock\n\n\ndef test_reach():\n    assert clock.time.time()\n",
        "tests/test_other.py": "from pkg import clock\n\n\ndef test_other():\n    assert clock\n",
    })
    tests = ["tests/test_reach.py::test_reach", "tests/test_other.py::test_other"]
    lines = {"src/pkg/clock.py": {1: [""], 4: [""]}}  # stamp() never runs
    plan = planner(graph, tests, lines).plan(mutants["src/pkg/clock.py::delete::<module>::time"])
    assert plan.tests == ("tests/test_reach.py::test_reach",)
