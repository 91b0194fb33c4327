"""The static import graph: module names, edges, closures, importers and `from` imports of small projects."""

from __future__ import annotations

import textwrap

import pytest

from importmut import import_graph
from importmut.import_graph import module_names


def write(root, files):
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


# --- module_names -----------------------------------------------------------------------------


def test_a_module_under_a_src_root_is_named_from_that_root():
    assert module_names("src/pkg/mod.py", ["src"]) == ["pkg.mod"]
    assert module_names("src/pkg/sub/deep.py", ["src"]) == ["pkg.sub.deep"]


def test_a_flat_package_is_named_from_the_project_root():
    assert module_names("pkg/mod.py", ["."]) == ["pkg.mod"]
    assert module_names("pkg/sub/deep.py", [""]) == ["pkg.sub.deep"]


def test_an_init_file_is_named_after_its_package():
    assert module_names("src/pkg/__init__.py", ["src"]) == ["pkg"]
    assert module_names("pkg/sub/__init__.py", ["."]) == ["pkg.sub"]


def test_a_file_under_two_roots_has_a_name_from_each():
    assert module_names("src/pkg/mod.py", [".", "src"]) == ["src.pkg.mod", "pkg.mod"]


def test_a_test_helper_outside_every_root_has_every_dotted_suffix():
    assert module_names("tests/unit/helpers.py", ["src"]) == ["tests.unit.helpers", "unit.helpers", "helpers"]
    assert module_names("tests/unit/__init__.py", ["src"]) == ["tests.unit", "unit"]
    assert module_names("conftest.py", ["src"]) == ["conftest"]


# --- edges (one src-layout project shared by the tests below) ---------------------------------

SRC_PACKAGE = {
    "src/pkg/__init__.py": "",
    "src/pkg/a/__init__.py": "",
    "src/pkg/a/b.py": "",
    "src/pkg/sub.py": "",
    "src/pkg/other.py": "",
}
EDGES_PROJECT = {
    **SRC_PACKAGE,
    "src/pkg/deep/__init__.py": "from .y import z\n",
    "src/pkg/deep/inner/__init__.py": "",
    "src/pkg/deep/inner/x.py": "",
    "src/pkg/deep/inner/mod.py": "from . import x\nfrom ..y import z\nfrom ..tools import helper\n",
    "src/pkg/deep/y.py": "",
    "src/pkg/deep/tools/__init__.py": "",
    "src/pkg/deep/tools/helper.py": "",
    "src/pkg/deep/tools/up.py": "from ... import sub\n",
    "src/pkg/self_import.py": "from pkg import self_import, other\nimport pkg.self_import\n",
    "src/pkg/a/names.py": "from . import sibling\nfrom .b import thing as alias\nfrom .. import other\n",
    "tests/test_dotted.py": "import pkg.a.b\n",
    "tests/test_from_sub.py": "from pkg import sub\n",
    "tests/test_from_alias.py": "from pkg.a import b as renamed, not_a_module\n",
    "tests/test_star.py": "from pkg.a.b import *\n",
    "tests/helpers.py": "from pkg import sub\n",
    "tests/test_helper_bare.py": "from helpers import make\n",
    "tests/test_helper_dotted.py": "import tests.helpers\n",
    "tests/rel/__init__.py": "",
    "tests/rel/tools.py": "",
    "tests/rel/inner/test_rel.py": "from ..tools import make\n",
    "tests/test_broken.py": "import pkg.sub\ndef broken(:\n",
    "tests/test_names.py": "from pkg.sub import name, second as renamed\nimport pkg.other\nfrom pkg.a.b import *\n",
    "tests/unit/test_relative_names.py": "from .helpers import make\n",
}


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    root = write(tmp_path_factory.mktemp("edges"), EDGES_PROJECT)
    return import_graph.build(root, ["src/pkg"], ["tests"], ["src"])


def test_every_file_of_the_sources_and_tests_is_in_the_graph(edges):
    assert set(edges.edges) == set(EDGES_PROJECT)
    assert set(edges.module_of) == set(EDGES_PROJECT)


def test_files_the_baseline_ran_outside_the_sources_and_tests_join_the_graph(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/api.py": "",
        "testutils.py": "from pkg.api import path\n",  # a helper at the root
        "tools/gen.py": "import pkg.api\n",
        ".hidden/ran.py": "import pkg.api\n",
        "data.txt": "",
        "tests/test_api.py": "from testutils import both\n",
    })
    ran = ["testutils.py", "tools/gen.py", ".hidden/ran.py", "data.txt", "gone.py", "src/pkg/api.py"]
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"], ran=ran)
    assert set(graph.edges) == {"src/pkg/__init__.py", "src/pkg/api.py", "testutils.py", "tools/gen.py",
                                "tests/test_api.py"}
    assert graph.edges["testutils.py"] == {"src/pkg/__init__.py", "src/pkg/api.py"}
    assert graph.module_of["tools/gen.py"] == ["tools.gen", "gen"]
    assert graph.from_imports["testutils.py"] == {("pkg.api", "path")}
    # a test importing the helper now reaches the module the helper imports
    assert "tests/test_api.py" in graph.importers({"src/pkg/api.py"})
    without = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    assert "tests/test_api.py" not in without.importers({"src/pkg/api.py"})


def test_import_of_a_dotted_module_reaches_it_and_every_parent_package(edges):
    assert edges.edges["tests/test_dotted.py"] == {"src/pkg/__init__.py", "src/pkg/a/__init__.py", "src/pkg/a/b.py"}


def test_from_package_import_reaches_the_submodule_it_names(edges):
    assert edges.edges["tests/test_from_sub.py"] == {"src/pkg/__init__.py", "src/pkg/sub.py"}
    assert edges.edges["tests/test_from_alias.py"] == {"src/pkg/__init__.py", "src/pkg/a/__init__.py", "src/pkg/a/b.py"}


def test_relative_imports_resolve_inside_nested_packages(edges):
    assert edges.edges["src/pkg/deep/inner/mod.py"] == {
        "src/pkg/__init__.py",
        "src/pkg/deep/__init__.py",
        "src/pkg/deep/inner/__init__.py",
        "src/pkg/deep/inner/x.py",
        "src/pkg/deep/y.py",
        "src/pkg/deep/tools/__init__.py",
        "src/pkg/deep/tools/helper.py",
    }
    assert edges.edges["src/pkg/deep/tools/up.py"] == {"src/pkg/__init__.py", "src/pkg/sub.py"}


def test_in_an_init_file_a_single_dot_is_the_package_itself(edges):
    assert edges.edges["src/pkg/deep/__init__.py"] == {"src/pkg/__init__.py", "src/pkg/deep/y.py"}


def test_a_file_has_no_edge_to_itself(edges):
    assert edges.edges["src/pkg/self_import.py"] == {"src/pkg/__init__.py", "src/pkg/other.py"}


def test_a_star_import_reaches_its_module_and_records_that_it_takes_every_name(edges):
    assert edges.edges["tests/test_star.py"] == {"src/pkg/__init__.py", "src/pkg/a/__init__.py", "src/pkg/a/b.py"}
    assert edges.from_imports["tests/test_star.py"] == {("pkg.a.b", "*")}


def test_a_test_helper_is_reached_by_its_bare_name_and_its_dotted_name(edges):
    assert edges.edges["tests/test_helper_bare.py"] == {"tests/helpers.py"}
    assert edges.edges["tests/test_helper_dotted.py"] == {"tests/helpers.py"}
    assert edges.closure("tests/test_helper_bare.py") == {
        "tests/test_helper_bare.py", "tests/helpers.py", "src/pkg/__init__.py", "src/pkg/sub.py",
    }


def test_relative_imports_in_test_packages_resolve_against_every_name_of_the_file(edges):
    assert edges.edges["tests/rel/inner/test_rel.py"] == {"tests/rel/__init__.py", "tests/rel/tools.py"}


def test_a_file_that_does_not_parse_has_no_edges(edges):
    assert edges.edges["tests/test_broken.py"] == set()
    assert edges.module_of["tests/test_broken.py"] == ["tests.test_broken", "test_broken"]


def test_from_imports_record_the_module_and_the_imported_name(edges):
    assert edges.from_imports["tests/test_names.py"] == {("pkg.sub", "name"), ("pkg.sub", "second"), ("pkg.a.b", "*")}
    assert edges.from_imports["tests/test_dotted.py"] == set()


def test_from_imports_resolve_relative_imports(edges):
    assert edges.from_imports["src/pkg/a/names.py"] == {("pkg.a", "sibling"), ("pkg.a.b", "thing"), ("pkg", "other")}
    # a test file may be imported under any of its suffix names, so `.` may be any of their packages
    assert edges.from_imports["tests/unit/test_relative_names.py"] == {
        ("tests.unit.helpers", "make"), ("unit.helpers", "make"), ("helpers", "make"),
    }


def test_module_names_and_by_name_index_every_file(edges):
    assert edges.module_of["src/pkg/a/__init__.py"] == ["pkg.a"]
    assert edges.module_of["tests/helpers.py"] == ["tests.helpers", "helpers"]
    assert edges.by_name["pkg.a.b"] == {"src/pkg/a/b.py"}
    assert edges.by_name["helpers"] == {"tests/helpers.py"}


def test_sources_hold_the_text_of_every_file_outside_the_source_paths(edges):
    outside = {path: text for path, text in EDGES_PROJECT.items() if not path.startswith("src/")}
    assert edges.sources == outside


# --- external names ---------------------------------------------------------------------------


def test_third_party_imports_make_no_edge_and_are_external_with_every_dotted_name_they_may_import(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/other.py": "from __future__ import annotations\nimport os.path\nfrom yaml import safe_load\n",
        "tests/test_x.py": "import numpy.linalg as la\nimport requests, pkg\nfrom .missing import thing\n",
        "tests/helpers.py": "",
        "tests/test_y.py": "import helpers\n",
    })
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    assert graph.edges["src/pkg/other.py"] == set()
    assert graph.edges["tests/test_x.py"] == {"src/pkg/__init__.py"}
    # submodules too, so that a warm worker preloads `numpy.linalg` and not only the package around it; a
    # name that turns out to be an attribute (`yaml.safe_load`) only fails to import there
    assert graph.external == {"os", "os.path", "yaml", "yaml.safe_load", "numpy", "numpy.linalg", "requests"}


def test_a_test_helper_can_be_imported_by_its_bare_name_from_a_flat_layout(tmp_path):
    # pytest's default "prepend" import mode puts tests/ (a folder without __init__.py) first on sys.path,
    # so `from helpers import make` loads tests/helpers.py, and through it pkg/sub.py
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/sub.py": "",
        "tests/helpers.py": "from pkg import sub\n",
        "tests/test_x.py": "from helpers import make\n",
    })
    graph = import_graph.build(root, ["pkg"], ["tests"], ["."])
    assert graph.edges["tests/test_x.py"] == {"tests/helpers.py"}
    assert graph.closure("tests/test_x.py") == {"tests/test_x.py", "tests/helpers.py", "pkg/__init__.py", "pkg/sub.py"}
    assert "helpers" not in graph.external


# --- closure and importers --------------------------------------------------------------------


def test_closure_terminates_on_cycles(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/one.py": "from pkg.two import x\n",
        "src/pkg/two.py": "def f():\n    from pkg.one import y\n",
    })
    graph = import_graph.build(root, ["src/pkg"], [], ["src"])
    assert graph.closure("src/pkg/one.py") == {"src/pkg/__init__.py", "src/pkg/one.py", "src/pkg/two.py"}
    assert graph.closure("src/pkg/two.py") == {"src/pkg/__init__.py", "src/pkg/one.py", "src/pkg/two.py"}
    assert graph.importers({"src/pkg/one.py"}) == {"src/pkg/one.py", "src/pkg/two.py"}


def test_closure_is_transitive_and_importers_are_every_file_whose_closure_reaches_a_module(tmp_path):
    root = write(tmp_path, {
        **SRC_PACKAGE,
        "src/pkg/other.py": "from pkg import sub\n",
        "tests/conftest.py": "import pkg.other\n",
        "tests/helpers.py": "from pkg.sub import thing\n",
        "tests/test_direct.py": "import pkg.sub\n",
        "tests/test_helper.py": "import helpers\n",
        "tests/test_through.py": "def test():\n    from pkg import other\n",
        "tests/test_unrelated.py": "import pkg.a.b\n",
    })
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    assert graph.closure("tests/test_helper.py") == {
        "tests/test_helper.py", "tests/helpers.py", "src/pkg/__init__.py", "src/pkg/sub.py",
    }
    assert graph.closure("tests/conftest.py") == {
        "tests/conftest.py", "src/pkg/__init__.py", "src/pkg/other.py", "src/pkg/sub.py",
    }
    assert graph.closure("src/pkg/sub.py") == {"src/pkg/sub.py"}
    assert graph.closure("not/in/the/graph.py") == {"not/in/the/graph.py"}
    assert graph.importers({"src/pkg/sub.py"}) == {
        "src/pkg/sub.py",
        "src/pkg/other.py",
        "tests/conftest.py",
        "tests/helpers.py",
        "tests/test_direct.py",
        "tests/test_helper.py",
        "tests/test_through.py",
    }
    # importing anything in the package runs its __init__.py
    assert graph.importers({"src/pkg/__init__.py"}) == set(graph.edges) - {
        "src/pkg/a/__init__.py", "src/pkg/a/b.py", "src/pkg/sub.py",
    }
    assert graph.importers({"src/pkg/a/b.py"}) == {"src/pkg/a/b.py", "tests/test_unrelated.py"}
    assert graph.importers({"src/pkg/a/b.py", "tests/helpers.py"}) == {
        "src/pkg/a/b.py", "tests/test_unrelated.py", "tests/helpers.py", "tests/test_helper.py",
    }
    assert graph.importers({"nowhere.py"}) == set()


def test_conftest_files_anywhere_below_the_root_are_in_the_graph(tmp_path):
    source = {"src/pkg/__init__.py": "", "src/pkg/sub.py": "", "src/pkg/other.py": ""}
    root = write(tmp_path, {
        **source,
        "conftest.py": "import pkg.sub\n",
        "tests/unit/conftest.py": "from pkg import other\n",
        "tests/unit/test_x.py": "",
        "docs/conftest.py": "import pkg.sub\n",
        ".venv/lib/conftest.py": "import pkg.sub\n",
        "build/conftest.py": "import pkg.sub\n",  # `build` may be a real package folder: not skipped
        "venv/lib/conftest.py": "import pkg.sub\n",
        "venv/pyvenv.cfg": "home = /usr/bin\n",
        "tests/unit/__pycache__/helper.py": "import pkg.sub\n",
    })
    graph = import_graph.build(root, ["src/pkg"], ["tests/unit"], ["src"])
    assert set(graph.edges) == {
        *source, "conftest.py", "tests/unit/conftest.py", "tests/unit/test_x.py", "docs/conftest.py",
        "build/conftest.py",
    }
    assert graph.edges["conftest.py"] == {"src/pkg/__init__.py", "src/pkg/sub.py"}
    assert graph.importers({"src/pkg/other.py"}) == {"src/pkg/other.py", "tests/unit/conftest.py"}
    assert set(graph.sources) == {"conftest.py", "tests/unit/conftest.py", "tests/unit/test_x.py", "docs/conftest.py",
                                  "build/conftest.py"}


def test_a_single_file_source_path_is_in_the_graph(tmp_path):
    root = write(tmp_path, {"tool.py": "import helper\n", "helper.py": "", "tests/test_x.py": "import tool\n"})
    graph = import_graph.build(root, ["tool.py", "helper.py"], ["tests"], ["."])
    assert graph.edges == {"tool.py": {"helper.py"}, "helper.py": set(), "tests/test_x.py": {"tool.py"}}
    assert set(graph.sources) == {"tests/test_x.py"}


def test_attributes_reached_through_a_module_alias_are_recorded_for_project_modules_only(tmp_path):
    root = write(tmp_path, {
        **SRC_PACKAGE,
        "src/pkg/clock.py": "import time\n",
        "tests/test_alias.py": "import pkg.clock as c\n\n\ndef test():\n    c.time.time()\n",
        "tests/test_from.py": "from pkg import clock\n\n\ndef test():\n    clock.time.sleep(0)\n",
        "tests/test_dotted.py": "import pkg.clock\n\n\ndef test():\n    pkg.clock.time.monotonic()\n",
        "tests/test_relative.py": "from .. import x\n",
        "tests/test_plain.py": "import os\n\n\ndef test():\n    os.path.join('a')\n",
        "tests/test_broken.py": "import pkg.clock\npkg.clock.time.time(\n",
    })
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    for name in ("alias", "from", "dotted"):
        assert ("pkg.clock", "time") in graph.module_attributes[f"tests/test_{name}.py"], name
    assert "tests/test_plain.py" not in graph.module_attributes  # os is not the project's
    assert "tests/test_broken.py" not in graph.module_attributes  # a file that does not parse


def test_attributes_reached_by_name_or_all_at_once_are_recorded(tmp_path):
    root = write(tmp_path, {
        **SRC_PACKAGE,
        "src/pkg/clock.py": "import time\n",
        "tests/test_getattr.py": "from pkg import clock\n\n\ndef test():\n    getattr(clock, 'time').time()\n",
        "tests/test_hasattr.py": "import pkg.clock\n\n\ndef test():\n    assert hasattr(pkg.clock, 'time')\n",
        "tests/test_vars.py": "import pkg.clock as c\n\n\ndef test():\n    vars(c)['time']\n",
        "tests/test_dict.py": "from pkg import clock\n\n\ndef test():\n    clock.__dict__['time']\n",
        "tests/test_dir.py": "import inspect\nfrom pkg import clock\n\n\ndef test():\n    inspect.getmembers(clock)\n",
        "tests/test_computed.py": "from pkg import clock\n\n\ndef test(name='time'):\n    getattr(clock, name)\n",
    })
    graph = import_graph.build(root, ["src/pkg"], ["tests"], ["src"])
    assert graph.module_attributes["tests/test_getattr.py"] == {("pkg.clock", "time")}
    assert ("pkg.clock", "time") in graph.module_attributes["tests/test_hasattr.py"]  # with ("pkg", "clock")
    for name in ("vars", "dict", "dir"):
        assert graph.module_attributes[f"tests/test_{name}.py"] == {("pkg.clock", "*")}, name
    assert "tests/test_computed.py" not in graph.module_attributes  # a computed name: nothing to follow


# --- imported_before: what an import statement finds already imported ----------------------------


def test_files_imported_above_a_line_in_the_module_body_and_by_them_count_as_imported_before_it(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/registry.py": "PLUGINS = {}\n",
        "src/pkg/plugins.py": "from .registry import PLUGINS\n\nPLUGINS['x'] = 1\n",
        "src/pkg/extra.py": "",
        "src/pkg/guarded.py": "",
        "src/pkg/lazy.py": "def f():\n    from pkg import extra\n",
        "src/pkg/mod.py": """\
            import json
            from pkg import plugins
            try:
                from pkg import guarded
            except ImportError:
                guarded = None
            from pkg import lazy
            from pkg import registry
            import pkg.extra
            """,
    })
    graph = import_graph.build(root, ["src/pkg"], [], ["src"])
    assert graph.imported_before("src/pkg/mod.py", 2) == {"src/pkg/__init__.py"}  # its package, always
    # line 2 imported plugins, and plugins imported registry in its body; nothing in a `try` or a function
    assert graph.imported_before("src/pkg/mod.py", 8) == {
        "src/pkg/__init__.py", "src/pkg/plugins.py", "src/pkg/registry.py", "src/pkg/lazy.py"}
    assert "src/pkg/registry.py" in graph.imported_before("src/pkg/mod.py", 9)
    assert "src/pkg/extra.py" not in graph.imported_before("src/pkg/mod.py", 9)


def test_a_file_that_may_be_part_way_through_its_body_counts_but_not_what_it_imports(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/first.py": "from pkg import cycle\nfrom pkg import late\n",
        "src/pkg/late.py": "",
        "src/pkg/cycle.py": "from pkg import first\nfrom pkg import late\n",
    })
    graph = import_graph.build(root, ["src/pkg"], [], ["src"])
    # imported through first.py, cycle.py runs while first.py is stopped on its line 1: late is not imported yet
    assert graph.imported_before("src/pkg/cycle.py", 2) == {"src/pkg/__init__.py", "src/pkg/first.py"}


def test_from_a_package_import_a_name_it_binds_otherwise_does_not_surely_import_the_submodule(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "def tools():\n    return 1\n\n\nfrom .registry import formats\nfrom . import other\n",
        "src/pkg/registry.py": "formats = {}\n",
        **{f"src/pkg/{name}.py": "" for name in ("tools", "formats", "other", "plain")},
        "src/lazy/__init__.py": "def __getattr__(name):\n    return name\n",
        "src/lazy/other.py": "",
        "src/star/__init__.py": "from .core import *\n",
        "src/star/core.py": "",
        "src/star/extra.py": "",
        "src/pkg/mod.py": ("from pkg import tools, formats, other, plain\nfrom lazy import other as lazy_other\n"
                           "from star import extra\nX = 1\n"),
    })
    graph = import_graph.build(root, ["src/pkg", "src/lazy", "src/star"], [], ["src"])
    before = graph.imported_before("src/pkg/mod.py", 4)
    assert "src/pkg/plain.py" in before
    assert "src/pkg/other.py" in before  # `from . import other` binds the submodule itself
    assert "src/pkg/tools.py" not in before  # `pkg.tools` is the function __init__.py defines
    assert "src/pkg/formats.py" not in before  # `pkg.formats` is registry's dict
    assert "src/lazy/__init__.py" in before and "src/lazy/other.py" not in before  # __getattr__ may answer
    assert "src/star/extra.py" not in before  # the star import may bind `extra`


def test_a_name_that_may_be_two_files_surely_imports_neither(tmp_path):
    root = write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/util.py": "",
        "src/pkg/__init__.py": "",
        "src/pkg/util.py": "",
        "src/pkg/mod.py": "import pkg.util\nX = 1\n",
    })
    graph = import_graph.build(root, ["src/pkg", "pkg"], [], ["src", "."])
    assert not {"pkg/util.py", "src/pkg/util.py"} & graph.imported_before("src/pkg/mod.py", 2)


def test_a_package_importing_by_computed_names_may_be_part_way_through_its_body(tmp_path):
    root = write(tmp_path, {
        "src/pkg/__init__.py": "",
        "src/pkg/defaults.py": "",
        "src/pkg/plugins/__init__.py": (
            "import importlib\nimport pkgutil\n\nfor info in pkgutil.iter_modules(__path__):\n"
            "    importlib.import_module(f'{__name__}.{info.name}')\n\nfrom pkg import defaults\n"),
        "src/pkg/plugins/shout.py": "import json\nfrom pkg.defaults import X\n",
    })
    graph = import_graph.build(root, ["src/pkg"], [], ["src"])
    # plugins/__init__.py imports shout.py in its loop, before its own last line
    assert graph.imported_before("src/pkg/plugins/shout.py", 2) == {"src/pkg/__init__.py", "src/pkg/plugins/__init__.py"}
