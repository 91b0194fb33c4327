"""`importmut.json`: the report in the shared mutation-testing-report-schema (schema version 2).

Stryker's dashboards and HTML viewer read it as it is. Evidence the schema has no field for
(where each name is used, which tests executed it, the diff) travels in an `importmut` object
on each mutant; the schema allows extra properties, and `importmut results` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from importmut import __version__
from importmut.outcomes import Status
from importmut.reports.model import MutantRecord, Report, Use

SCHEMA_VERSION = "2"
FILE_NAME = "importmut.json"


def _test_files(tests: tuple[str, ...]) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for nodeid in tests:
        path = nodeid.split("::")[0]
        files.setdefault(path, {"tests": []})["tests"].append({"id": nodeid, "name": nodeid[len(path) + 2:] or nodeid})
    return files


def _mutant(record: MutantRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": record.id,
        "mutatorName": record.operator,
        "description": record.description,
        "replacement": record.replacement,
        "location": {
            "start": {"line": record.line, "column": record.column + 1},
            "end": {"line": record.end_line, "column": record.end_column + 1},
        },
        "status": record.status.value,
        "static": any(use.at_import_time for use in record.uses),
        "duration": round(record.duration * 1000),
    }
    if record.reason:
        entry["statusReason"] = record.reason
    if record.killed_by:
        entry["killedBy"] = list(record.killed_by)
    if record.covered:
        entry["coveredBy"] = sorted({t for use in record.uses for t in use.tests if t != "<import>"})
    if record.status not in (Status.IGNORED,):
        entry["testsCompleted"] = len(record.tests_run) + len(record.killed_by)
    entry["importmut"] = {
        "scope": record.scope,
        "name": record.name,
        "code": record.code,
        "diff": record.diff,
        "testsRun": list(record.tests_run),
        "covered": record.covered,
        "tool": record.tool,
        "cached": record.cached,
        "uses": [asdict(use) for use in record.uses],
    }
    return entry


def to_json(report: Report) -> dict[str, Any]:
    files: dict[str, Any] = {}
    for record in report.ordered():
        files.setdefault(record.path, {"language": "python", "source": report.sources.get(record.path, ""),
                                       "mutants": []})["mutants"].append(_mutant(record))
    high, low = report.thresholds
    return {
        "$schema": "https://git.io/mutation-testing-schema",
        "schemaVersion": SCHEMA_VERSION,
        "thresholds": {"high": high, "low": low},
        "projectRoot": report.project_root,
        "files": dict(sorted(files.items())),
        "testFiles": _test_files(report.tests),
        "framework": {"name": "importmut", "version": __version__},
        "performance": {phase: round(seconds * 1000) for phase, seconds in report.phases.items()}
        if report.phases else {"setup": 0, "initialRun": 0, "mutation": 0},
        "config": {
            "partial": report.partial,
            "deselected": list(report.deselected),
            "warnings": list(report.warnings),
            "score": report.score,
            "stats": report.stats,
            "flaky": list(report.flaky),
        },
    }


def write(report: Report, report_dir: Path) -> Path:
    path = report_dir / FILE_NAME
    path.write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")
    return path


def _record(path: str, entry: dict[str, Any]) -> MutantRecord:
    extra = entry.get("importmut", {})
    start, end = entry["location"]["start"], entry["location"]["end"]
    return MutantRecord(
        id=entry["id"], path=path, line=start["line"], column=start["column"] - 1, end_line=end["line"],
        end_column=end["column"] - 1, operator=entry["mutatorName"], scope=extra.get("scope", ""),
        name=extra.get("name", ""), code=extra.get("code", ""), description=entry.get("description", ""),
        replacement=entry.get("replacement", ""), diff=extra.get("diff", ""), status=Status(entry["status"]),
        killed_by=tuple(entry.get("killedBy", ())), tests_run=tuple(extra.get("testsRun", ())),
        reason=entry.get("statusReason", ""), duration=entry.get("duration", 0) / 1000,
        uses=tuple(Use(u["line"], u["function"], u["at_import_time"], tuple(u["tests"])) for u in extra.get("uses", ())),
        covered=extra.get("covered", True),
        tool=extra.get("tool", "importmut"),
        cached=extra.get("cached", False),
    )


def from_json(data: dict[str, Any]) -> Report:
    records = [_record(path, entry) for path, file in data.get("files", {}).items() for entry in file["mutants"]]
    tests = tuple(t["id"] for file in data.get("testFiles", {}).values() for t in file["tests"])
    config = data.get("config", {})
    performance = data.get("performance", {})
    return Report(
        records=records,
        sources={path: file.get("source", "") for path, file in data.get("files", {}).items()},
        tests=tests, project_root=data.get("projectRoot", ""), partial=config.get("partial", False),
        deselected=tuple(config.get("deselected", ())), warnings=tuple(config.get("warnings", ())),
        phases={k: v / 1000 for k, v in performance.items()},
        thresholds=(data["thresholds"]["high"], data["thresholds"]["low"]),
        stats=dict(config.get("stats", {})),
        flaky=tuple(config.get("flaky", ())),
    )


def read(report_dir: Path) -> Report:
    """Load a report written by `write`; raises OSError or ValueError when it is missing or bad."""
    data = json.loads((report_dir / FILE_NAME).read_text(encoding="utf-8"))
    return from_json(data)
