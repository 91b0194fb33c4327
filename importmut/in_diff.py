"""`--since REV`: mutate only files changed since a git revision (a pull request's base)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(Exception):
    """git could not answer (not a repository, unknown revision); the message is one line."""


def _git(root: Path, *args: str) -> list[str]:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise GitError(f"git {' '.join(args[:2])}: {message}")
    return [line for line in done.stdout.splitlines() if line]


def changed_files(root: Path, revision: str) -> set[str]:
    """Files under `root` (relative to it) that differ from `revision`: committed, staged, unstaged or new."""
    changed = _git(root, "diff", "--name-only", "--relative", revision, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard")
    return set(changed) | set(untracked)
