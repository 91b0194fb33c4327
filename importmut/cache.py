"""Incremental runs: verdicts and the baseline kept in SQLite under `.importmut/`, keyed by content.

A verdict is reused only when nothing that decided it has changed: the mutant itself (the mutated
file's bytes), the tests selected for it, the files holding those tests, every project file those
tests executed or imported, and the settings that shape a test run. The baseline (test outcomes and
the coverage map) is reused when no file of the project has changed. Each verdict is stored the
moment it is known, so an interrupted run resumes where it stopped. Only Killed and Survived
verdicts are kept: a timeout or a harness fault deserves another try.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from importmut.coverage_map import CoverageMap
from importmut.outcomes import Outcome, Status
from importmut.runner import TestResult, TestRun

SCHEMA = """
CREATE TABLE IF NOT EXISTS baseline (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, mutant_id TEXT NOT NULL, outcome TEXT NOT NULL);
"""
KEPT = (Status.KILLED, Status.SURVIVED)


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def file_hashes(root: Path, relpaths: Iterable[str]) -> dict[str, str]:
    return {relpath: hashlib.sha256((root / relpath).read_bytes()).hexdigest() for relpath in relpaths}


class ResultCache:
    """One SQLite file; safe to call from the lab's threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def verdict(self, key: str) -> Outcome | None:
        with self._lock:
            row = self._db.execute("SELECT outcome FROM verdicts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return Outcome(data["mutant_id"], Status(data["status"]), tuple(data["killed_by"]), tuple(data["tests_run"]),
                       data["reason"], data["duration"], cached=True)

    def store_verdict(self, key: str, outcome: Outcome) -> None:
        if outcome.status not in KEPT or outcome.cached:
            return
        data = {"mutant_id": outcome.mutant_id, "status": outcome.status.value, "killed_by": outcome.killed_by,
                "tests_run": outcome.tests_run, "reason": outcome.reason, "duration": outcome.duration}
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)",
                             (key, outcome.mutant_id, json.dumps(data)))

    def baseline(self, key: str) -> tuple[TestRun, CoverageMap] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM baseline WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        tests = {nodeid: TestResult(*entry) for nodeid, entry in data["tests"].items()}
        run = TestRun(tests=tests, exit_code=data["exit_code"], rootdir=data["rootdir"], duration=data["duration"],
                      spawners=tuple(data.get("spawners", ())), early_modules=tuple(data.get("early", ())),
                      module_runs={path: tuple(runs) for path, runs in data.get("module_runs", {}).items()},
                      reported=True)
        lines = {path: {int(line): frozenset(contexts) for line, contexts in by_line.items()}
                 for path, by_line in data["coverage"].items()}
        return run, CoverageMap(lines)

    def store_baseline(self, key: str, run: TestRun, coverage: CoverageMap) -> None:
        data = {
            "tests": {nodeid: [r.outcome, r.duration, r.message] for nodeid, r in run.tests.items()},
            "exit_code": run.exit_code, "rootdir": run.rootdir, "duration": run.duration,
            "spawners": list(run.spawners), "early": list(run.early_modules),
            "module_runs": {path: list(runs) for path, runs in run.module_runs.items()},
            "coverage": {path: {str(line): sorted(contexts) for line, contexts in by_line.items()}
                         for path, by_line in coverage.lines.items()},
        }
        with self._lock, self._db:
            self._db.execute("DELETE FROM baseline")  # only the newest baseline is worth keeping
            self._db.execute("INSERT INTO baseline VALUES (?, ?)", (key, json.dumps(data)))
