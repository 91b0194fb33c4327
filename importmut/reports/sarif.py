"""`importmut.sarif`: SARIF 2.1.0 for code-scanning views, which show each survivor inline on pull
requests: a result at the import, with the lines that use the name (and whether any test runs them) as
related locations."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from importmut import __version__
from importmut.gate import survivors
from importmut.outcomes import Status
from importmut.reports.model import MutantRecord, Report

FILE_NAME = "importmut.sarif"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = {
    "delete": "Deleting this import is caught by no test",
    "drop-name": "Dropping this name from the import is caught by no test",
    "localize": "Moving this import into one function is caught by no test",
    "hoist": "Hoisting this import to module level is caught by no test",
    "fallback": "Forcing this optional import's fallback is caught by no test",
    "mutmut": "A mutmut mutant that no test caught",
}


def _uri(report: Report, path: str) -> str:
    root = report.project_root or "."
    return path if root in ("", ".") else (PurePosixPath(root) / path).as_posix()


def _location(report: Report, path: str, line: int, column: int = 0, end_line: int | None = None,
              end_column: int | None = None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line, "startColumn": column + 1}
    if end_line is not None:
        region["endLine"] = end_line
    if end_column is not None and end_column > 0:
        region["endColumn"] = end_column + 1
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(report, path), "uriBaseId": "%SRCROOT%"},
                                 "region": region}}


def _message(record: MutantRecord) -> str:
    if record.status is Status.NO_COVERAGE and record.uses:
        lines = ", ".join(str(use.line) for use in record.uses)
        return f"{record.description}: caught by no test; `{record.name}` is used at line(s) {lines} and no test runs them"
    if record.tests_run:
        return f"{record.description}: {len(record.tests_run)} test(s) ran and passed"
    return f"{record.description}: caught by no test"


def _result(report: Report, record: MutantRecord) -> dict[str, Any]:
    related = []
    for index, use in enumerate(record.uses, start=1):
        where = "module level" if use.function == "<module>" else f"{use.function}()"
        ran = "no test executes this line" if not use.executed else f"executed by {len(use.tests)} test(s)"
        related.append({"id": index, **_location(report, record.path, use.line),
                        "message": {"text": f"`{record.name}` used here, in {where}: {ran}"}})
    result: dict[str, Any] = {
        "ruleId": record.operator if record.operator in RULES else "mutmut",
        "level": "warning",
        "message": {"text": _message(record)},
        "locations": [_location(report, record.path, record.line, record.column, record.end_line,
                                record.end_column)],
        "partialFingerprints": {"importmutMutantId/v1": record.id},
        "properties": {"mutantId": record.id, "status": record.status.value, "tool": record.tool},
    }
    if related:
        result["relatedLocations"] = related
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    found = survivors(report)
    used_rules = sorted({r.operator if r.operator in RULES else "mutmut" for r in found})
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "importmut",
                "version": __version__,
                "informationUri": "https://pypi.org/project/importmut/",
                "rules": [{"id": rule, "shortDescription": {"text": RULES[rule]},
                           "defaultConfiguration": {"level": "warning"}} for rule in used_rules],
            }},
            "results": [_result(report, record) for record in sorted(found, key=lambda r: (r.path, r.line, r.id))],
        }],
    }


def write(report: Report, report_dir: Path) -> Path:
    path = report_dir / FILE_NAME
    path.write_text(json.dumps(to_sarif(report), indent=2) + "\n", encoding="utf-8")
    return path
