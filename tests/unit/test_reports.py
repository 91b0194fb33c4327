"""Reporters render the report model; the JSON round-trips so `importmut results` shows the same."""

from __future__ import annotations

from importmut.outcomes import Status
from importmut.reports import json_report, markdown, table
from importmut.reports.model import MutantRecord, Report, Use


def _record(**changes) -> MutantRecord:
    fields = dict(
        id="pkg/auth.py::delete::<module>::time", path="pkg/auth.py", line=3, column=0, end_line=3,
        end_column=11, operator="delete", scope="<module>", name="time", code="import time",
        description="removed `import time`", replacement="", diff="--- a/pkg/auth.py\n+++ b/pkg/auth.py\n-import time\n",
        status=Status.NO_COVERAGE, uses=(Use(40, "Breaker.check", False), Use(52, "Breaker.record", False)),
    )
    fields.update(changes)
    return MutantRecord(**fields)


def _report() -> Report:
    killed = _record(id="pkg/h.py::delete::<module>::time", path="pkg/h.py", status=Status.KILLED,
                     killed_by=("tests/test_h.py::test_timing",), tests_run=("tests/test_h.py::test_a",),
                     uses=(Use(9, "health", False, ("tests/test_h.py::test_timing",)),))
    survived = _record(id="pkg/r.py::localize::setup::sm", path="pkg/r.py", operator="localize", scope="setup",
                       name="sm", code="from pkg.s import sm", status=Status.SURVIVED,
                       tests_run=("tests/test_r.py::test_ok",),
                       uses=(Use(30, "endpoint", False, ("tests/test_r.py::test_ok",)),))
    hoisted = _record(id="pkg/u.py::hoist::lazy::json", path="pkg/u.py", operator="hoist", scope="lazy",
                      name="json", code="import json", status=Status.SURVIVED, tests_run=("t::x",),
                      uses=(Use(5, "lazy", False, ("t::x",)),))
    return Report(records=[killed, _record(), survived, hoisted],
                  sources={"pkg/auth.py": "import time\n", "pkg/h.py": "", "pkg/r.py": "", "pkg/u.py": ""},
                  tests=("tests/test_h.py::test_timing", "tests/test_h.py::test_a", "tests/test_r.py::test_ok"),
                  project_root="/p", phases={"setup": 0.5, "initialRun": 1.0, "mutation": 2.0})


def test_json_round_trip_keeps_every_field():
    report = _report()
    again = json_report.from_json(json_report.to_json(report))
    assert sorted(again.records, key=lambda r: r.id) == sorted(report.records, key=lambda r: r.id)
    assert set(again.tests) == set(report.tests)
    assert again.sources == report.sources


def test_json_uses_schema_names_and_one_based_columns():
    data = json_report.to_json(_report())
    mutant = data["files"]["pkg/auth.py"]["mutants"][0]
    assert mutant["mutatorName"] == "delete"
    assert mutant["status"] == "NoCoverage"
    assert mutant["location"] == {"start": {"line": 3, "column": 1}, "end": {"line": 3, "column": 12}}
    assert data["testFiles"]["tests/test_h.py"]["tests"][0] == {"id": "tests/test_h.py::test_timing",
                                                                "name": "test_timing"}
    killed = data["files"]["pkg/h.py"]["mutants"][0]
    assert killed["killedBy"] == ["tests/test_h.py::test_timing"]
    assert killed["coveredBy"] == ["tests/test_h.py::test_timing"]


def test_table_puts_survivors_first_and_marks_lines_no_test_runs():
    lines = table.render(_report()).splitlines()
    body = lines[2:6]
    assert [line.split()[0] for line in body] == ["pkg/r.py", "pkg/u.py", "pkg/auth.py", "pkg/h.py"]
    assert "40 check (not run), 52 record (not run)" in body[2]
    assert "safe to hoist" in body[1]
    assert "tests/test_h.py::test_timing" in body[3]
    assert "4 mutants: 2 Survived, 1 NoCoverage, 1 Killed; score 25.0%" in lines


def test_survivors_markdown_names_lines_functions_and_the_gap():
    text = markdown.render(_report())
    assert "## 2 import mutant(s) no test caught" in text
    assert "- `pkg/auth.py:40` in `Breaker.check()`: **no test executes it**" in text
    assert "No test executes any line that uses `time` (lines 40, 52). Add a test that drives them." in text
    assert "1 test(s) ran against the mutant and passed: `tests/test_r.py::test_ok`." in text
    assert "```diff\n--- a/pkg/auth.py" in text
    assert "pkg/h.py" not in text  # killed mutants are not survivors
    assert "## Safe to hoist" in text and "`pkg/u.py:3` `import json` in `lazy()`" in text


def test_an_unused_name_that_all_lists_is_reported_as_public_api_no_test_imports():
    source = ('from pkg.i18n import activate, decimal_separator\nimport os.path\nimport json\n\n'
              '__all__ = ["activate", "decimal_separator"]\n__all__ += ("os",)\n')
    records = [_record(id=f"pkg/__init__.py::drop-name::<module>::{name}", path="pkg/__init__.py", name=name,
                       operator="drop-name", status=Status.SURVIVED, uses=(), tests_run=("t::x",))
               for name in ("decimal_separator", "os.path", "json")]
    text = markdown.render(Report(records=records, sources={"pkg/__init__.py": source}, tests=("t::x",)))
    sections = {r.name: next(chunk for chunk in text.split("### ") if f"::{r.name}`" in chunk) for r in records}
    assert ("`__all__` lists `decimal_separator`: it is this module's public API, and no test imports it from "
            "here") in sections["decimal_separator"]
    assert "`__all__` lists `os.path`" in sections["os.path"]  # `os`, bound by `import os.path`
    assert "never used in this file" in sections["json"] and "__all__" not in sections["json"]


def test_a_re_export_written_name_as_name_is_reported_as_public_api():
    record = _record(id="pkg/__init__.py::delete::<module>::BadData", path="pkg/__init__.py", name="BadData",
                     code="from .exc import BadData as BadData", status=Status.SURVIVED, uses=(), tests_run=("t::x",))
    text = markdown.render(Report(records=[record], sources={"pkg/__init__.py": "from .exc import BadData as BadData\n"},
                                  tests=("t::x",)))
    assert "`BadData as BadData` marks it as a re-export: it is this module's public API" in text


def test_names_used_only_in_unevaluated_annotations_are_explained():
    source = ("from __future__ import annotations\n\nimport typing as t\nimport json\n\n\n"
              "def load(text: str) -> t.Any:\n    value: t.Any = json.loads(text)\n    return value\n")
    records = [_record(id=f"pkg/io.py::delete::<module>::{name}", path="pkg/io.py", name=name,
                       code=f"import {name}", status=Status.SURVIVED, tests_run=("t::x",),
                       uses=(Use(7, "<module>", True, ("<import>",)),)) for name in ("t", "json")]
    text = markdown.render(Report(records=records, sources={"pkg/io.py": source}, tests=("t::x",)))
    sections = {r.name: next(chunk for chunk in text.split("### ") if f"::{r.name}`" in chunk) for r in records}
    assert "Every use is in an annotation, which this module does not evaluate" in sections["t"]
    assert "annotation" not in sections["json"]  # json.loads runs
    assert markdown.annotation_only_names(source) == {"t", "str"}
    assert markdown.annotation_only_names(source.replace("from __future__ import annotations\n", "")) == set()


def test_markdown_holds_no_timings_so_unchanged_runs_match():
    report = _report()
    slower = Report(records=[MutantRecord(**{**r.__dict__, "duration": r.duration + 5}) for r in report.records],
                    sources=report.sources, tests=report.tests, phases={"setup": 9, "initialRun": 9, "mutation": 9})
    assert markdown.render(slower) == markdown.render(report)


def test_partial_reports_say_so():
    report = _report()
    report.partial = True
    assert "**Partial report**" in markdown.render(report)
    assert "PARTIAL" in table.render(report)
