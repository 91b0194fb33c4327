"""The report model: one record per mutant with everything any reporter shows.

Reporters render this model and nothing else, so a report regenerated from the stored JSON
(`importmut results`) is the same as the one written at the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from importmut.coverage_map import IMPORT_TIME, CoverageMap
from importmut.lab import LabResult, reference_tests
from importmut.mutants import Catalogue, Mutant
from importmut.outcomes import REPORT_ORDER, Outcome, Status, score
from importmut.stats import merge as merge_stats


@dataclass(frozen=True)
class Use:
    """One line where an affected name is used, and the tests that executed that line."""

    line: int
    function: str
    at_import_time: bool
    tests: tuple[str, ...] = ()  # test ids; "<import>" when it ran while tests were collected

    @property
    def executed(self) -> bool:
        return bool(self.tests)


@dataclass(frozen=True)
class MutantRecord:
    id: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    operator: str
    scope: str
    name: str
    code: str
    description: str
    replacement: str
    diff: str
    status: Status
    killed_by: tuple[str, ...] = ()
    tests_run: tuple[str, ...] = ()
    reason: str = ""
    duration: float = 0.0
    uses: tuple[Use, ...] = ()
    covered: bool = True  # False when the run had no coverage map to tell
    tool: str = "importmut"  # "mutmut" for mutants read from a finished `mutmut run`
    cached: bool = False  # the verdict was reused from an earlier run

    @property
    def hoist_is_safe(self) -> bool:
        return self.operator == "hoist" and self.status is Status.SURVIVED

    @property
    def unexecuted_lines(self) -> tuple[int, ...]:
        return tuple(use.line for use in self.uses if not use.executed)


@dataclass
class Report:
    records: list[MutantRecord]
    sources: dict[str, str]  # relpath -> original text of each mutated file
    tests: tuple[str, ...]  # every test id of the baseline
    project_root: str = ""
    partial: bool = False
    deselected: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)
    thresholds: tuple[int, int] = (80, 60)  # high, low
    stats: dict[str, float] = field(default_factory=dict)  # stats.RunStats.as_dict(), when measured
    flaky: tuple[str, ...] = ()  # tests that failed and then passed against the same mutant

    @property
    def score(self) -> float | None:
        return score(record.status for record in self.records)

    def ordered(self) -> list[MutantRecord]:
        """Survivors first, then by file and line."""
        rank = {status: index for index, status in enumerate(REPORT_ORDER)}
        return sorted(self.records, key=lambda r: (rank[r.status], r.path, r.line, r.id))

    def survivors(self) -> list[MutantRecord]:
        return [r for r in self.ordered() if r.status in (Status.SURVIVED, Status.NO_COVERAGE)]


def _uses(mutant: Mutant, coverage: CoverageMap) -> tuple[Use, ...]:
    tested = reference_tests(mutant, coverage)
    uses: dict[int, Use] = {}
    for ref in mutant.references:
        tests = sorted("<import>" if t == IMPORT_TIME else t for t in tested.get(ref.line, ()))
        uses.setdefault(ref.line, Use(ref.line, ref.function, ref.at_import_time, tuple(tests)))
    return tuple(uses[line] for line in sorted(uses))


def record_for(mutant: Mutant, outcome: Outcome, coverage: CoverageMap) -> MutantRecord:
    site = mutant.site
    return MutantRecord(
        id=mutant.id, path=mutant.path, line=site.line, column=site.column, end_line=site.end_line,
        end_column=site.end_column, operator=mutant.operator, scope=mutant.scope, name=mutant.name,
        code=site.code, description=mutant.description, replacement=mutant.replacement,
        diff=mutant.diff if mutant.ignored is None else "", status=outcome.status, killed_by=outcome.killed_by,
        tests_run=outcome.tests_run, reason=outcome.reason, duration=outcome.duration,
        uses=_uses(mutant, coverage), covered=bool(coverage.lines), cached=outcome.cached)


def build_report(catalogue: Catalogue, result: LabResult, project_root: str) -> Report:
    records = [record_for(m, result.outcomes[m.id], result.coverage)
               for m in catalogue.mutants if m.id in result.outcomes]
    sources = {path: data.decode("utf-8", "replace") for path, data in catalogue.sources.items()}
    return Report(records=records, sources=sources, tests=tuple(sorted(result.baseline.tests)),
                  project_root=project_root, partial=result.partial, deselected=result.deselected,
                  warnings=tuple(catalogue.warnings), phases=dict(result.phases),
                  stats=result.run_stats().as_dict(),
                  flaky=tuple(sorted(result.flaky)))


def merge_reports(parts: list[Report]) -> Report:
    """One report from the reports of several shards; a mutant in two of them must agree."""
    if not parts:
        raise ValueError("nothing to merge")
    records: dict[str, MutantRecord] = {}
    for part in parts:
        for record in part.records:
            known = records.get(record.id)
            if known is not None and known.status is not record.status:
                raise ValueError(f"shards disagree on {record.id}: {known.status.value} and {record.status.value}")
            records[record.id] = record
    first = parts[0]
    stats = merge_stats(part.stats for part in parts)
    return Report(
        records=list(records.values()),
        sources={path: text for part in parts for path, text in part.sources.items()},
        tests=tuple(sorted({test for part in parts for test in part.tests})),
        project_root=first.project_root,
        partial=any(part.partial for part in parts),
        deselected=tuple(sorted({t for part in parts for t in part.deselected})),
        warnings=tuple(dict.fromkeys(w for part in parts for w in part.warnings)),
        phases={key: sum(part.phases.get(key, 0.0) for part in parts) for key in first.phases},
        thresholds=first.thresholds,
        stats=stats,
        flaky=tuple(sorted({t for part in parts for t in part.flaky})),
    )
