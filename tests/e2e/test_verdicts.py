"""The real CLI on fixture projects whose verdicts were derived by hand."""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.conftest import run_cli, statuses
from tests.e2e.test_live_soundness import CASES as LIVE_CASES
from tests.faults.projects import PYPROJECT, write

PLUGIN_APP = {
    # the side-effect import fills the plugin registry that welcome() looks "shout" up in
    "app/__init__.py::delete::<module>::plugins": "Killed",
    # consumer.py does `from app import Greeter`: the re-export is needed
    "app/__init__.py::delete::<module>::Greeter": "Killed",
    "app/consumer.py::delete::<module>::Greeter": "Killed",
    "app/consumer.py::delete::<module>::PLUGINS": "Killed",
    # json is used only in Greeter.load's ValueError handler, which no test drives
    "app/core.py::delete::<module>::json": "NoCoverage",
    # `log = logging.getLogger(...)` runs at import time
    "app/core.py::delete::<module>::logging": "Killed",
    "app/core.py::delete::<module>::os,sys": "Killed",
    "app/core.py::drop-name::<module>::os": "Killed",  # home() is tested
    "app/core.py::drop-name::<module>::sys": "Killed",  # greet() is tested through welcome()
    "app/plugins.py::delete::<module>::register": "Killed",  # the decorator runs at import time
}

SCOPE_APP = {
    # normalize is used by setup() (tested) and by handle()'s except branch (never driven):
    # moving the import into setup() is the incident's scope bug, and no test notices
    "src/scope_app/service.py::localize::setup::normalize": "NoCoverage",
    "src/scope_app/service.py::localize::handle::normalize": "Killed",
    "src/scope_app/service.py::delete::<module>::normalize": "Killed",
    "src/scope_app/service.py::delete::<module>::TYPE_CHECKING": "Killed",
    "src/scope_app/service.py::delete::<module>::annotations": "Ignored",
    "src/scope_app/service.py::delete::<module>::Callable": "Ignored",
    # json's fallback is repr(), which test_encode tells apart
    "src/scope_app/codec.py::delete::<module>::fastjson": "Killed",
    "src/scope_app/codec.py::fallback::<module>::fastjson": "Killed",
    # zlib's fallback (no compression) round-trips just as well: the fallback works
    "src/scope_app/codec.py::delete::<module>::zlib": "Killed",
    "src/scope_app/codec.py::fallback::<module>::zlib": "Survived",
    "src/scope_app/codec.py::delete::<module>::base64": "Ignored",  # `# importmut: skip`
    "src/scope_app/codec.py::delete::checksum::hashlib": "Killed",
    "src/scope_app/codec.py::hoist::checksum::hashlib": "Survived",  # safe to hoist
    "src/scope_app/cycle_a.py::delete::<module>::describe": "Killed",
    "src/scope_app/cycle_b.py::delete::describe::NAME": "Killed",
    "src/scope_app/cycle_b.py::hoist::describe::NAME": "Killed",  # hoisting makes an import cycle
}


def test_plugin_app_verdicts_match_hand_derived(project, report_schema):
    root = project("plugin_app")
    result = run_cli("run", str(root), "-j", "2", cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == PLUGIN_APP
    data = json.loads((root / "reports" / "importmut.json").read_text())
    jsonschema.validate(data, report_schema)
    json_mutant = next(m for m in data["files"]["app/core.py"]["mutants"]
                       if m["id"] == "app/core.py::delete::<module>::json")
    assert json_mutant["location"]["start"] == {"line": 1, "column": 1}
    assert json_mutant["mutatorName"] == "delete"
    assert data["files"]["app/core.py"]["source"] == (root / "app/core.py").read_text()
    survivors = (root / "reports" / "survivors.md").read_text()
    assert "`app/core.py:20` in `Greeter.load()`: **no test executes it**" in survivors
    assert "-import json" in survivors
    assert "os,sys" not in survivors  # killed mutants are not listed
    # the table: survivors first, with where the name is used
    table_lines = result.stdout.splitlines()
    assert "NoCoverage" in table_lines[2] and "20 load (not run)" in table_lines[2]


def test_scope_app_verdicts_with_every_operator(project, report_schema):
    root = project("scope_app")
    args = ["run", str(root)] + [x for op in ("delete", "drop-name", "localize", "hoist", "fallback")
                                 for x in ("-o", op)]
    result = run_cli(*args, cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == SCOPE_APP
    jsonschema.validate(json.loads((root / "reports" / "importmut.json").read_text()), report_schema)
    survivors = (root / "reports" / "survivors.md").read_text()
    assert "moved `normalize` from module level into `setup()`" in survivors
    assert "`src/scope_app/service.py:20` in `handle()`: **no test executes it**" in survivors
    assert "## Safe to hoist" in survivors and "`import hashlib` in `checksum()`" in survivors


def test_killed_by_names_the_failing_test(project):
    root = project("plugin_app")
    assert run_cli("run", str(root), "-q", cwd=root).returncode == 0
    data = json.loads((root / "reports" / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    assert by_id["app/core.py::drop-name::<module>::os"]["killedBy"] == ["tests/test_app.py::test_home"]
    # the kill's reason is the failing test's error, kept although mutant runs format tracebacks short
    assert by_id["app/core.py::drop-name::<module>::os"]["statusReason"] == "NameError: name 'os' is not defined"
    assert by_id["app/core.py::delete::<module>::json"]["coveredBy"] == []
    # decided from the coverage map without running anything
    no_coverage = by_id["app/core.py::delete::<module>::json"]
    assert no_coverage["importmut"]["testsRun"] == []
    assert no_coverage["statusReason"] == "no test executes any line that uses the name (line 20)"


STAGED = {
    "pyproject.toml": PYPROJECT,
    "stage/__init__.py": "",
    "stage/helpers.py": "def double(value):\n    return value * 2\n",
    # a module-level import of the project's own code: every test importing core is selected
    "stage/core.py": "from stage import helpers\n\n\ndef quadruple(value):\n    return helpers.double(helpers.double(value))\n",
    "tests/test_core.py": (
        "import time\n\nfrom stage.core import quadruple\n\n\n"
        "def test_quadruple():\n    time.sleep(0.05)  # the slowest test: fastest-first would run it last\n"
        "    assert quadruple(1) == 4\n"
    ),
    **{f"tests/test_{name}.py": f"import stage.core\n\n\ndef test_{name}():\n    assert stage.core\n"
       for name in ("a", "b", "c", "d")},
}


def test_the_test_that_executes_the_use_runs_first_on_its_own(tmp_path):
    """Four other test files import the module; the one test that runs the use kills the mutant alone."""
    root = write(tmp_path / "staged", STAGED)
    result = run_cli("run", str(root), "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads((root / "reports" / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    killed = by_id["stage/core.py::delete::<module>::helpers"]
    assert killed["status"] == "Killed"
    assert killed["killedBy"] == ["tests/test_core.py::test_quadruple"]
    assert killed["importmut"]["testsRun"] == []  # none of the four other files was run


def test_a_name_used_as_an_attribute_of_its_module_from_a_test_is_killed_not_left_uncovered(tmp_path):
    """The test reaches `time` as `clock.time`; the only use inside clock.py is never run."""
    root = write(tmp_path / "reach", {
        "pyproject.toml": PYPROJECT,
        "reach/__init__.py": "",
        "reach/clock.py": "import time\n\n\ndef stamp():\n    return time.time()\n",
        "tests/test_clock.py": "from reach import clock\n\n\ndef test_real_time():\n    assert clock.time.time() > 0\n",
    })
    result = run_cli("run", str(root), "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"reach/clock.py::delete::<module>::time": "Killed"}


SURELY_IMPORTED = {
    "pyproject.toml": PYPROJECT,
    "reg/__init__.py": "",
    "reg/registry.py": "PLUGINS = {}\n\n\ndef lookup(name):\n    return PLUGINS[name]\n",
    "reg/plugins.py": "from reg.registry import PLUGINS\n\nPLUGINS['shout'] = str.upper\n",
    # line 1 registers the plugins (and imports registry); line 2 then only binds `lookup`
    "reg/api.py": ("from reg import plugins\nfrom reg.registry import lookup\n\n\n"
                   "def shout(text):\n    return __import__('reg.registry').registry.PLUGINS['shout'](text)\n\n\n"
                   "def untested(name):\n    return lookup(name)\n"),
    "tests/test_shout.py": "from reg.api import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n",
    **{f"tests/test_{name}.py": f"import reg.api\n\n\ndef test_{name}():\n    assert reg.api\n" for name in "abc"},
}


def test_an_import_of_a_module_imported_above_it_runs_no_test_for_side_effects(tmp_path):
    """Deleting `from reg.registry import lookup` cannot stop registry.py being imported (plugins.py imported it
    on line 1), so only the tests that run `lookup` could notice, and none does; deleting line 1 loses the
    registration, which a test notices. The whole suite per mutant agrees."""
    root = write(tmp_path / "surely", SURELY_IMPORTED)
    expected = {"reg/api.py::delete::<module>::plugins": "Killed", "reg/api.py::delete::<module>::lookup": "NoCoverage",
                "reg/plugins.py::delete::<module>::PLUGINS": "Killed"}
    for args in ([], ["--all-tests"]):
        out = tmp_path / f"report{len(args)}"
        result = run_cli("run", str(root), "-q", "--report-dir", str(out), *args, cwd=root)
        assert result.returncode == 0, result.stderr
        assert statuses(out) == expected, args
    data = json.loads((tmp_path / "report0" / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    assert by_id["reg/api.py::delete::<module>::lookup"]["importmut"]["testsRun"] == []
    assert by_id["reg/api.py::delete::<module>::lookup"]["statusReason"] == (
        "no test executes any line that uses the name (line 10)")


# reg/plugins.py registers "shout"; test_a.py, collected first, imports it before anything imports api.py
PLUGINS_FIRST = {
    "pyproject.toml": PYPROJECT,
    "reg/__init__.py": "",
    "reg/registry.py": "PLUGINS = {}\n",
    "reg/plugins.py": ("from reg.registry import PLUGINS\n\nPLUGINS['shout'] = str.upper\n\n\n"
                       "def whisper(text):\n    return text.lower()\n"),
    "tests/test_a.py": "from reg.plugins import whisper\n\n\ndef test_whisper():\n    assert whisper('A') == 'a'\n",
}
IMPORTED_EARLIER = {
    **PLUGINS_FIRST,
    "reg/extras.py": ("from reg.registry import PLUGINS\n\nPLUGINS['title'] = str.title\n\n\n"
                      "def spell(text):\n    return ' '.join(text)\n"),
    "reg/api.py": ("from reg.registry import PLUGINS\nfrom reg.plugins import whisper\n"
                   "from reg.extras import spell\n\n\n"
                   "def call(name, text):\n    return PLUGINS[name](text)\n\n\n"
                   "def untested(text):\n    return whisper(text), spell(text)\n"),
    "tests/test_api.py": ("from reg.api import call\n\n\ndef test_shout():\n    assert call('shout', 'a') == 'A'\n\n\n"
                          "def test_title():\n    assert call('title', 'ab cd') == 'Ab Cd'\n"),
}


def test_an_import_of_a_module_the_suite_imported_earlier_runs_no_test_for_side_effects(tmp_path):
    """In the whole suite, test_a.py imports plugins.py before anything imports api.py: deleting api's
    import of it loses no registration, only the name `whisper`, which no test uses, so no test runs. api.py is
    the first to import extras.py: deleting that import loses "title", which a test notices."""
    selected, whole_suite = _selected_and_whole_suite(write(tmp_path / "earlier", IMPORTED_EARLIER), tmp_path)
    assert selected == whole_suite
    assert selected["reg/api.py::delete::<module>::whisper"] == "NoCoverage"
    assert selected["reg/api.py::delete::<module>::spell"] == "Killed"
    data = json.loads((tmp_path / "report0" / "importmut.json").read_text())
    by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
    assert by_id["reg/api.py::delete::<module>::whisper"]["importmut"]["testsRun"] == []
    assert by_id["reg/api.py::delete::<module>::spell"]["killedBy"] == ["tests/test_api.py::test_title"]
    # a stored baseline keeps the order: the second run, from the cache, plans the same
    root = tmp_path / "earlier"
    for _ in range(2):
        result = run_cli("run", str(root), "-q", cwd=root)
        assert result.returncode == 0, result.stderr
        data = json.loads((root / "reports" / "importmut.json").read_text())
        by_id = {m["id"]: m for f in data["files"].values() for m in f["mutants"]}
        assert by_id["reg/api.py::delete::<module>::whisper"]["importmut"]["testsRun"] == []
    assert by_id["reg/api.py::delete::<module>::spell"]["importmut"]["cached"] is True


API = ("from reg.registry import PLUGINS\nfrom reg.plugins import whisper\n\n\n"
       "def untested(text):\n    return whisper(text)\n")
ORDER_OF_IMPORTS = {
    # tests/unit/conftest.py is loaded when collection reaches tests/unit, after test_a.py: in the whole suite
    # KNOWN holds "shout" either way. (Run alone, test_known.py would load that conftest.py first.)
    "conftest_below": ({
        **PLUGINS_FIRST,
        "reg/api.py": API + "\n\nKNOWN = sorted(PLUGINS)\n",
        "tests/unit/conftest.py": "import reg.api\n",
        "tests/unit/test_known.py": "import reg.api\n\n\ndef test_known():\n    assert reg.api.KNOWN == ['shout']\n",
    }, "NoCoverage"),
    # a test imports api.py again with None for plugins in sys.modules: the import must fail
    "reimported": ({
        **PLUGINS_FIRST,
        "reg/api.py": API,
        "tests/test_api.py": ("import importlib\nimport sys\n\nimport pytest\n\nimport reg.api\n\n\n"
                              "def test_api_needs_plugins(monkeypatch):\n"
                              "    monkeypatch.setitem(sys.modules, 'reg.plugins', None)\n"
                              "    monkeypatch.delitem(sys.modules, 'reg.api')\n"
                              "    with pytest.raises(ImportError):\n"
                              "        importlib.import_module('reg.api')\n"),
    }, "Killed"),
    # a fresh process (multiprocessing's spawn) imports api.py first, and finds "shout" only through it
    "spawned": ({
        **PLUGINS_FIRST,
        "reg/api.py": API + "\n\ndef known():\n    return sorted(PLUGINS)\n",
        "tests/test_child.py": ("import multiprocessing\n\nfrom reg import api\n\n\n"
                                "def test_known_in_a_fresh_process():\n"
                                "    with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
                                "        assert pool.apply(api.known) == ['shout']\n"),
    }, "Killed"),
}


@pytest.mark.parametrize("isolation", ["live", "fork", "process"])
@pytest.mark.parametrize("case", sorted(ORDER_OF_IMPORTS))
def test_an_import_of_a_module_imported_earlier_gets_the_whole_suites_verdict(case, isolation, tmp_path):
    """Where the whole suite may still notice that api.py no longer imports plugins.py, though a test file
    imported it first, selection runs the tests that do; where it cannot, none runs."""
    files, expected = ORDER_OF_IMPORTS[case]
    selected, whole_suite = _selected_and_whole_suite(write(tmp_path / case, files), tmp_path,
                                                      "--isolation", isolation)
    assert selected == whole_suite
    assert selected["reg/api.py::delete::<module>::whisper"] == expected


OUT_OF_SIGHT = {
    # the only test reaches pkg.api through a helper at the project root, outside paths and tests
    "root_helper": {
        "pyproject.toml": '[tool.importmut]\npaths = ["pkg"]\ntests = ["tests"]\n',
        "pkg/__init__.py": "",
        "pkg/api.py": "import os\n\nSEP = os.sep\n\n\ndef path(*parts):\n    return SEP.join(parts)\n",
        "testutils.py": "from pkg.api import path\n\n\ndef both(*parts):\n    return path(*parts)\n",
        "tests/test_api.py": 'from testutils import both\n\n\ndef test_both():\n    assert both("a", "b")\n',
    },
    # the tests reach clock's names with getattr() and vars(); clock itself uses them only where no test goes
    "getattr": {
        "pyproject.toml": PYPROJECT,
        "reach/__init__.py": "",
        "reach/clock.py": ("import time\nimport json\n\n\ndef stamp():\n    return time.time()\n\n\n"
                           "def dump(x):\n    return json.dumps(x)\n"),
        "tests/test_clock.py": ('from reach import clock\n\n\n'
                                'def test_real_time():\n    assert getattr(clock, "time").time() > 0\n'),
        "tests/test_vars.py": ('import reach.clock as c\n\n\n'
                               'def test_all():\n    assert vars(c)["json"].dumps(1) == "1"\n'),
    },
    # a plugin named in addopts is imported by pytest itself, before any test file, in every run
    "plugin": LIVE_CASES["plugin"][0],
}


@pytest.mark.parametrize("case", sorted(OUT_OF_SIGHT))
def test_modules_imported_where_no_test_file_shows_it_get_the_whole_suites_verdicts(case, tmp_path):
    """Selection finds the tests that import a module through a file outside the configured folders, or
    through pytest itself, and those that reach its names by getattr() or vars(); every status equals that
    of running the whole suite for each mutant."""
    selected, whole_suite = _selected_and_whole_suite(write(tmp_path / case, OUT_OF_SIGHT[case]), tmp_path)
    assert selected == whole_suite
    assert "NoCoverage" not in selected.values()


def _selected_and_whole_suite(root, tmp_path, *options):
    """The statuses with test selection, and with the whole suite run for every mutant."""
    found = {}
    for args in (["--all-tests"], []):
        out = tmp_path / f"report{len(args)}"
        result = run_cli("run", str(root), "-q", "--no-cache", "--report-dir", str(out), *args, *options, cwd=root)
        assert result.returncode == 0, result.stderr
        found[bool(args)] = statuses(out)
    return found[False], found[True]


# forcing codec's fallback imports compat, which registers itself; only a test that never uses json notices
PROJECT_FALLBACK = {
    "pyproject.toml": PYPROJECT,
    "pkg/__init__.py": "",
    "pkg/registry.py": "NAMES = []\n",
    "pkg/compat.py": ("from pkg.registry import NAMES  # importmut: skip\n\nNAMES.append('compat')\n\n\n"
                      "def dumps(value):\n    return str(value)\n"),
    "pkg/codec.py": ("try:\n    import json\nexcept ImportError:\n    from pkg import compat as json\n\n\n"
                     "def encode(value):\n    return json.dumps(value)\n"),
    "tests/test_codec.py": "from pkg.codec import encode\n\n\ndef test_encode():\n    assert encode(1) == '1'\n",
    "tests/test_registry.py": ("import pkg.codec  # noqa: F401\nfrom pkg.registry import NAMES\n\n\n"
                               "def test_nothing_registered():\n    assert NAMES == []\n"),
}


def test_a_forced_fallback_that_imports_a_project_module_gets_the_whole_suites_verdict(tmp_path):
    """The handler only rebinds `json`, yet to a module of the project whose import registers it: the tests
    that never use `json` run too, and test_registry kills the mutant as the whole suite does."""
    selected, whole_suite = _selected_and_whole_suite(write(tmp_path / "fallback", PROJECT_FALLBACK), tmp_path)
    assert selected == whole_suite
    assert selected["pkg/codec.py::fallback::<module>::json"] == "Killed"


@pytest.mark.parametrize("options", ["-n 2", "-n 2 --dist loadfile", "--cov=app", "--cov=app --cov-fail-under=100",
                                     "--ff --lfnf none --sw", "--lf --nf", "--reruns 1"])
def test_addopts_that_move_or_measure_the_tests_give_the_same_verdicts_and_live_runs(options, project):
    """`-n` in addopts would send the tests into pytest-xdist's processes, out of importmut's sight (the baseline
    then "ran no tests"); `--cov` would have pytest-cov's tracer replace the coverage map's (most mutants then
    NoCoverage) and fail every run on `--cov-fail-under`; the cache plugin's `--lf`, `--ff` or `--sw` would
    stop pytest at an unrecognised option, as importmut's runs go without that plugin. importmut turns them
    all off, and gets what it gets without them. pytest-rerunfailures (installed, with `--reruns` or not)
    starts a thread in every session where pytest-xdist is installed; live runs go on beside it."""
    root = project("plugin_app")
    live_runs = {}
    for name in ("plain", "with addopts"):
        if name == "with addopts":
            config = root / "pyproject.toml"
            config.write_text(config.read_text() + f'addopts = "{options}"\n')
        result = run_cli("run", str(root), "-j", "2", "--stats", "--no-cache", cwd=root)
        assert result.returncode == 0, result.stderr
        assert statuses(root / "reports") == PLUGIN_APP, name
        live_runs[name] = next(line for line in result.stdout.splitlines() if line.startswith("live runs:"))
    assert live_runs["with addopts"] == live_runs["plain"]
    assert not live_runs["plain"].startswith("live runs:             0 ")
    assert not (root / ".coverage").exists()


# a test that writes through tmp_path and logs: what pytest's --basetemp and log_file would catch
PROJECT_WRITES = {
    "pkg/__init__.py": "",
    "pkg/store.py": ("import json\nimport logging\n\nlog = logging.getLogger(__name__)\n\n\n"
                     "def save(path, value):\n    log.warning('saving %s', path.name)\n"
                     "    path.write_text(json.dumps(value))\n"),
    "tests/test_store.py": ("import json\n\nfrom pkg.store import save\n\n\ndef test_save(tmp_path):\n"
                            "    save(tmp_path / 'v.json', [1])\n"
                            "    assert json.loads((tmp_path / 'v.json').read_text()) == [1]\n"),
}


def test_report_files_and_folders_the_projects_options_put_outside_it_are_never_written(tmp_path):
    """A project's absolute `--junitxml`, `--basetemp` and `log_file` would have every mutant run overwrite the
    user's files (and the parallel runs empty each other's basetemp): importmut's runs write none of them."""
    outside = tmp_path / "outside"
    options = f"--junitxml={outside}/junit.xml --basetemp={outside}/basetemp"
    pyproject = f'{PYPROJECT}addopts = "{options}"\nlog_file = "{outside}/run.log"\nlog_file_level = "WARNING"\n'
    root = write(tmp_path / "writes", {**PROJECT_WRITES, "pyproject.toml": pyproject})
    result = run_cli("run", str(root), "-j", "2", "--no-cache", cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(root / "reports") == {"pkg/store.py::delete::<module>::json": "Killed",
                                          "pkg/store.py::delete::<module>::logging": "Killed"}
    assert not outside.exists()
