"""Gates for CI: a minimum score, and no survivor that an earlier report did not already have.

A survivor is a Survived or NoCoverage mutant, except a `hoist` survivor, which means the hoist is
safe rather than that a test is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from importmut.outcomes import Status
from importmut.reports.model import MutantRecord, Report


@dataclass(frozen=True)
class GateResult:
    passed: bool
    messages: tuple[str, ...] = ()
    new_survivors: tuple[MutantRecord, ...] = field(default=())


def survivors(report: Report) -> list[MutantRecord]:
    return [r for r in report.records
            if r.status in (Status.SURVIVED, Status.NO_COVERAGE) and not r.hoist_is_safe]


def evaluate(report: Report, fail_under: float | None = None, baseline: Report | None = None) -> GateResult:
    messages: list[str] = []
    passed = True
    score = report.score
    if fail_under is not None:
        if score is not None and score < fail_under:
            passed = False
            messages.append(f"gate failed: score {score:.1f}% is under --fail-under {fail_under:g}%")
        else:
            shown = "n/a" if score is None else f"{score:.1f}%"
            messages.append(f"gate passed: score {shown} (--fail-under {fail_under:g}%)")
    new: list[MutantRecord] = []
    if baseline is not None:
        known = {record.id for record in survivors(baseline)}
        new = [record for record in survivors(report) if record.id not in known]
        if new:
            passed = False
            messages.append(f"gate failed: {len(new)} survivor(s) not in the baseline report:")
            messages.extend(f"  {record.id} ({record.path}:{record.line})" for record in new)
        else:
            messages.append("gate passed: no survivor that the baseline report did not have")
    return GateResult(passed, tuple(messages), tuple(new))
