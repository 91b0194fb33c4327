"""The terminal table: one row per mutant, survivors first."""

from __future__ import annotations

from tabulate import tabulate

from importmut.outcomes import Status, summary_line
from importmut.reports.model import MutantRecord, Report

HEADERS = ("file", "line", "operator", "import", "status", "where the name is used", "tests")


def _where(record: MutantRecord, limit: int = 4) -> str:
    shown = [f"{use.line} {use.function.rsplit('.', 1)[-1] if use.function != '<module>' else 'module level'}"
             + ("" if use.executed or not record.covered else " (not run)") for use in record.uses[:limit]]
    if len(record.uses) > limit:
        shown.append(f"+{len(record.uses) - limit} more")
    return ", ".join(shown) or "-"


def _tests(record: MutantRecord) -> str:
    if record.killed_by:
        more = f" +{len(record.killed_by) - 1}" if len(record.killed_by) > 1 else ""
        return record.killed_by[0] + more
    if record.hoist_is_safe:
        return "safe to hoist"
    if record.status is Status.NO_COVERAGE:
        return "no test runs the uses"
    if record.status is Status.SURVIVED:
        return f"{len(record.tests_run)} ran and passed"
    return record.reason[:60]


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _change(record: MutantRecord) -> str:
    """The import, and what the operator did to it where the operator name alone does not say."""
    return _shorten(_full_change(record))


def _full_change(record: MutantRecord) -> str:
    if record.operator == "drop-name":
        return f"{record.code} (drop {record.name})"
    if record.operator == "localize":
        return f"{record.code} -> {record.scope.rsplit('.', 1)[-1]}()"
    if record.operator == "hoist":
        return f"{record.code} (from {record.scope}())"
    return record.code


def render(report: Report) -> str:
    rows = [(r.path, r.line, r.operator, _change(r), r.status.value, _where(r), _tests(r))
            for r in report.ordered()]
    table = tabulate(rows, headers=HEADERS, tablefmt="simple") if rows else "no import mutants"
    lines = [table, "", summary_line(r.status for r in report.records)]
    if report.partial:
        lines.append("PARTIAL: the run was interrupted; mutants not tested are missing from this report")
    if report.deselected:
        lines.append(f"{len(report.deselected)} test(s) failing on the unmutated code were deselected")
    if report.flaky:
        lines.append(f"flaky tests (no kill rests on them alone): {', '.join(report.flaky)}")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines)
