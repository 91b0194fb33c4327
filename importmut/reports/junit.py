"""`junit.xml`: one testcase per mutant for CI dashboards. A mutant no test caught is a failure, a
harness fault an error, an ignored mutant skipped; caught mutants pass."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from importmut.gate import survivors
from importmut.outcomes import Status
from importmut.reports.model import MutantRecord, Report

FILE_NAME = "junit.xml"


def _case(record: MutantRecord, missed: set[str]) -> ET.Element:
    case = ET.Element("testcase", name=record.id, classname=record.path.replace("/", ".").removesuffix(".py"),
                      time=f"{record.duration:.3f}", file=record.path, line=str(record.line))
    if record.id in missed:
        failure = ET.SubElement(case, "failure", type=record.status.value,
                                message=f"{record.description}: caught by no test")
        failure.text = record.diff
    elif record.status is Status.RUNTIME_ERROR:
        ET.SubElement(case, "error", type="RuntimeError", message=record.reason or "harness fault")
    elif record.status is Status.IGNORED:
        ET.SubElement(case, "skipped", message=record.reason or "ignored")
    else:
        case.set("status", record.status.value)
    return case


def to_xml(report: Report) -> ET.Element:
    missed = {record.id for record in survivors(report)}
    by_file: dict[str, list[MutantRecord]] = defaultdict(list)
    for record in report.ordered():
        by_file[record.path].append(record)
    root = ET.Element("testsuites", name="importmut")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in sorted(by_file):
        records = by_file[path]
        counts = {
            "tests": len(records),
            "failures": sum(1 for r in records if r.id in missed),
            "errors": sum(1 for r in records if r.status is Status.RUNTIME_ERROR),
            "skipped": sum(1 for r in records if r.status is Status.IGNORED),
        }
        suite = ET.SubElement(root, "testsuite", name=path, time=f"{sum(r.duration for r in records):.3f}",
                              **{key: str(value) for key, value in counts.items()})
        for record in records:
            suite.append(_case(record, missed))
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def render(report: Report) -> str:
    tree = ET.ElementTree(to_xml(report))
    ET.indent(tree)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree.getroot(), encoding="unicode") + "\n"


def write(report: Report, report_dir: Path) -> Path:
    path = report_dir / FILE_NAME
    path.write_text(render(report), encoding="utf-8")
    return path
