"""Reading a real `mutmut run` of tests/fixtures/mutmut_app, against verdicts derived by hand."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from importmut.mutmut_results import MutmutResultsError, load, read
from importmut.outcomes import Status

import mutmut  # noqa: E402 - the `test` extra installs it; a missing mutmut must fail, not skip
MUTMUT_VERSION = tuple(int(part) for part in mutmut.__version__.split(".")[:3])
# not `from tests.conftest import FIXTURES`: mutmut 3.2.3 and 3.3.1 install a top-level `tests` package
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# (function, line before, line after) -> status, from reading src/calc/core.py and tests/test_core.py
EXPECTED = {
    # test_add checks add(2, 3) == 5
    ("add", "return a + b", "return a - b"): Status.KILLED,
    # no test puts a value on a bound, so moving the bound goes unnoticed
    ("clamp", "if value < low:", "if value <= low:"): Status.SURVIVED,
    ("clamp", "if value > high:", "if value >= high:"): Status.SURVIVED,
    # test_total_below checks total_below(4) == 0 + 1 + 2 + 3 == 6
    ("total_below", "total = 0", "total = None"): Status.KILLED,  # None + 0 raises
    ("total_below", "total = 0", "total = 1"): Status.KILLED,  # 7
    ("total_below", "i = 0", "i = None"): Status.KILLED,  # None < 4 raises
    ("total_below", "i = 0", "i = 1"): Status.SURVIVED,  # skips adding 0: the same total
    ("total_below", "while i < n:", "while i <= n:"): Status.KILLED,  # 10
    ("total_below", "total += i", "total = i"): Status.KILLED,  # 3
    ("total_below", "total += i", "total -= i"): Status.KILLED,  # -6
    ("total_below", "i += 1", "i += 2"): Status.KILLED,  # 0 + 2 == 2
    ("total_below", "i += 1", "i -= 1"): Status.TIMEOUT,  # i never reaches n
    ("total_below", "i += 1", "i = 1"): Status.TIMEOUT,  # i stays 1
    # test_meter_reading checks Meter().reading(3, 10) == 7 (a method: mutmut names it xǁMeterǁreading)
    ("Meter.reading", "return end - start", "return end + start"): Status.KILLED,
    # no test calls shout()
    ("shout", 'return text.upper() + "!"', 'return text.upper() - "!"'): Status.NO_COVERAGE,
    ("shout", 'return text.upper() + "!"', 'return text.upper() + "XX!XX"'): Status.NO_COVERAGE,
    ("shout", 'return text.upper() + "!"', 'return text.lower() + "!"'): Status.NO_COVERAGE,  # mutmut 3.3+
}
MUTMUT_STATUS_TEXTS = {Status.KILLED: {"killed", "caught by type check"}, Status.SURVIVED: {"survived"},
                       Status.NO_COVERAGE: {"no tests"}, Status.TIMEOUT: {"timeout"}}


def expected(*, mutmut_table: bool) -> dict[tuple[str, str, str], Status]:
    """The hand-derived verdicts of the mutants this mutmut version makes (upper->lower from 3.3).

    mutmut 3.2.1-3.2.3 call exit code -24 (stopped at their time limit) "killed", 3.3+ "timeout"."""
    table = {change: status for change, status in EXPECTED.items()
             if MUTMUT_VERSION >= (3, 3) or "text.lower()" not in change[2]}
    if mutmut_table and (3, 2, 1) <= MUTMUT_VERSION < (3, 3):
        table = {change: Status.KILLED if s is Status.TIMEOUT else s for change, s in table.items()}
    return table


def cannot_run() -> str:
    """Why this mutmut cannot run the fixture here, or "" (mutmut's bugs, not the reader's)."""
    if MUTMUT_VERSION < (3, 8, 1) and int(pytest.__version__.split(".")[0]) >= 9:
        return f"mutmut {mutmut.__version__} reads Item._nodeid, which pytest 9 removed (fixed in 3.8.1)"
    if MUTMUT_VERSION == (3, 2, 0):
        return "mutmut 3.2.0 fails on its own test ids here (KeyError; fixed in 3.2.1)"
    return ""


def change(record) -> tuple[str, str, str]:
    """(function, line before, line after) read off the record's diff."""
    rows = record.diff.splitlines()[2:]
    before = next(row[1:].strip() for row in rows if row.startswith("-"))
    after = next(row[1:].strip() for row in rows if row.startswith("+"))
    return record.scope, before, after


@pytest.fixture(scope="module")
def mutmut_run(tmp_path_factory) -> Path:
    """The fixture after a real `mutmut run` (once for this module: it takes a few seconds)."""
    assert not cannot_run(), cannot_run()
    root = tmp_path_factory.mktemp("mutmut") / "mutmut_app"
    shutil.copytree(FIXTURES / "mutmut_app", root, ignore=shutil.ignore_patterns("__pycache__", "mutants"))
    script = Path(sys.executable).parent / "mutmut"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mutmut"]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([*command, "run", "--max-children", "2"], cwd=root, env=env, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return root


def copy_of(root: Path, tmp_path: Path) -> Path:
    target = tmp_path / root.name
    shutil.copytree(root, target)
    return target


def test_statuses_match_the_verdicts_derived_by_hand(mutmut_run):
    cwd, start_method = os.getcwd(), multiprocessing.get_start_method(allow_none=True)
    results = load(mutmut_run)
    assert results.reader == f"mutmut {mutmut.__version__}"
    assert results.not_checked == 0
    assert {change(r): r.status for r in results.records} == expected(mutmut_table=True)
    assert len({change(r) for r in results.records}) == len(results.records)
    # reading leaves the working directory and the multiprocessing start method alone
    assert (os.getcwd(), multiprocessing.get_start_method(allow_none=True)) == (cwd, start_method)


def test_every_record_is_complete(mutmut_run):
    records = read(mutmut_run)
    assert records
    for record in records:
        function = record.scope
        mangled = "xǁ{}ǁ{}".format(*function.split(".")) if "." in function else f"x_{function}"
        assert record.tool == "mutmut" and record.operator == "mutmut"
        assert record.id.startswith(f"mutmut:calc.core.{mangled}__mutmut_"), record.id
        assert record.path == "src/calc/core.py" and (mutmut_run / record.path).is_file()
        assert record.code == f"{function}()" and function in record.description
        diff = record.diff.splitlines()
        assert diff[:2] == ["--- src/calc/core.py", "+++ src/calc/core.py"]
        assert any(row.startswith("-") for row in diff[2:]) and any(row.startswith("+") for row in diff[2:])
        # the location is the changed line of the original source, and the range is inside it
        line = (mutmut_run / record.path).read_text().splitlines()[record.line - 1]
        assert line.strip() == change(record)[1] and record.end_line == record.line
        assert line.index(line.strip()) <= record.column < record.end_column <= len(line)
        assert record.reason in MUTMUT_STATUS_TEXTS[record.status]
    if MUTMUT_VERSION >= (3, 4):  # when mutmut began to store how long each mutant took
        assert all(r.duration > 0 for r in records if r.status is not Status.NO_COVERAGE)


def test_fallback_without_mutmut_gives_the_same_records(mutmut_run, monkeypatch):
    with_mutmut = read(mutmut_run)
    for name in [name for name in sys.modules if name == "mutmut" or name.startswith("mutmut.")]:
        monkeypatch.setitem(sys.modules, name, None)  # `import mutmut...` now raises ImportError
    results = load(mutmut_run)
    assert results.reader == "fallback"
    assert {change(r): r.status for r in results.records} == expected(mutmut_table=False)
    # the same mutants at the same places (mutmut 3.2.x keeps a method body's indentation in its diff)
    assert [(r.id, change(r), r.line, r.column, r.end_column) for r in results.records] == \
           [(r.id, change(r), r.line, r.column, r.end_column) for r in with_mutmut]
    monkeypatch.undo()
    assert read(mutmut_run, use_mutmut=False) == results.records


def test_not_checked_mutants_get_no_record_and_are_counted(mutmut_run, tmp_path):
    root = copy_of(mutmut_run, tmp_path)
    meta_file = root / "mutants" / "src" / "calc" / "core.py.meta"
    meta = json.loads(meta_file.read_text())
    meta["exit_code_by_key"]["calc.core.x_add__mutmut_1"] = None
    meta_file.write_text(json.dumps(meta))
    for use_mutmut in (True, False):
        results = load(root, use_mutmut=use_mutmut)
        assert results.not_checked == 1
        assert "mutmut:calc.core.x_add__mutmut_1" not in {r.id for r in results.records}
        assert len(results.records) == len(expected(mutmut_table=True)) - 1


def test_a_project_without_mutants_folder_raises(project):
    root = project("mutmut_app")
    with pytest.raises(MutmutResultsError) as caught:
        read(root)
    message = str(caught.value)
    assert "\n" not in message and str(root / "mutants") in message and "mutmut run" in message


@pytest.mark.parametrize("use_mutmut", [True, False])
def test_an_unreadable_meta_file_raises(mutmut_run, tmp_path, use_mutmut):
    root = copy_of(mutmut_run, tmp_path)
    (root / "mutants" / "src" / "calc" / "core.py.meta").write_text("{not json")
    with pytest.raises(MutmutResultsError, match=r"cannot read .*core\.py\.meta") as caught:
        read(root, use_mutmut=use_mutmut)
    assert "\n" not in str(caught.value)


def test_run_and_report_include_mutmut_mutants_in_one_report_and_gate(mutmut_run, tmp_path):
    root = copy_of(mutmut_run, tmp_path)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    def importmut(*args):
        return subprocess.run([sys.executable, "-m", "importmut", *args], cwd=root, env=env, text=True,
                              capture_output=True, timeout=300, stdin=subprocess.DEVNULL)

    ran = importmut("run", str(root), "-q", "--include-mutmut")
    assert ran.returncode == 0, ran.stderr
    data = json.loads((root / "reports" / "importmut.json").read_text())
    mutants = [m for f in data["files"].values() for m in f["mutants"]]
    by_tool = {tool: [m for m in mutants if m["importmut"]["tool"] == tool] for tool in ("importmut", "mutmut")}
    assert by_tool["importmut"] and len(by_tool["mutmut"]) == len(read(root))
    assert all(m["id"].startswith("mutmut:") for m in by_tool["mutmut"])
    junit = (root / "reports" / "junit.xml").read_text()
    assert "mutmut:" in junit
    # the gate counts both tools' mutants: mutmut's survivors pull the score down
    counted = [m for m in mutants if m["status"] != "Ignored"]
    detected = [m for m in counted if m["status"] in ("Killed", "Timeout")]
    score = 100 * len(detected) / len(counted)
    gated = importmut("report", str(root), "--include-mutmut", "--fail-under", f"{score + 0.1:.1f}")
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert f"score {score:.1f}%" in gated.stderr
    shutil.rmtree(root / "mutants")
    missing = importmut("report", str(root), "--include-mutmut")
    assert missing.returncode == 2
    assert missing.stderr.startswith("importmut: error: --include-mutmut:") and "Traceback" not in missing.stderr
