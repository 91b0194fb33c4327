"""The mutant catalogue: ids, ignored sites, unparsable files and diffs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from importmut.config import load_config
from importmut.mutants import collect, is_excluded, source_files, unified_diff

PYPROJECT = """\
[tool.importmut]
paths = ["pkg"]
operators = {operators}
{extra}
"""


def catalogue(write_project, files, operators=("delete", "drop-name", "localize", "hoist", "fallback"),
              extra=""):
    pyproject = PYPROJECT.format(operators=list(operators), extra=extra).replace("'", '"')
    root = write_project({"pyproject.toml": pyproject, "pkg/__init__.py": "", **files})
    return collect(load_config(root))


def ids(result) -> list[str]:
    return [m.id for m in result.mutants]


def test_ids_are_path_operator_scope_and_name(write_project):
    result = catalogue(write_project, {
        "pkg/mod.py": """\
            import os, sys
            def f():
                import json
                return os.sep, json
            class C:
                def m(self):
                    return os.name, sys.argv
            try:
                import ujson
            except ImportError:
                ujson = None
            """,
    })
    assert ids(result) == [
        "pkg/mod.py::delete::<module>::os,sys",
        "pkg/mod.py::drop-name::<module>::os",
        "pkg/mod.py::drop-name::<module>::sys",
        "pkg/mod.py::localize::C.m::os",
        "pkg/mod.py::localize::f::os",
        "pkg/mod.py::delete::f::json",
        "pkg/mod.py::hoist::f::json",
        "pkg/mod.py::delete::<module>::ujson",
        "pkg/mod.py::fallback::<module>::ujson",
    ]
    assert result.warnings == []
    assert all(m.ignored is None for m in result.mutants)
    assert all(m.path == "pkg/mod.py" for m in result.mutants)
    for mutant in result.mutants:
        assert mutant.id == f"{mutant.path}::{mutant.operator}::{mutant.scope}::{mutant.name}"
        compile(mutant.mutated, mutant.path, "exec", dont_inherit=True)
        assert mutant.mutated != mutant.original
    source = (write_project({}) / "pkg/mod.py").read_bytes()
    assert all(m.original == source for m in result.mutants)
    assert result.sources == {"pkg/mod.py": source}  # __init__.py has no import site


def test_only_the_configured_operators_run(write_project):
    result = catalogue(write_project, {"pkg/mod.py": "import os, sys\n"}, operators=["drop-name"])
    assert ids(result) == ["pkg/mod.py::drop-name::<module>::os", "pkg/mod.py::drop-name::<module>::sys"]


def test_repeated_ids_get_a_count_suffix(write_project):
    result = catalogue(write_project, {
        "pkg/mod.py": """\
            import sys
            if sys.platform == "win32":
                import json
            else:
                import json
            """,
    }, operators=["delete"])
    assert ids(result) == [
        "pkg/mod.py::delete::<module>::sys",
        "pkg/mod.py::delete::<module>::json",
        "pkg/mod.py::delete::<module>::json#2",
    ]
    first, second = result.mutants[1:]
    assert (first.site.line, second.site.line) == (3, 5)


def test_the_same_name_in_different_files_or_scopes_is_not_a_duplicate(write_project):
    result = catalogue(write_project, {
        "pkg/a.py": "import json\n",
        "pkg/b.py": "import json\ndef f():\n    import json\n",
    }, operators=["delete"])
    assert ids(result) == [
        "pkg/a.py::delete::<module>::json",
        "pkg/b.py::delete::<module>::json",
        "pkg/b.py::delete::f::json",
    ]


def test_ids_do_not_change_when_lines_are_inserted_above(write_project):
    body = """\
        import os
        from x import a, b
        def f():
            import json
            return os.sep, a, json
        def g():
            return os.name, b
        """
    before = ids(catalogue(write_project, {"pkg/mod.py": body}))
    shifted = '"""A docstring."""\n\nimport re  # importmut: skip\nCONSTANT = 1\n\n' + textwrap.dedent(body)
    after_result = catalogue(write_project, {"pkg/mod.py": shifted})
    after = [m.id for m in after_result.mutants if m.ignored is None]
    assert after == before
    assert len(before) > 5
    # the sites did move
    assert [m.site.line for m in after_result.mutants if m.ignored is None][0] == 6


def test_ignored_sites_give_one_ignored_mutant_with_the_source_unchanged(write_project):
    result = catalogue(write_project, {
        "pkg/mod.py": """\
            from __future__ import annotations
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from collections import OrderedDict
            import os  # importmut: skip
            import sys, re  # pragma: no mutate
            """,
    })
    ignored = {m.id: m for m in result.mutants if m.ignored}
    assert set(ignored) == {
        "pkg/mod.py::delete::<module>::annotations",
        "pkg/mod.py::delete::<module>::OrderedDict",
        "pkg/mod.py::delete::<module>::os",
        "pkg/mod.py::delete::<module>::sys,re",
    }
    for mutant in ignored.values():
        assert mutant.mutated == mutant.original
        assert mutant.references == ()
    assert "__future__" in ignored["pkg/mod.py::delete::<module>::annotations"].ignored
    assert "TYPE_CHECKING" in ignored["pkg/mod.py::delete::<module>::OrderedDict"].ignored
    # only the TYPE_CHECKING import itself is mutated
    assert [m.id for m in result.mutants if not m.ignored] == ["pkg/mod.py::delete::<module>::TYPE_CHECKING"]


def test_excluded_files_are_listed_as_ignored(write_project):
    result = catalogue(write_project, {
        "pkg/mod.py": "import os\n",
        "pkg/gen_pb2.py": "import os, sys\n",
        "pkg/sub/gen.py": "import json\n",
    }, operators=["delete", "drop-name"], extra='exclude = ["*_pb2.py", "pkg/sub/*"]')
    by_id = {m.id: m for m in result.mutants}
    assert set(by_id) == {
        "pkg/gen_pb2.py::delete::<module>::os,sys",
        "pkg/mod.py::delete::<module>::os",
        "pkg/sub/gen.py::delete::<module>::json",
    }
    assert by_id["pkg/mod.py::delete::<module>::os"].ignored is None
    for excluded in ("pkg/gen_pb2.py::delete::<module>::os,sys", "pkg/sub/gen.py::delete::<module>::json"):
        assert by_id[excluded].ignored == "excluded by config"
        assert by_id[excluded].mutated == by_id[excluded].original


def test_a_file_that_does_not_parse_is_a_warning_and_others_still_count(write_project):
    result = catalogue(write_project, {
        "pkg/a_broken.py": "import os\n\n\nclass\n",
        "pkg/good.py": "import os\n",
    }, operators=["delete"])
    assert ids(result) == ["pkg/good.py::delete::<module>::os"]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("pkg/a_broken.py:4:")
    assert "pkg/a_broken.py" not in result.sources


def test_source_files_skip_caches_virtualenvs_and_non_python(write_project):
    root = write_project({
        "pyproject.toml": '[tool.importmut]\npaths = ["pkg", "tool.py"]\n',
        "pkg/__init__.py": "",
        "pkg/a.py": "",
        "pkg/data.txt": "",
        "pkg/__pycache__/a.py": "",
        "pkg/build/gen.py": "",  # a subpackage may be called build: it is source
        "pkg/.venv/lib.py": "",
        "pkg/env/pyvenv.cfg": "",
        "pkg/env/site.py": "",
        "tool.py": "",
    })
    assert source_files(load_config(root)) == ["pkg/__init__.py", "pkg/a.py", "pkg/build/gen.py", "tool.py"]


def test_source_files_leave_out_test_code_inside_the_package_unless_named(write_project):
    root = write_project({
        "pyproject.toml": '[tool.importmut]\npaths = ["pkg", "pkg/tests/test_named.py", "test"]\n',
        "pkg/__init__.py": "",
        "pkg/core.py": "",
        "pkg/testing.py": "",  # helpers for the package's users: source
        "pkg/conftest.py": "",
        "pkg/test_core.py": "",
        "pkg/core_test.py": "",
        "pkg/tests/__init__.py": "",
        "pkg/tests/helpers.py": "",
        "pkg/tests/test_named.py": "",
        "pkg/sub/tests/fixtures.py": "",
        "pkg/test/client.py": "",  # a `test` package may be library code (django.test)
        "pkg/test/test_client.py": "",
        "test/__init__.py": "",  # a configured folder is mutated whatever its name
        "test/test_runner.py": "",
    })
    assert source_files(load_config(root)) == ["pkg/__init__.py", "pkg/core.py", "pkg/test/client.py",
                                               "pkg/testing.py", "pkg/tests/test_named.py", "test/__init__.py"]


def test_is_excluded_matches_the_path_or_the_file_name():
    assert is_excluded("pkg/gen_pb2.py", ["*_pb2.py"])
    assert is_excluded("pkg/sub/x.py", ["pkg/sub/*"])
    assert is_excluded("pkg/x.py", ["x.py"])
    assert not is_excluded("pkg/x.py", ["y.py", "other/*"])
    assert not is_excluded("pkg/x.py", [])


def test_unified_diff():
    diff = unified_diff("pkg/m.py", b"import os\nx = 1\n", b"x = 1\n")
    assert diff == "--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,2 +1 @@\n-import os\n x = 1\n"


def test_unified_diff_of_crlf_and_a_missing_final_newline():
    diff = unified_diff("m.py", b"import os\r\nx = 1", b"x = 1")
    assert diff == "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1 @@\n-import os\n x = 1\n"


def test_unified_diff_of_latin1_source():
    diff = unified_diff("m.py", b"import os\ns = '\xe9'\n", b"s = '\xe9'\n")
    assert diff.splitlines()[-1] == " s = '\u00e9'"


def test_mutant_diff_shows_the_mutation(write_project):
    result = catalogue(write_project, {"pkg/mod.py": "import os\nimport sys\n"}, operators=["delete"])
    assert result.mutants[1].diff == (
        "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1,2 +1 @@\n import os\n-import sys\n"
    )


def test_libcst_is_imported_with_the_catalogue_not_with_what_starts_the_baseline():
    """`importmut run` starts the baseline, then builds the catalogue: importing libcst takes a third of its
    start-up, which the baseline need not wait for."""
    code = ("import sys, importmut.cli, importmut.lab; before = 'libcst' in sys.modules\n"
            "from pathlib import Path\n"
            "from importmut.config import load_config\n"
            "from importmut.mutants import collect\n"
            "collect(load_config(Path(sys.argv[1]))); print(before, 'libcst' in sys.modules)")
    project = Path(__file__).parents[2] / "target_project"
    done = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
