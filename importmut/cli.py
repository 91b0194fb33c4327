"""The command line: parses options, builds a Config, calls the pipeline, picks reporters.

Exit codes: 0 done (and any gate passed), 1 a gate failed, 2 usage or configuration error,
3 the baseline tests fail, 4 internal error (traceback in the report dir), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import NoReturn

import click

from importmut import __version__, gate, in_diff, mutmut_results, scratch, shard, stats
from importmut.cache import ResultCache
from importmut.config import OPERATORS, Config, ConfigError, load_config
from importmut.lab import BaselineFailed, Lab, SandboxEscape
from importmut.mutants import Catalogue, Mutant, collect
from importmut.progress import Progress
from importmut.reports import json_report, junit, markdown, sarif, table
from importmut.reports.model import Report, build_report, merge_reports
from importmut.runner import interpreter_problem

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


REPORT_FILES = (json_report.FILE_NAME, markdown.FILE_NAME, sarif.FILE_NAME, junit.FILE_NAME)


def _write_reports(report: Report, report_dir: Path) -> None:
    """Every format, rendered from the report as stored, so `importmut report` later gives the same bytes."""
    report = json_report.from_json(json_report.to_json(report))
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        for reporter in (json_report, markdown, sarif, junit):
            reporter.write(report, report_dir)
    except OSError as error:
        fail(f"cannot write the report in {report_dir}: {error.strerror or error}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="importmut")
def main() -> None:
    """Mutation testing for Python import statements: which deleted or moved import would no test catch?"""


def _with_mutmut(report: Report, config: Config, include: bool) -> Report:
    """The report with the mutants of a finished `mutmut run` in the same project (replacing older ones)."""
    if not include:
        return report
    try:
        found = mutmut_results.load(config.root)
    except mutmut_results.MutmutResultsError as error:
        fail(f"--include-mutmut: {error}")
    report.records = [r for r in report.records if r.tool != "mutmut"] + list(found.records)
    for record in found.records:
        if record.path not in report.sources and (config.root / record.path).is_file():
            report.sources[record.path] = (config.root / record.path).read_text(encoding="utf-8", errors="replace")
    note = f"; {found.not_checked} not checked yet" if found.not_checked else ""
    click.echo(f"importmut: {len(found.records)} mutmut mutants added ({found.reader}){note}", err=True)
    return report


def _include_mutmut_option(command):
    return click.option("--include-mutmut", is_flag=True,
                        help="Add the mutants of a finished `mutmut run` in the project to the reports and gate.")(command)


def _gate_options(command):
    command = click.option("--fail-under", type=click.FloatRange(0, 100), metavar="SCORE",
                           help="Exit 1 when the score is under SCORE (or fail_under in config).")(command)
    return click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                        help="An earlier importmut.json: exit 1 only on survivors it does not have.")(command)


def _gate(report: Report, config: Config, fail_under: float | None, baseline_file: str | None) -> int:
    """Print the gates' verdicts; the exit code they call for."""
    baseline = None
    if baseline_file is not None:
        try:
            baseline = json_report.from_json(json.loads(Path(baseline_file).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as error:
            fail(f"--baseline {baseline_file}: cannot be read as an importmut.json ({error})")
    result = gate.evaluate(report, fail_under if fail_under is not None else config.fail_under, baseline)
    for message in result.messages:
        click.echo(message, err=not result.passed)
    return EXIT_OK if result.passed else EXIT_GATE


def _scoped(catalogue: Catalogue, config: Config, since: str | None, shard_text: str | None) -> Catalogue:
    """The mutants this run tests: those in files changed since a revision, and in this shard."""
    mutants = catalogue.mutants
    if since is not None:
        try:
            changed = in_diff.changed_files(config.root, since)
        except in_diff.GitError as error:
            fail(f"--since {since}: {error}")
        kept = [m for m in mutants if m.path in changed]
        click.echo(f"importmut: --since {since}: {len(kept)} mutants in {len({m.path for m in kept})} changed "
                   f"file(s); {len(mutants) - len(kept)} in unchanged files skipped", err=True)
        mutants = kept
    if shard_text is not None:
        try:
            chosen = shard.parse(shard_text)
        except ValueError as error:
            fail(str(error))
        kept = [m for m in mutants if chosen.holds(m.id)]
        click.echo(f"importmut: shard {chosen}: {len(kept)} of {len(mutants)} mutants", err=True)
        mutants = kept
    return Catalogue(mutants, catalogue.warnings, {p: d for p, d in catalogue.sources.items()
                                                   if any(m.path == p for m in mutants)})


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
@click.option("--isolation", type=click.Choice(("live", "fork", "process")),
              help="live (default): as fork, but a mutant that only takes a name out of a module's globals is "
              "applied to a session that imported the project once; fork: warm workers fork per mutant, which "
              "imports the project fresh; process: a fresh interpreter per mutant.")
@click.option("--all-tests", is_flag=True, help="Run the whole suite for every mutant, not only the tests that "
              "can notice it.")
@click.option("--no-cache", is_flag=True, help="Test every mutant again instead of reusing stored verdicts.")
@click.option("--since", metavar="REV", help="Only mutate files changed since this git revision.")
@click.option("--shard", "shard_text", metavar="K/N", help="Test only the K-th of N deterministic shards.")
@_gate_options
@_include_mutmut_option
@click.option("--stats", "show_stats", is_flag=True, help="Print what the run cost and its lower bound.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
def run(path: str, report_dir: str | None, jobs: int | None, operators: tuple[str, ...],
        pytest_extra: tuple[str, ...], deselect_failing: bool | None, isolation: str | None, all_tests: bool,
        no_cache: bool, since: str | None, shard_text: str | None, fail_under: float | None,
        baseline_file: str | None, include_mutmut: bool, show_stats: bool, quiet: bool) -> None:
    """Test every import mutant of the project at PATH and write the reports."""
    config = _config(path, report_dir, jobs=jobs, operators=operators or None, deselect_failing=deselect_failing,
                     isolation=isolation, select_tests=False if all_tests else None)
    config = config.with_overrides(pytest_args=config.pytest_args + pytest_extra)
    if config.python != sys.executable:  # importmut's own interpreter runs the tests by default: no need to ask
        problem = interpreter_problem(config.python)
        if problem:
            fail(problem)
    bar = Progress(click.get_text_stream("stderr"), quiet=quiet)
    removed = scratch.remove_abandoned()
    if removed and not quiet:
        click.echo(f"importmut: removed {removed} temporary folder(s) left by a killed run", err=True)
    cache = None if no_cache else _open_cache(config)
    lab = Lab(config, None, on_outcome=lambda mutant, outcome, done, total: bar.update(outcome, done, total),
              cache=cache)
    try:
        lab.start()  # the baseline runs in its own process while the catalogue is built here
        catalogue = _scoped(_catalogue(config), config, since, shard_text)
    except BaseException:
        lab.abandon()
        if cache is not None:
            cache.close()
        raise
    lab.catalogue = catalogue
    if not quiet:
        click.echo(f"importmut: {len(catalogue.mutants)} mutants in {len(catalogue.sources)} files; "
                   f"running the baseline", err=True)
    try:
        result = lab.run()
    except BaselineFailed as error:
        listed = "".join(f"\n  {nodeid}" for nodeid in error.failing[:50])
        hint = " (--deselect-failing excludes failing tests)" if error.failing else ""
        fail(f"{error}; no mutant was run{hint}{listed}", EXIT_BASELINE)
    except SandboxEscape as error:
        fail(str(error))
    except KeyboardInterrupt:
        lab.stop()
        partial = getattr(lab, "result", None)
        if partial is not None:
            partial.partial = True
            _write_reports(_report(catalogue, partial, config), config.report_dir)
        click.echo("importmut: interrupted; partial report written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if cache is not None:
            cache.close()
    for warning in lab.runner.warnings:
        click.echo(f"importmut: warning: {warning}", err=True)
    reused = sum(1 for outcome in result.outcomes.values() if outcome.cached)
    if reused or lab.baseline_reused:
        click.echo(f"importmut: {reused} verdict(s) reused from {CACHE_DIR}/"
                   + (" (and the baseline: no file changed)" if lab.baseline_reused else "")
                   + "; --no-cache tests everything again", err=True)
    report = _with_mutmut(_report(catalogue, result, config), config, include_mutmut)
    _write_reports(report, config.report_dir)
    click.echo(table.render(report))
    if show_stats:
        click.echo(stats.render(result.run_stats()))
    click.echo(f"reports in {config.report_dir}: " + ", ".join(REPORT_FILES))
    sys.exit(_gate(report, config, fail_under, baseline_file))


CACHE_DIR = ".importmut"


def _open_cache(config: Config) -> ResultCache | None:
    try:
        return ResultCache(config.base_dir / CACHE_DIR / "cache.sqlite3")
    except (OSError, sqlite3.Error) as error:
        click.echo(f"importmut: warning: no result cache ({error}); every mutant is tested", err=True)
        return None


def _report(catalogue: Catalogue, result, config: Config) -> Report:
    report = build_report(catalogue, result, _project_root(config))
    report.thresholds = (config.threshold_high, config.threshold_low)
    return report


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


def _stored_report(config: Config) -> Report:
    try:
        return json_report.read(config.report_dir)
    except FileNotFoundError:
        fail(f"no report in {config.report_dir}; run `importmut run` first")
    except (OSError, ValueError, KeyError) as error:
        fail(f"cannot read {config.report_dir / json_report.FILE_NAME}: {error}")


@main.command()
@click.argument("path", default=".", type=click.Path())
@click.option("--report-dir", type=click.Path(file_okay=False), help="Where the last run wrote its reports.")
def results(path: str, report_dir: str | None) -> None:
    """Print the report of the last run again."""
    click.echo(table.render(_stored_report(_config(path, report_dir))))


FORMATS = {
    "table": table.render,
    "json": lambda report: json.dumps(json_report.to_json(report), indent=2) + "\n",
    "markdown": markdown.render,
    "sarif": lambda report: json.dumps(sarif.to_sarif(report), indent=2) + "\n",
    "junit": junit.render,
}


@main.command()
@click.argument("path", default=".", type=click.Path())
@click.option("--report-dir", type=click.Path(file_okay=False), help="Where the last run wrote its reports.")
@click.option("-f", "--format", "output_format", type=click.Choice(tuple(FORMATS)), default="table",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to this file instead of standard output.")
@_gate_options
@_include_mutmut_option
def report(path: str, report_dir: str | None, output_format: str, output: str | None, fail_under: float | None,
           baseline_file: str | None, include_mutmut: bool) -> None:
    """Render the stored results in one format, without running any test."""
    config = _config(path, report_dir)
    stored = _with_mutmut(_stored_report(config), config, include_mutmut)
    text = FORMATS[output_format](stored)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror or error}")
    if fail_under is not None or baseline_file is not None:
        sys.exit(_gate(stored, config, fail_under, baseline_file))


@main.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--report-dir", required=True, type=click.Path(file_okay=False), help="Where the merged reports go.")
@_gate_options
def merge(shards: tuple[str, ...], report_dir: str, fail_under: float | None, baseline_file: str | None) -> None:
    """Combine the importmut.json of several shards into one report."""
    parts = []
    for name in shards:
        try:
            parts.append(json_report.from_json(json.loads(Path(name).read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError) as error:
            fail(f"{name}: cannot be read as an importmut.json ({error})")
    try:
        merged = merge_reports(parts)
    except ValueError as error:
        fail(str(error))
    target = Path(report_dir).resolve()
    _write_reports(merged, target)
    click.echo(table.render(merged))
    click.echo(f"reports in {target}: " + ", ".join(REPORT_FILES))
    config = Config(base_dir=Path.cwd(), root=Path.cwd(), paths=(".",))
    sys.exit(_gate(merged, config, fail_under, baseline_file))


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
