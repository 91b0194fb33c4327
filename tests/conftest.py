"""Shared helpers: running the real CLI as a subprocess, fixture projects, the report schema."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

collect_ignore = ["fixtures"]  # fixture projects are run by importmut, not collected here

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA_PACKAGE = "mutation-testing-report-schema@3.8.4"
SCHEMA_IN_PACKAGE = "package/dist/src/mutation-testing-report-schema.json"
SARIF_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_IN_PACKAGE = "package/lib/schemas/sarif-2.1.0-rtm.5.json"


# A third-party module for tests of processes that must load side by side: each process that imports it waits,
# up to 10 s, until another one has imported it too, then logs its pid, who it was (the baseline runs under
# coverage) and whether it met another.
RENDEZVOUS = """import os
import time

folder = os.environ["RENDEZVOUS"]
open(os.path.join(folder, str(os.getpid())), "w").close()
deadline = time.monotonic() + 10
while len(os.listdir(folder)) < 2 and time.monotonic() < deadline:
    time.sleep(0.05)
role = "baseline" if os.environ.get("IMPORTMUT_COVERAGE") else "other"
with open(os.environ["RENDEZVOUS_LOG"], "a") as log:
    log.write(f"{os.getpid()} {role} {'met' if len(os.listdir(folder)) >= 2 else 'alone'}\\n")
"""


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m importmut ARGS` the way a user would, and capture what it prints."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "importmut", *args], cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def tree_digest(root: Path) -> dict[str, str]:
    """Every file of the user's below root and the sha256 of its bytes (importmut's own
    `.importmut/` state and `reports/` aside)."""
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not {"__pycache__", ".importmut", "reports"} & set(path.relative_to(root).parts):
            digest[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def sigint_as_at_a_terminal() -> None:
    """For Popen's preexec_fn: give the child Ctrl-C's default action, also where this suite was started with
    SIGINT ignored (a background job in CI), which the child would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stored_verdicts(root: Path) -> int:
    """How many verdicts importmut's cache under root holds (0 before it exists)."""
    try:
        with sqlite3.connect(root / ".importmut" / "cache.sqlite3") as db:
            return db.execute("SELECT count(*) FROM verdicts").fetchone()[0]
    except sqlite3.Error:
        return 0


def statuses(report_dir: Path) -> dict[str, str]:
    data = json.loads((report_dir / "importmut.json").read_text(encoding="utf-8"))
    return {m["id"]: m["status"] for f in data["files"].values() for m in f["mutants"]}


@pytest.fixture
def project(tmp_path: Path):
    """Copy a fixture project into a temporary folder, so tests never touch the repository."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("__pycache__"))
        return target

    return copy


def _npm_json(folder: Path, package: str, inside: str) -> dict:
    """A JSON file from an npm package, fetched with `npm pack` (the registry is the source of truth)."""
    npm = shutil.which("npm")
    assert npm, f"npm is needed to fetch {package}"
    packed = subprocess.run([npm, "pack", package, "--silent"], cwd=folder, capture_output=True, text=True,
                            timeout=120)
    assert packed.returncode == 0, packed.stderr
    shutil.unpack_archive(folder / packed.stdout.strip().splitlines()[-1], folder)
    return json.loads((folder / inside).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def report_schema(tmp_path_factory) -> dict:
    """The mutation-testing-report-schema from its npm package (IMPORTMUT_REPORT_SCHEMA, or `npm pack`)."""
    given = os.environ.get("IMPORTMUT_REPORT_SCHEMA")
    if given:
        return json.loads(Path(given).read_text(encoding="utf-8"))
    return _npm_json(tmp_path_factory.mktemp("schema"), SCHEMA_PACKAGE, SCHEMA_IN_PACKAGE)


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory) -> dict:
    """The SARIF 2.1.0 JSON schema (as published with Microsoft's SARIF tooling on npm)."""
    given = os.environ.get("IMPORTMUT_SARIF_SCHEMA")
    if given:
        return json.loads(Path(given).read_text(encoding="utf-8"))
    return _npm_json(tmp_path_factory.mktemp("sarif"), SARIF_PACKAGE, SARIF_IN_PACKAGE)
