"""The coverage map: for each line of the mutated files, the tests that executed it.

It comes from one baseline run under coverage.py in which the importmut plugin switches the
dynamic context to each test's node id; lines run while tests are being collected (module
bodies, decorators, default values) keep the empty context and count as import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

IMPORT_TIME = ""  # coverage's context for code that ran before the first test started


@dataclass(frozen=True)
class CoverageMap:
    lines: dict[str, dict[int, frozenset[str]]] = field(default_factory=dict)  # relpath -> line -> contexts

    def contexts(self, relpath: str, line: int) -> frozenset[str]:
        return self.lines.get(relpath, {}).get(line, frozenset())

    def tests_for(self, relpath: str, line: int) -> frozenset[str]:
        """Tests that executed the line while they ran (collection time excluded)."""
        return frozenset(c for c in self.contexts(relpath, line) if c != IMPORT_TIME)

    def executed(self, relpath: str, line: int) -> bool:
        return bool(self.contexts(relpath, line))

    @classmethod
    def read(cls, data_file: Path, sandbox_root: Path) -> "CoverageMap":
        from coverage import CoverageData

        if not data_file.exists():
            return cls()
        data = CoverageData(basename=str(data_file))
        data.read()
        root = sandbox_root.resolve()
        lines: dict[str, dict[int, frozenset[str]]] = {}
        for measured in data.measured_files():
            path = Path(measured).resolve()
            if not path.is_relative_to(root):
                continue
            by_line = data.contexts_by_lineno(measured)
            lines[path.relative_to(root).as_posix()] = {
                line: frozenset(contexts) for line, contexts in by_line.items()
            }
        return cls(lines)
