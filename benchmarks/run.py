"""Benchmark importmut on one project against the naive loop and mutmut.

    python benchmarks/run.py PROJECT [--jobs J] [--skip-mutmut] [--json OUT.json] [--naive-every K]

Three runs on the same project, each in its own temporary copy so that they cannot interfere:

(a) the naive loop: for every mutant importmut generates (Ignored ones aside), write the mutant into a
    private copy of the project, run the WHOLE suite in a fresh `python -m pytest -x -q -p no:cacheprovider`
    process, put the original file back. A mutant is detected when pytest exits 1 or 2 (or times out).
    J threads, one project copy each. With --naive-every K only every K-th mutant (in importmut's order) is
    run; its wall time is then extrapolated to all mutants, and verdicts are compared on those only.
(b) importmut: `importmut run COPY --report-dir TMP -q --stats -j J`, statuses and figures read from
    TMP/importmut.json; the peak memory of importmut's own process is read with getrusage(RUSAGE_SELF) in
    that very process (a wrapper runs importmut's console entry point and records it at exit).
(c) mutmut (`mutmut run --max-children J`), which mutates expressions, not imports: compared per mutant.

Then prints a table and writes it, with every figure, as JSON to --json.
Run it with the interpreter that has importmut (and mutmut) installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import importmut
from importmut.config import load_config
from importmut.mutants import collect

NOT_COPIED = {".git", "__pycache__", ".pytest_cache", ".importmut", "mutants", ".mypy_cache", ".ruff_cache",
              ".tox", ".nox", ".venv", "venv", "node_modules"}
DETECTED = {"Killed", "Timeout"}
UNDETECTED = {"Survived", "NoCoverage"}
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]

# Runs importmut's console entry point in this very process and, at exit, records this process's own
# peak resident set size (getrusage RUSAGE_SELF: the importmut process only, not its test processes) and
# the largest of its waited-for descendants (RUSAGE_CHILDREN), for contrast.
RSS_WRAPPER = r"""
import atexit, json, resource, sys
out = sys.argv[1]
def _dump():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as handle:
        json.dump({"self_maxrss_kb": me.ru_maxrss, "children_maxrss_kb": kids.ru_maxrss,
                   "self_cpu_seconds": me.ru_utime + me.ru_stime,
                   "children_cpu_seconds": kids.ru_utime + kids.ru_stime}, handle)
atexit.register(_dump)
sys.argv = ["importmut"] + sys.argv[2:]
from importmut.cli import entry_point
entry_point()
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def copy_project(project: Path, destination: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {name for name in names if name in NOT_COPIED or name.endswith(".pyc")
                or (Path(folder, name) / "pyvenv.cfg").is_file()}

    shutil.copytree(project, destination, symlinks=True, ignore=ignore)
    return destination


def install_dependencies(project: Path) -> None:
    """Put a generated project's `third_party/` (generate.py) on PYTHONPATH for every tool run from here,
    as site-packages would be: its modules are installed dependencies, not the project's own."""
    site = project / "third_party"
    if site.is_dir():
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPORTMUT_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def children_cpu() -> float:
    """CPU seconds of every finished child process of this one (and their waited-for descendants)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class LoadSampler:
    """The machine's 1-minute load average every 15 s: other work on the machine skews wall times."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(15):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict[str, float]:
        self._stop.set()
        samples = self.samples or [os.getloadavg()[0]]
        return {"mean": round(sum(samples) / len(samples), 2), "max": round(max(samples), 2), "samples": len(samples)}


def run_group(command: list[str], cwd: Path, timeout: float | None, output_path: Path | None = None,
              env: dict[str, str] | None = None) -> tuple[int | None, bool, float, str]:
    """Run a command in a session of its own; kill the whole group on timeout.
    Returns (exit code, timed out, seconds, the tail of its output)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() if output_path is None else open(output_path, "w+b") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env or clean_env(), stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        finally:
            try:  # whatever the tests left behind
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        elapsed = time.monotonic() - started
        output.seek(0, os.SEEK_END)
        size = output.tell()
        output.seek(max(0, size - 4000))
        tail = output.read().decode("utf-8", "replace")
    return process.returncode, timed_out, elapsed, tail


def drop_bytecode(path: Path) -> None:
    """A stale .pyc must never stand in for the source just written (same size, same mtime second)."""
    for compiled in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        compiled.unlink(missing_ok=True)


def engine_version() -> dict[str, object]:
    """Which importmut was measured: its version, the git revision of its checkout, a hash of its sources."""
    package = Path(importmut.__file__).resolve().parent
    hasher = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        hasher.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    info: dict[str, object] = {"version": importmut.__version__, "sources_sha256": hasher.hexdigest()[:16],
                               "location": str(package)}
    try:
        head = subprocess.run(["git", "-C", str(package.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(package.parent), "status", "--porcelain", "--", "importmut"],
                               capture_output=True, text=True, check=True).stdout.strip()
        info["git_head"] = head
        info["uncommitted_engine_changes"] = bool(dirty)
    except (OSError, subprocess.CalledProcessError):
        pass
    return info


# ----------------------------------------------------------------------------------------------- mutants

@dataclass
class MutantInfo:
    id: str
    path: str
    original: bytes = field(repr=False)
    mutated: bytes = field(repr=False)
    ignored: str | None


def load_mutants(project: Path) -> list[MutantInfo]:
    config = load_config(project)
    return [MutantInfo(m.id, m.path, m.original, m.mutated, m.ignored) for m in collect(config).mutants]


# ----------------------------------------------------------------------------------------------- naive

@dataclass
class NaiveResult:
    mutants_total: int  # not Ignored
    mutants_run: int
    every: int
    baseline_seconds: float
    wall_seconds: float  # the mutant loop, measured
    seconds_per_mutant: float
    wall_seconds_all: float  # measured, or extrapolated to every mutant when sampled
    extrapolated: bool
    cpu_seconds_per_mutant: float  # CPU of the pytest processes, per mutant
    load: dict[str, float]
    verdicts: dict[str, dict] = field(default_factory=dict)  # id -> exit, timed_out, seconds, detected


def naive_loop(project: Path, work: Path, mutants: list[MutantInfo], jobs: int, every: int,
               python: str) -> NaiveResult:
    todo_all = [m for m in mutants if m.ignored is None]
    todo = todo_all[::every]
    copies = [copy_project(project, work / f"naive-{i}" / project.name) for i in range(jobs)]
    # the baseline in every copy: checks the suite passes, and compiles everything once (as a developer's
    # tree would have it); the mutated file's .pyc is dropped before and after each mutant
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        baselines = list(pool.map(lambda c: run_group([python, *PYTEST], c, None), copies))
    for code, _, seconds, tail in baselines:
        if code != 0:
            raise SystemExit(f"run.py: the baseline suite fails (pytest exit {code}); no mutant can be judged:\n"
                             + tail)
    baseline_seconds = min(seconds for _, _, seconds, _ in baselines)
    timeout = baseline_seconds * 5 + 30
    log(f"naive loop: {len(todo)} of {len(todo_all)} mutants, whole suite each (baseline "
        f"{baseline_seconds:.1f}s), {jobs} job(s)")
    free: queue.Queue[Path] = queue.Queue()
    for c in copies:
        free.put(c)

    def one(mutant: MutantInfo) -> tuple[str, dict]:
        root = free.get()
        try:
            target = root / mutant.path
            target.write_bytes(mutant.mutated)
            drop_bytecode(target)
            try:
                code, timed_out, seconds, tail = run_group([python, *PYTEST], root, timeout)
            finally:
                target.write_bytes(mutant.original)
                drop_bytecode(target)
        finally:
            free.put(root)
        detected = timed_out or code in (1, 2)
        entry = {"exit": code, "timed_out": timed_out, "seconds": round(seconds, 3), "detected": detected}
        if code not in (0, 1, 2) or timed_out:
            entry["output_tail"] = tail[-1500:]
        return mutant.id, entry

    verdicts: dict[str, dict] = {}
    cpu_before = children_cpu()
    sampler = LoadSampler()
    started = time.monotonic()
    last = started
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, m) for m in todo]
        for future in as_completed(futures):
            mutant_id, entry = future.result()
            verdicts[mutant_id] = entry
            if time.monotonic() - last > 60:
                last = time.monotonic()
                elapsed = last - started
                log(f"naive loop: {len(verdicts)}/{len(todo)} in {elapsed:.0f}s, "
                    f"about {elapsed / len(verdicts) * (len(todo) - len(verdicts)):.0f}s to go")
    wall = time.monotonic() - started
    cpu = children_cpu() - cpu_before
    load = sampler.stop()
    per_mutant = wall / len(todo) if todo else 0.0
    for c in copies:
        shutil.rmtree(c.parent, ignore_errors=True)
    ordered = {m.id: verdicts[m.id] for m in todo}
    return NaiveResult(len(todo_all), len(todo), every, baseline_seconds, wall, per_mutant,
                       per_mutant * len(todo_all) if every > 1 else wall, every > 1,
                       cpu / len(todo) if todo else 0.0, load, ordered)


# ----------------------------------------------------------------------------------------------- importmut

@dataclass
class ImportmutResult:
    command: list[str]
    exit_code: int | None
    wall_seconds: float  # the whole `importmut run` process, start to exit
    mutants_total: int  # not Ignored
    seconds_per_mutant: float
    statuses: dict[str, str]  # id -> status
    counts: dict[str, int]
    stats: dict[str, float]  # config.stats of importmut.json
    performance_ms: dict[str, int]
    rss: dict[str, float]
    time_v: dict[str, str]
    analysis: dict[str, float] = field(default_factory=dict)  # where the mutant runs' time went
    cpu_seconds_per_mutant: float = 0.0  # importmut and every process it started, per mutant
    load: dict[str, float] = field(default_factory=dict)
    error: str = ""


def importmut_has_option(python: str, option: str) -> bool:
    out = subprocess.run([python, "-m", "importmut", "run", "--help"], capture_output=True, text=True).stdout
    return option in out


def run_importmut(project: Path, work: Path, jobs: int, python: str, extra: list[str], label: str,
                  timeout: float) -> ImportmutResult:
    root = copy_project(project, work / f"{label}-copy" / project.name)
    report_dir = work / f"{label}-report"
    rss_file = work / f"{label}-rss.json"
    args = ["run", str(root), "--report-dir", str(report_dir), "-q", "--stats", "-j", str(jobs), *extra]
    if importmut_has_option(python, "--no-cache"):
        args.append("--no-cache")  # a fresh copy has no cache anyway; be explicit
    command = [python, "-c", RSS_WRAPPER, str(rss_file), *args]
    time_v = Path("/usr/bin/time").exists()  # its maximum RSS covers importmut *and* its test processes
    full = (["/usr/bin/time", "-v"] if time_v else []) + command
    log(f"importmut ({label}): importmut {' '.join(args)}")
    log_path = work / f"{label}-output.txt"
    sampler = LoadSampler()
    cpu_before = children_cpu()
    code, timed_out, wall, tail = run_group(full, root.parent, timeout, output_path=log_path)
    cpu = children_cpu() - cpu_before
    load = sampler.stop()
    shown = ["importmut", *args]
    result = ImportmutResult(shown, code, wall, 0, 0.0, {}, {}, {}, {}, {}, {}, load=load)
    if timed_out:
        result.error = f"importmut did not finish within {timeout:.0f}s"
    text = log_path.read_text("utf-8", "replace")
    if time_v:
        for key, pattern in (("max_rss_kb_process_or_any_descendant", r"Maximum resident set size \(kbytes\): (\d+)"),
                             ("elapsed", r"Elapsed \(wall clock\) time.*?: (\S+)")):
            match = re.search(pattern, text)
            if match:
                result.time_v[key] = match.group(1)
    try:
        rss = json.loads(rss_file.read_text())
        result.rss = {"self_peak_mb": rss["self_maxrss_kb"] / 1024,
                      "largest_descendant_peak_mb": rss["children_maxrss_kb"] / 1024,
                      "self_cpu_seconds": rss["self_cpu_seconds"],
                      "children_cpu_seconds": rss["children_cpu_seconds"]}
    except (OSError, ValueError, KeyError):
        pass
    try:
        data = json.loads((report_dir / "importmut.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        result.error = result.error or f"importmut exited {code} without a report ({error}): {tail[-1500:]}"
        shutil.rmtree(root.parent, ignore_errors=True)
        return result
    for file in data["files"].values():
        for mutant in file["mutants"]:
            result.statuses[mutant["id"]] = mutant["status"]
            if mutant.get("cached") or mutant.get("importmut", {}).get("cached"):
                result.error = "importmut reused cached verdicts; the run is not a cold run"
    for status in result.statuses.values():
        result.counts[status] = result.counts.get(status, 0) + 1
    result.stats = dict(data.get("config", {}).get("stats", {}))
    result.performance_ms = dict(data.get("performance", {}))
    result.mutants_total = sum(1 for s in result.statuses.values() if s != "Ignored")
    result.seconds_per_mutant = wall / result.mutants_total if result.mutants_total else 0.0
    result.cpu_seconds_per_mutant = cpu / result.mutants_total if result.mutants_total else 0.0
    if code not in (0, 1):
        result.error = result.error or f"importmut exited {code}: {tail[-1500:]}"
    result.analysis = cost_analysis(data)
    shutil.copyfile(report_dir / "importmut.json", work / f"{label}-importmut.json")
    shutil.rmtree(root.parent, ignore_errors=True)
    return result


def cost_analysis(data: dict) -> dict[str, float]:
    """From importmut.json: the mutants that needed a test run, their durations, and two kinds of expensive
    runs: wide selections (more than 50 tests: the mutant acts while its module is imported, so every test
    whose file imports the module, even indirectly, is selected) and kills that came only after other tests
    ran although the killing test executes a line that uses the name."""
    runs = [m for f in data["files"].values() for m in f["mutants"] if m.get("duration", 0) > 0]
    if not runs:
        return {}
    durations = sorted(m["duration"] / 1000 for m in runs)
    wide = [m for m in runs if m.get("testsCompleted", 0) > 50]
    late = [m for m in runs if m["status"] == "Killed" and m.get("testsCompleted", 0) > 1
            and set(m.get("killedBy", ())) & set(m.get("coveredBy", ()))]
    return {
        "runs": len(runs), "run_seconds_total": sum(durations),
        "run_seconds_median": durations[len(durations) // 2],
        "tests_per_run_mean": sum(m.get("testsCompleted", 0) for m in runs) / len(runs),
        "wide_runs": len(wide), "wide_run_seconds": sum(m["duration"] for m in wide) / 1000,
        "late_kills": len(late), "late_kill_seconds": sum(m["duration"] for m in late) / 1000,
    }


# ----------------------------------------------------------------------------------------------- mutmut

@dataclass
class MutmutResult:
    version: str = ""
    command: list[str] = field(default_factory=list)
    config_added: str = ""
    exit_code: int | None = None
    wall_seconds: float = 0.0
    mutants_total: int = 0
    mutants_run: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds_per_mutant: float = 0.0
    mutations_per_second_reported: float | None = None
    cpu_seconds_per_mutant: float = 0.0
    load: dict[str, float] = field(default_factory=dict)
    error: str = ""


def mutmut_section(project: Path) -> str:
    """[tool.mutmut] for a project that has none, from importmut's view of it."""
    config = load_config(project)
    paths = ", ".join(json.dumps(p.rstrip("/") + "/") for p in config.paths)
    tests = ", ".join(json.dumps(t.rstrip("/") + "/") for t in config.tests)
    return f"\n[tool.mutmut]\npaths_to_mutate = [{paths}]\ntests_dir = [{tests}]\n"


def run_mutmut(project: Path, work: Path, jobs: int, python: str, timeout: float) -> MutmutResult:
    result = MutmutResult()
    try:
        from importlib.metadata import PackageNotFoundError, version

        result.version = version("mutmut")
    except PackageNotFoundError:
        result.error = "mutmut is not installed in this interpreter (pip install 'mutmut>=3.2,<3.9')"
        return result
    root = copy_project(project, work / "mutmut-copy" / project.name)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
    if "[tool.mutmut]" not in text:
        result.config_added = mutmut_section(project)
        pyproject.write_text(text + result.config_added, encoding="utf-8")
    executable = Path(python).parent / "mutmut"
    command = [str(executable) if executable.exists() else "mutmut", "run", "--max-children", str(jobs)]
    result.command = ["mutmut", "run", "--max-children", str(jobs)]
    log(f"mutmut {result.version}: {' '.join(result.command)} in a copy of {project.name}")
    log_path = work / "mutmut-output.txt"
    env = clean_env()
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    sampler = LoadSampler()
    cpu_before = children_cpu()
    code, timed_out, wall, tail = run_group(command, root, timeout, output_path=log_path, env=env)
    cpu = children_cpu() - cpu_before
    result.load = sampler.stop()
    result.exit_code, result.wall_seconds = code, wall
    output = log_path.read_text("utf-8", "replace")
    match = re.findall(r"([\d.]+) mutations/second", output)
    if match:
        result.mutations_per_second_reported = float(match[-1])
    if timed_out:
        result.error = f"mutmut did not finish within {timeout:.0f}s (killed)"
    elif code != 0:
        result.error = f"mutmut run exited {code}: " + "\n".join(tail.strip().splitlines()[-25:])
    stats_file = root / "mutants" / "mutmut-cicd-stats.json"
    export = run_group(command[:1] + ["export-cicd-stats"], root, 600, env=env)
    if stats_file.exists():
        counts = json.loads(stats_file.read_text())
        result.counts = {k: v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)}
        result.mutants_total = int(counts.get("total", 0))
        result.mutants_run = result.mutants_total - int(counts.get("no_tests", 0)) - int(counts.get("skipped", 0))
        if result.mutants_total:
            result.seconds_per_mutant = wall / result.mutants_total
            result.cpu_seconds_per_mutant = cpu / result.mutants_total
    elif not result.error:
        result.error = f"mutmut export-cicd-stats wrote nothing (exit {export[0]}): {export[3][-1500:]}"
    if result.mutants_total == 0 and not result.error:
        result.error = "mutmut reported no mutants"
    shutil.copyfile(log_path, work / "mutmut-output-kept.txt")
    shutil.rmtree(root.parent, ignore_errors=True)
    return result


# ----------------------------------------------------------------------------------------------- report

def compare(naive: NaiveResult, tool: ImportmutResult) -> dict:
    disagreements = []
    for mutant_id, entry in naive.verdicts.items():
        status = tool.statuses.get(mutant_id, "missing")
        ours = True if status in DETECTED else False if status in UNDETECTED else None
        if ours is None or ours != entry["detected"] or entry["exit"] not in (0, 1, 2):
            disagreements.append({"id": mutant_id, "importmut": status,
                                  "naive": ("detected" if entry["detected"] else "not detected")
                                  + f" (pytest exit {entry['exit']}{', timed out' if entry['timed_out'] else ''})"})
    return {"compared": len(naive.verdicts), "agree": len(naive.verdicts) - len(disagreements),
            "disagreements": disagreements}


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def render(summary: dict) -> str:
    rows = []
    naive, tools, mutmut = summary.get("naive"), summary["importmut"], summary.get("mutmut")
    if naive:
        note = f" (1 in {naive['every']}: {naive['mutants_run']} run, wall extrapolated)" if naive["extrapolated"] else ""
        rows.append(("naive loop" + note, naive["mutants_total"], naive["wall_seconds_all"],
                     naive["seconds_per_mutant"], naive["cpu_seconds_per_mutant"], naive["load"]))
    for label, tool in tools.items():
        rows.append((label, tool["mutants_total"], tool["wall_seconds"], tool["seconds_per_mutant"],
                     tool["cpu_seconds_per_mutant"], tool["load"]))
    if mutmut and not mutmut.get("error"):
        rows.append((f"mutmut {mutmut['version']} (expression mutants)", mutmut["mutants_total"],
                     mutmut["wall_seconds"], mutmut["seconds_per_mutant"], mutmut["cpu_seconds_per_mutant"],
                     mutmut["load"]))
    width = max(len(r[0]) for r in rows)
    engine = summary.get("engine", {})
    lines = [f"project: {summary['project']}  ({summary['jobs']} jobs, {summary['machine']['cpus']} CPUs; importmut "
             f"{engine.get('version')} at {engine.get('git_head', '?')}"
             f"{' + uncommitted changes' if engine.get('uncommitted_engine_changes') else ''}, "
             f"sources {engine.get('sources_sha256')})"
             + ("  WARNING: importmut changed during the run" if summary.get("engine_changed_during_run") else ""),
             "",
             f"{'tool':<{width}}  {'mutants':>7}  {'wall s':>8}  {'s/mutant':>8}  {'CPU s/mutant':>12}  {'load':>4}",
             f"{'-' * width}  {'-' * 7}  {'-' * 8}  {'-' * 8}  {'-' * 12}  {'-' * 4}"]
    for label, count, wall, per, cpu, load in rows:
        lines.append(f"{label:<{width}}  {count:>7}  {wall:>8.1f}  {per:>8.3f}  {cpu:>12.3f}  "
                     f"{load.get('mean', 0):>4.1f}")
    lines.append("")
    main = tools.get("importmut")
    if main:
        stats = main["stats"]
        if naive and main["wall_seconds"]:
            lines.append(f"naive / importmut wall:             {naive['wall_seconds_all'] / main['wall_seconds']:.1f}x"
                         + (" (naive extrapolated)" if naive["extrapolated"] else ""))
        if mutmut and not mutmut.get("error") and mutmut["seconds_per_mutant"]:
            lines.append(f"importmut / mutmut s per mutant:    "
                         f"{main['seconds_per_mutant'] / mutmut['seconds_per_mutant']:.2f}")
        if stats:
            lines.append(f"importmut overhead per mutant run:  {stats.get('overhead_per_mutant', 0) * 1000:.0f} ms "
                         f"beyond its tests ({stats.get('mutants_run', '?')} of {stats.get('mutants', '?')} "
                         f"mutants needed a test run; {stats.get('live_runs', 0)} runs in a live worker; workers' "
                         f"start-up apart: {stats.get('worker_startup_seconds', 0):.1f}s)")
            lines.append(f"importmut efficiency:               {stats.get('efficiency', 0):.1%} "
                         f"(lower bound {stats.get('lower_bound_seconds', 0):.1f}s / its wall "
                         f"{stats.get('wall_seconds', 0):.1f}s)")
        if main.get("performance_ms"):
            phases = {k: v / 1000 for k, v in main["performance_ms"].items()}
            lines.append("importmut wall breakdown:           " + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items())
                         + f", outside those (start-up, mutant catalogue, reports) "
                         f"{main['wall_seconds'] - sum(phases.values()):.1f}s")
        if main.get("rss"):
            lines.append(f"importmut peak memory (own process): {main['rss']['self_peak_mb']:.0f} MB "
                         f"(largest test process: {main['rss']['largest_descendant_peak_mb']:.0f} MB)")
        analysis = main.get("analysis")
        if analysis:
            lines.append(f"importmut test runs:                {analysis['runs']} runs, median "
                         f"{analysis['run_seconds_median'] * 1000:.0f} ms, {analysis['tests_per_run_mean']:.1f} tests "
                         f"per run on average, {analysis['run_seconds_total']:.0f}s in all (job-seconds)")
            lines.append(f"  wide runs (>50 tests):            {analysis['wide_runs']} runs, "
                         f"{analysis['wide_run_seconds']:.0f}s")
            lines.append(f"  late kills (killer covers a use): {analysis['late_kills']} runs, "
                         f"{analysis['late_kill_seconds']:.0f}s")
        lines.append(f"importmut statuses:                 "
                     + ", ".join(f"{k} {v}" for k, v in sorted(main["counts"].items())))
    for label, tool in tools.items():
        agreement = summary.get("agreement", {}).get(label)
        if agreement:
            verdict = "yes" if not agreement["disagreements"] else "NO"
            lines.append(f"{label} verdicts = naive loop's on every compared mutant: {verdict} "
                         f"({agreement['agree']}/{agreement['compared']} agree)")
            for d in agreement["disagreements"]:
                lines.append(f"  DISAGREE {d['id']}: {label} {d['importmut']}, naive {d['naive']}")
        if tool.get("error"):
            lines.append(f"{label} problem: {tool['error']}")
    if mutmut:
        if mutmut.get("error"):
            lines.append(f"mutmut: not compared: {mutmut['error']}")
        else:
            lines.append(f"mutmut counts: " + ", ".join(f"{k} {v}" for k, v in mutmut["counts"].items())
                         + f"; {mutmut['mutants_run']} needed a test run; mutmut's own figure for its mutation "
                         f"phase: {fmt(mutmut['mutations_per_second_reported'], '.2f')} mutations/second")
        if mutmut.get("config_added"):
            lines.append("mutmut: the copy's pyproject.toml had no [tool.mutmut]; added: "
                         + mutmut["config_added"].strip().replace("\n", " "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-mutmut", action="store_true")
    parser.add_argument("--skip-naive", action="store_true", help="no naive loop (so no verdict comparison)")
    parser.add_argument("--naive-every", type=int, default=1, metavar="K",
                        help="naive loop on every K-th mutant only (deterministic), wall time extrapolated")
    parser.add_argument("--also-process", action="store_true",
                        help="also run importmut with --isolation process, as another importmut row")
    parser.add_argument("--also-fork", action="store_true",
                        help="also run importmut with --isolation fork (no live worker), as another importmut row")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--timeout", type=float, default=45 * 60, help="per tool run, seconds (default 2700)")
    parser.add_argument("--keep", type=Path, help="keep the reports and logs in this folder")
    args = parser.parse_args(argv)

    project = args.project.resolve()
    if not project.is_dir():
        parser.error(f"{project} is not a directory")
    python = sys.executable
    install_dependencies(project)
    work = Path(tempfile.mkdtemp(prefix="importmut-bench-"))
    summary: dict = {
        "project": str(args.project), "jobs": args.jobs,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "engine": engine_version(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        mutants = load_mutants(project)
        summary["mutants_listed"] = len(mutants)
        summary["mutants_ignored"] = sum(1 for m in mutants if m.ignored)
        summary["importmut"] = {}
        rows = [("importmut", [])]
        rows += [("importmut --isolation fork", ["--isolation", "fork"])] if args.also_fork else []
        rows += [("importmut --isolation process", ["--isolation", "process"])] if args.also_process else []
        for label, extra in rows:
            result = run_importmut(project, work, args.jobs, python, extra, label.replace(" ", "_").replace("-", ""),
                                   args.timeout)
            summary["importmut"][label] = asdict(result)
            log(f"{label}: {result.wall_seconds:.1f}s, {result.counts} {result.error}")
        if not args.skip_naive:
            naive = naive_loop(project, work, mutants, args.jobs, max(1, args.naive_every), python)
            summary["naive"] = asdict(naive)
            log(f"naive loop: {naive.wall_seconds:.1f}s for {naive.mutants_run} mutants")
            summary["agreement"] = {}
            for label, tool in summary["importmut"].items():
                summary["agreement"][label] = compare(naive, ImportmutResult(**{**tool}))
        if not args.skip_mutmut:
            result = run_mutmut(project, work, args.jobs, python, args.timeout)
            summary["mutmut"] = asdict(result)
            log(f"mutmut: {result.wall_seconds:.1f}s, {result.counts} {result.error}")
    finally:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for item in work.iterdir():
                if item.is_file():
                    shutil.copyfile(item, args.keep / item.name)
        shutil.rmtree(work, ignore_errors=True)
    summary["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    end_engine = engine_version()
    if end_engine.get("sources_sha256") != summary["engine"].get("sources_sha256"):
        summary["engine_changed_during_run"] = end_engine
        log("warning: importmut's sources changed while the benchmark ran; figures may mix two versions")
    table = render(summary)
    summary["table"] = table
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        compact = json.loads(json.dumps(summary))
        for tool in compact["importmut"].values():  # statuses are kept: they are the verdicts compared
            tool["statuses"] = dict(sorted(tool["statuses"].items()))
        args.json.write_text(json.dumps(compact, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
