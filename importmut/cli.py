"""The command line: parses options, builds a Config, calls the pipeline, picks reporters.

Exit codes: 0 done (and any gate passed), 1 a gate failed, 2 usage or configuration error,
3 the baseline tests fail, 4 internal error (traceback in the report dir), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import NoReturn

import click

from importmut import __version__, stats
from importmut.config import Config, ConfigError, load_config
from importmut.lab import BaselineFailed, Lab, SandboxEscape
from importmut.mutants import Catalogue, Mutant, collect
from importmut.operators import OPERATORS
from importmut.progress import Progress
from importmut.reports import json_report, markdown, table
from importmut.reports.model import Report, build_report

EXIT_OK, EXIT_GATE, EXIT_USAGE, EXIT_BASELINE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
ERROR_LOG = "importmut-error.log"
_error_log_dir = Path("reports")  # the CLI's only state: where an internal error's traceback goes


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"importmut: error: {message}", err=True)
    sys.exit(code)


def _config(path: str, report_dir: str | None = None, **overrides: object) -> Config:
    try:
        config = load_config(Path(path))
    except ConfigError as error:
        fail(str(error))
    if report_dir is not None:
        overrides["report_dir"] = Path(report_dir).resolve()
    config = config.with_overrides(**overrides)
    global _error_log_dir
    _error_log_dir = config.report_dir
    return config


def _project_root(config: Config) -> str:
    """The project root as the report names it: relative to the configuration, so reports are portable."""
    return os.path.relpath(config.root, config.base_dir)


def _catalogue(config: Config) -> Catalogue:
    catalogue = collect(config)
    for warning in catalogue.warnings:
        click.echo(f"importmut: warning: {warning}", err=True)
    return catalogue


def _find(catalogue: Catalogue, mutant_id: str) -> Mutant:
    for mutant in catalogue.mutants:
        if mutant.id == mutant_id:
            return mutant
    fail(f"no mutant has the id '{mutant_id}' (`importmut list` shows them)")


def _write_reports(report: Report, report_dir: Path) -> None:
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        json_report.write(report, report_dir)
        markdown.write(report, report_dir)
    except OSError as error:
        fail(f"cannot write the report in {report_dir}: {error.strerror or error}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="importmut")
def main() -> None:
    """Mutation testing for Python import statements: which deleted or moved import would no test catch?"""


@main.command()
@click.argument("path", default=".", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--report-dir", type=click.Path(file_okay=False), help="Where reports go (default: reports/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Mutants tested at once (default: CPUs).")
@click.option("-o", "--operator", "operators", multiple=True, type=click.Choice(OPERATORS),
              help="Operator to apply (repeat for several; default: all but hoist).")
@click.option("--pytest-arg", "pytest_extra", multiple=True, metavar="ARG",
              help="Argument added to every pytest run (repeatable).")
@click.option("--deselect-failing", is_flag=True, default=None,
              help="Exclude tests that fail on the unmutated code instead of stopping.")
@click.option("--isolation", type=click.Choice(("fork", "process")),
              help="fork: warm workers fork per mutant (default); process: a fresh interpreter per mutant.")
@click.option("--all-tests", is_flag=True, help="Run the whole suite for every mutant, not only the tests that "
              "can notice it.")
@click.option("--stats", "show_stats", is_flag=True, help="Print what the run cost and its lower bound.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def run(path: str, report_dir: str | None, jobs: int | None, operators: tuple[str, ...],
        pytest_extra: tuple[str, ...], deselect_failing: bool | None, isolation: str | None, all_tests: bool,
        show_stats: bool, quiet: bool) -> None:
    """Test every import mutant of the project at PATH and write the reports."""
    config = _config(path, report_dir, jobs=jobs, operators=operators or None, deselect_failing=deselect_failing,
                     isolation=isolation, select_tests=False if all_tests else None)
    config = config.with_overrides(pytest_args=config.pytest_args + pytest_extra)
    catalogue = _catalogue(config)

    bar = Progress(click.get_text_stream("stderr"), quiet=quiet)
    lab = Lab(config, catalogue, on_outcome=lambda mutant, outcome, done, total: bar.update(outcome, done, total))
    if not quiet:
        click.echo(f"importmut: {len(catalogue.mutants)} mutants in {len(catalogue.sources)} files; "
                   f"running the baseline", err=True)
    try:
        result = lab.run()
    except BaselineFailed as error:
        listed = "".join(f"\n  {nodeid}" for nodeid in error.failing[:50])
        fail(f"{error}; no mutant was run (--deselect-failing excludes failing tests){listed}", EXIT_BASELINE)
    except SandboxEscape as error:
        fail(str(error))
    except KeyboardInterrupt:
        lab.stop()
        partial = getattr(lab, "result", None)
        if partial is not None:
            partial.partial = True
            _write_reports(build_report(catalogue, partial, _project_root(config)), config.report_dir)
        click.echo("importmut: interrupted; partial report written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    report = build_report(catalogue, result, _project_root(config))
    _write_reports(report, config.report_dir)
    click.echo(table.render(report))
    if show_stats:
        click.echo(stats.render(stats.compute(result.costs.values(), sum(result.phases.values()))))
    click.echo(f"reports: {config.report_dir / json_report.FILE_NAME}, {config.report_dir / markdown.FILE_NAME}")


@main.command("list")
@click.argument("path", default=".", type=click.Path())
@click.option("-o", "--operator", "operators", multiple=True, type=click.Choice(OPERATORS))
def list_mutants(path: str, operators: tuple[str, ...]) -> None:
    """List the mutants of the project at PATH without running anything."""
    config = _config(path, operators=operators or None)
    for mutant in _catalogue(config).mutants:
        note = f"  [ignored: {mutant.ignored}]" if mutant.ignored else ""
        click.echo(f"{mutant.id}  (line {mutant.site.line}){note}")


@main.command()
@click.argument("mutant_id")
@click.argument("path", default=".", type=click.Path())
def show(mutant_id: str, path: str) -> None:
    """Print the unified diff of one mutant."""
    config = _config(path, operators=OPERATORS)
    mutant = _find(_catalogue(config), mutant_id)
    click.echo(mutant.diff or f"{mutant.id} is not mutated: {mutant.ignored}", nl=False)


@main.command()
@click.argument("mutant_id")
@click.argument("path", default=".", type=click.Path())
def apply(mutant_id: str, path: str) -> None:
    """Write one mutant into the working tree, to reproduce it by hand."""
    config = _config(path, operators=OPERATORS)
    mutant = _find(_catalogue(config), mutant_id)
    if mutant.ignored:
        fail(f"{mutant.id} is not mutated: {mutant.ignored}")
    target = config.root / mutant.path
    target.write_bytes(mutant.mutated)
    click.echo(f"importmut: warning: wrote mutant {mutant.id} into {target}; "
               f"undo it with `git checkout -- {mutant.path}` or your editor", err=True)


@main.command()
@click.argument("path", default=".", type=click.Path())
@click.option("--report-dir", type=click.Path(file_okay=False), help="Where the last run wrote its reports.")
def results(path: str, report_dir: str | None) -> None:
    """Print the report of the last run again."""
    config = _config(path, report_dir)
    try:
        report = json_report.read(config.report_dir)
    except FileNotFoundError:
        fail(f"no report in {config.report_dir}; run `importmut run` first")
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot read {config.report_dir / json_report.FILE_NAME}: {error}")
    click.echo(table.render(report))


def entry_point() -> None:
    """Console script: internal faults end in exit 4 with the traceback in a log file."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception:  # noqa: BLE001 - last line of defence: one line for the user, the traceback logged
        log = _error_log_dir.resolve() / ERROR_LOG
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = str(log)
        except OSError:
            where = "unavailable (the report directory is not writable)"
        click.echo(f"importmut: internal error: {sys.exc_info()[1]!r}; traceback in {where}", err=True)
        sys.exit(EXIT_INTERNAL)
