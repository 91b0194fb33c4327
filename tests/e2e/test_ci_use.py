"""Nightly and CI use: the result cache, --since, gates and their exit codes, shards, SARIF and JUnit."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from tests.conftest import run_cli, statuses
from tests.e2e.test_verdicts import PLUGIN_APP

SERVICE_MUTANTS = {  # scope_app's mutants whose selected tests live in tests/test_service.py
    "src/scope_app/service.py::delete::<module>::normalize",
    "src/scope_app/service.py::localize::setup::normalize",
    "src/scope_app/service.py::localize::handle::normalize",
    "src/scope_app/service.py::delete::<module>::TYPE_CHECKING",
}


def _cached(report_dir) -> dict[str, bool]:
    data = json.loads((report_dir / "importmut.json").read_text())
    return {m["id"]: m["importmut"]["cached"] for f in data["files"].values() for m in f["mutants"]
            if m["status"] not in ("Ignored",)}


def test_second_run_reuses_every_verdict_and_a_test_edit_reruns_exactly_its_mutants(project):
    root = project("scope_app")
    first = run_cli("run", str(root), "-q", cwd=root)
    assert first.returncode == 0, first.stderr
    before = statuses(root / "reports")
    assert not any(_cached(root / "reports").values())

    second = run_cli("run", str(root), "-q", cwd=root)
    assert second.returncode == 0, second.stderr
    assert "reused from .importmut/ (and the baseline: no file changed)" in second.stderr
    assert statuses(root / "reports") == before
    ran = {mutant_id for mutant_id, cached in _cached(root / "reports").items() if not cached}
    # only NoCoverage mutants decided without a run are "not cached": nothing was tested again
    assert all(before[mutant_id] == "NoCoverage" for mutant_id in ran)

    test_file = root / "tests" / "test_service.py"
    test_file.write_text(test_file.read_text() + "\n# a comment changes the file's hash\n")
    third = run_cli("run", str(root), "-q", cwd=root)
    assert third.returncode == 0, third.stderr
    assert statuses(root / "reports") == before
    rerun = {mutant_id for mutant_id, cached in _cached(root / "reports").items() if not cached}
    assert rerun - {m for m in ran} == SERVICE_MUTANTS - ran

    fresh = run_cli("run", str(root), "-q", "--no-cache", cwd=root)
    assert fresh.returncode == 0 and "reused" not in fresh.stderr
    assert not any(_cached(root / "reports").values())


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)})


def test_since_mutates_only_files_changed_since_a_revision(project):
    root = project("scope_app")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start")
    codec = root / "src" / "scope_app" / "codec.py"
    codec.write_text(codec.read_text().replace("def encode(value):", "def encode(value):  # changed"))
    result = run_cli("run", str(root), "--since", "HEAD", "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    assert {mutant_id.split("::")[0] for mutant_id in statuses(root / "reports")} == {"src/scope_app/codec.py"}
    assert "--since HEAD: 6 mutants in 1 changed file(s); 8 in unchanged files skipped" in result.stderr

    temp = root.parent / "temp"
    temp.mkdir()
    # the baseline starts while the mutants are listed: a bad revision stops it and leaves nothing behind
    bad = run_cli("run", str(root), "--since", "no-such-revision", "-q", cwd=root, env={"TMPDIR": str(temp)})
    assert bad.returncode == 2
    assert bad.stderr.startswith("importmut: error: --since no-such-revision:")
    assert len(bad.stderr.strip().splitlines()) == 1
    assert list(temp.iterdir()) == []


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    from tests.conftest import FIXTURES
    import shutil

    root = tmp_path_factory.mktemp("gates") / "plugin_app"
    shutil.copytree(FIXTURES / "plugin_app", root)
    result = run_cli("run", str(root), "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_gate_exit_codes(plugin_run, tmp_path):
    root = plugin_run
    passed = run_cli("report", str(root), "--fail-under", "90", cwd=root)
    assert passed.returncode == 0 and "gate passed: score 90.0%" in passed.stdout
    failed = run_cli("report", str(root), "--fail-under", "90.5", cwd=root)
    assert failed.returncode == 1 and "gate failed: score 90.0% is under --fail-under 90.5%" in failed.stderr
    pyproject = root / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original + "\n[tool.importmut]\nfail_under = 95\n")
    try:
        from_config = run_cli("run", str(root), "-q", cwd=root)  # every verdict comes from the cache
        assert from_config.returncode == 1
        assert "gate failed: score 90.0% is under --fail-under 95%" in from_config.stderr
    finally:
        pyproject.write_text(original)


def test_baseline_gate_fails_only_on_new_survivors(plugin_run, tmp_path):
    root = plugin_run
    same = run_cli("report", str(root), "--baseline", str(root / "reports" / "importmut.json"), cwd=root)
    assert same.returncode == 0, same.stderr
    older = json.loads((root / "reports" / "importmut.json").read_text())
    for mutant in older["files"]["app/core.py"]["mutants"]:
        if mutant["id"] == "app/core.py::delete::<module>::json":
            mutant["status"] = "Killed"  # in the older report the json import was still caught
    (tmp_path / "older.json").write_text(json.dumps(older))
    new = run_cli("report", str(root), "--baseline", str(tmp_path / "older.json"), cwd=root)
    assert new.returncode == 1
    assert "1 survivor(s) not in the baseline report" in new.stderr
    assert "app/core.py::delete::<module>::json (app/core.py:1)" in new.stderr


def test_four_shards_merged_equal_one_run(project, tmp_path):
    root = project("plugin_app")
    parts = []
    seen: set[str] = set()
    for index in range(1, 5):
        out = tmp_path / f"shard{index}"
        result = run_cli("run", str(root), "--shard", f"{index}/4", "--no-cache", "--report-dir", str(out), "-q",
                         cwd=root)
        assert result.returncode == 0, result.stderr
        ids = set(statuses(out))
        assert not ids & seen  # every mutant in exactly one shard
        seen |= ids
        parts.append(str(out / "importmut.json"))
    assert seen == set(PLUGIN_APP)
    merged = run_cli("merge", *parts, "--report-dir", str(tmp_path / "merged"), cwd=root)
    assert merged.returncode == 0, merged.stderr
    assert statuses(tmp_path / "merged") == PLUGIN_APP
    bad = run_cli("run", str(root), "--shard", "5/4", cwd=root)
    assert bad.returncode == 2 and "--shard takes K/N" in bad.stderr


def test_sarif_is_valid_and_points_at_the_import_with_unexecuted_uses(plugin_run, sarif_schema):
    data = json.loads((plugin_run / "reports" / "importmut.sarif").read_text())
    jsonschema.validate(data, sarif_schema)
    [result] = data["runs"][0]["results"]
    assert result["ruleId"] == "delete"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/core.py" and location["region"]["startLine"] == 1
    [related] = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 20
    assert "no test executes this line" in related["message"]["text"]


def test_junit_has_a_testcase_per_mutant_and_fails_the_survivors(plugin_run):
    root = ET.parse(plugin_run / "reports" / "junit.xml").getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert {case.get("name") for case in cases} == set(PLUGIN_APP)
    failures = [case for case in cases if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == ["app/core.py::delete::<module>::json"]
    assert root.get("tests") == str(len(PLUGIN_APP)) and root.get("failures") == "1"
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_report_regenerates_every_format_without_running_tests(plugin_run):
    root = plugin_run
    written = {"markdown": "survivors.md", "sarif": "importmut.sarif", "junit": "junit.xml", "json": "importmut.json"}
    for fmt, name in written.items():
        result = run_cli("report", str(root), "--format", fmt, cwd=root)
        assert result.returncode == 0, result.stderr
        assert result.stdout == (root / "reports" / name).read_text(), fmt
    table = run_cli("report", str(root), "--format", "table", cwd=root)
    assert "NoCoverage" in table.stdout and "score 90.0%" in table.stdout
