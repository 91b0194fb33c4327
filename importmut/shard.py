"""Sharding: `--shard K/N` splits the mutants across N machines.

A mutant's shard comes from a hash of its stable id alone, so every machine and every run agree on
the split, and adding or removing mutants elsewhere never moves a mutant to another shard.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, mutant_id: str) -> bool:
        digest = hashlib.sha256(mutant_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def parse(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; raises ValueError with a one-line message otherwise."""
    match = SHARD.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N, not {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))
