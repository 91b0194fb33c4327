"""Where importmut's time per mutant goes: phases of each test run, and the main process's share.

    python benchmarks/phases.py PROJECT [--jobs J] [--isolation fork|process] [--json OUT.json]

Runs `importmut run` on a temporary copy of PROJECT with one more pytest plugin (`-p _bench_phases`, put on
PYTHONPATH) that timestamps each test run: the process start (from /proc: the fork, or the exec), pytest's
plugins loaded, configure, session start, collection done (the project's modules and the test files
imported), session finish, and the tests' own durations (setup + call + teardown). The baseline run is left
out. A child forked from the session a warm worker holds inherits that session's start-up, configuration and
session start: they count as nothing in its run, and its collection begins at the fork. importmut's own
per-mutant duration (importmut.json) minus the child's lifetime is the harness cost (starting the child,
reading its results). `importmut list` is timed separately for the mutant catalogue.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import clean_env, copy_project, install_dependencies  # benchmarks/run.py, next to this script

PLUGIN = r'''
"""Timestamps of one pytest run, appended as a JSON line to $BENCH_PHASES."""
import json, os, time

import pytest

_T = {"plugin": time.time(), "tests": 0.0, "ntests": 0, "failed": False,
      "baseline": bool(os.environ.get("IMPORTMUT_COVERAGE"))}


def _process_start():
    with open("/proc/self/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    with open("/proc/uptime") as handle:
        uptime = float(handle.read().split()[0])
    return time.time() - uptime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


_T["start"] = _process_start()
_T["pid"] = os.getpid()


def pytest_configure(config):
    _T["configure"] = time.time()


def pytest_sessionstart(session):
    _T["sessionstart"] = time.time()


def pytest_collection(session):
    _T["collection"] = time.time()  # after a warm worker's held session forked the child (its hook is tryfirst)


def pytest_collection_finish(session):
    _T["collected"] = time.time()


def pytest_runtest_logreport(report):
    _T["tests"] += report.duration
    if report.when == "call":
        _T["ntests"] += 1
    if report.failed:
        _T["failed"] = True


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    _T["finish"] = time.time()
    _T["held"] = os.getpid() != _T["pid"]  # the session began in the process this child was forked from
    _T.setdefault("collected", _T["finish"])
    fd = os.open(os.environ["BENCH_PHASES"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, (json.dumps(_T) + "\n").encode())
    os.close(fd)
'''


def held(run: dict) -> bool:
    """Whether the child was forked from a session the warm worker holds (worker.py): it inherits that
    session's start-up, configuration and session start, whose timestamps predate the child."""
    return bool(run.get("held"))


def summarize(runs: list[dict], durations_ms: list[int]) -> dict[str, dict[str, float]]:
    runs = [{**r, **dict.fromkeys(("start", "plugin", "configure", "sessionstart"), r["collection"])} if held(r)
            else r for r in runs]
    phases = {
        "startup (process start -> pytest plugins loaded)": [r["plugin"] - r["start"] for r in runs],
        "configure": [r["configure"] - r["plugin"] for r in runs],
        "session start": [r["sessionstart"] - r["configure"] for r in runs],
        "collection (imports project modules and test files)": [r["collected"] - r["sessionstart"] for r in runs],
        "tests' own durations": [r["tests"] for r in runs],
        "run loop beyond the tests (reports, failure formatting)":
            [r["finish"] - r["collected"] - r["tests"] for r in runs],
        "child lifetime (process start -> session finish)": [r["finish"] - r["start"] for r in runs],
    }
    table = {name: {"median_ms": statistics.median(v) * 1000, "mean_ms": statistics.mean(v) * 1000,
                    "total_s": sum(v)} for name, v in phases.items() if v}
    if durations_ms:
        lifetime = statistics.mean(phases["child lifetime (process start -> session finish)"])
        mean = statistics.mean(durations_ms) / 1000
        table["importmut's duration per run (importmut.json)"] = {
            "median_ms": statistics.median(durations_ms), "mean_ms": mean * 1000, "total_s": sum(durations_ms) / 1000}
        table["harness: duration - child lifetime (mean)"] = {
            "median_ms": float("nan"), "mean_ms": (mean - lifetime) * 1000, "total_s": float("nan")}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--isolation", choices=("fork", "process"), default="fork")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    project = args.project.resolve()
    work = Path(tempfile.mkdtemp(prefix="importmut-phases-"))
    try:
        root = copy_project(project, work / "copy" / project.name)
        plugin_dir = work / "plugin"
        plugin_dir.mkdir()
        (plugin_dir / "_bench_phases.py").write_text(PLUGIN, encoding="utf-8")
        install_dependencies(project)
        env = clean_env()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_dir), env.get("PYTHONPATH")]))
        env["BENCH_PHASES"] = str(work / "phases.jsonl")
        python = sys.executable

        started = time.monotonic()
        subprocess.run([python, "-m", "importmut", "list", str(root)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        catalogue_seconds = time.monotonic() - started

        report = work / "report"
        command = [python, "-m", "importmut", "run", str(root), "--report-dir", str(report), "-q", "--stats",
                   "-j", str(args.jobs), "--isolation", args.isolation, "--pytest-arg=-p_bench_phases"]
        help_text = subprocess.run([python, "-m", "importmut", "run", "--help"], capture_output=True, text=True).stdout
        if "--no-cache" in help_text:
            command.append("--no-cache")
        started = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if done.returncode not in (0, 1):
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            return 1
        data = json.loads((report / "importmut.json").read_text(encoding="utf-8"))
        durations = [m["duration"] for f in data["files"].values() for m in f["mutants"]
                     if m["status"] not in ("Ignored", "NoCoverage") or m.get("duration")]
        durations = [d for d in durations if d > 0]
        runs = [json.loads(line) for line in (work / "phases.jsonl").read_text().splitlines() if line.strip()]
        mutant_runs = [r for r in runs if not r["baseline"]]
        failed = [r for r in mutant_runs if r["failed"]]
        table = summarize(mutant_runs, durations)
        performance = {k: v / 1000 for k, v in data.get("performance", {}).items()}
        result = {
            "project": str(args.project), "isolation": args.isolation, "jobs": args.jobs,
            "wall_seconds": wall, "catalogue_seconds_importmut_list": catalogue_seconds,
            "phases_seconds": performance, "stats": data.get("config", {}).get("stats", {}),
            "test_runs": len(mutant_runs), "runs_with_a_failure": len(failed),
            "median_tests_per_run": statistics.median(r["ntests"] for r in mutant_runs) if mutant_runs else 0,
            "per_run": table,
        }
        result["runs_from_a_held_session"] = sum(held(r) for r in mutant_runs)
        lines = [f"{args.project}: importmut --isolation {args.isolation} -j {args.jobs}: {len(mutant_runs)} test runs "
                 f"({len(failed)} with a failure, {result['runs_from_a_held_session']} forked from a held session), "
                 f"median {result['median_tests_per_run']} test(s) per run",
                 f"wall {wall:.1f}s: " + ", ".join(f"{k} {v:.1f}s" for k, v in performance.items())
                 + f"; outside those phases (interpreter start, mutant catalogue, reports) "
                 f"{wall - sum(performance.values()):.1f}s (`importmut list` alone: {catalogue_seconds:.1f}s)", "",
                 f"{'per test run':<58} {'median ms':>10} {'mean ms':>9} {'total s':>8}"]
        for name, row in table.items():
            lines.append(f"{name:<58} {row['median_ms']:>10.1f} {row['mean_ms']:>9.1f} {row['total_s']:>8.1f}")
        if failed:
            loop = [r["finish"] - r["collected"] - r["tests"] for r in failed]
            ok = [r["finish"] - r["collected"] - r["tests"] for r in mutant_runs if not r["failed"]]
            lines.append(f"run loop beyond the tests: median {statistics.median(loop) * 1000:.1f} ms in runs with a "
                         f"failure, {statistics.median(ok) * 1000 if ok else float('nan'):.1f} ms in passing runs")
        result["table"] = "\n".join(lines)
        print(result["table"])
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
