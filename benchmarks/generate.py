"""Write a synthetic, deterministic Python project for importmut's benchmarks.

    python benchmarks/generate.py OUT_DIR --modules N [--seed S]

The project has:

- `synth/`: the package under mutation, `synth/__init__.py` plus N-1 modules `synth/mod_NNN.py`. Each module
  mixes the import patterns importmut mutates: imports used on tested paths and only on untested paths
  (error handlers no test drives), module-level uses (`log = logging.getLogger(__name__)`), lazy
  (function-level) imports, multi-name `from` imports, imports of the package's own modules (always of
  earlier modules, so there is no import cycle), an optional `try: import ... except ImportError:` import,
  and sometimes `from __future__` / `if TYPE_CHECKING:` imports (listed as Ignored).
- `third_party/slowdep/`: a heavy third-party dependency: importing it sleeps 0.3 s. Every synth module
  imports it. Like an installed library it lives outside the project's import roots: benchmarks/run.py puts
  `third_party/` on PYTHONPATH for every tool it runs, as site-packages would be.
- `tests/`: one test module per source module, most tests a few milliseconds, about one module in ten with
  a slow test (50-100 ms, `time.sleep`), and a `conftest.py` with a shared fixture.
- `pyproject.toml` with `[tool.pytest.ini_options]`, `[tool.importmut]` and `[tool.mutmut]`.

The same arguments always give byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import textwrap
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

SLOWDEP_INIT = '''\
"""slowdep: stands in for a heavy third-party dependency (think of a data-frame library).

Importing it takes about 0.3 s, as importing such a library does.
"""
import time

time.sleep(0.3)

__version__ = "3.1.4"


def scale(n):
    """A per-module factor."""
    return n % 7 + 1


class Registry:
    """A tiny name -> value registry."""

    def __init__(self):
        self._items = {}

    def register(self, name, value):
        self._items[name] = value
        return value

    def get(self, name, default=None):
        return self._items.get(name, default)

    def __len__(self):
        return len(self._items)
'''

SLOWDEP_TEXT = '''\
"""Text helpers of slowdep."""


def squash(text):
    """Collapse runs of whitespace."""
    return " ".join(text.split())


def title_words(text):
    return [word.capitalize() for word in text.split()]
'''

PACKAGE_INIT = '''\
"""synth: a generated package for importmut's benchmarks."""
import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "1.0.0"
'''

CONFTEST = '''\
"""Shared fixtures."""
import pytest


@pytest.fixture
def records():
    return [("a", 1), ("b", 2), ("a", 3), ("c", 4)]
'''

PYPROJECT = '''\
[project]
name = "synth-bench"
version = "0.0.0"
description = "A synthetic project of {modules} modules for importmut's benchmarks (seed {seed})."
requires-python = ">=3.10"

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.importmut]
paths = ["synth"]

[tool.mutmut]
paths_to_mutate = ["synth/"]
tests_dir = ["tests/"]
'''

RECORDS = [("a", 1), ("b", 2), ("a", 3), ("c", 4)]  # the conftest fixture
WORDS = ["pear", "fig", "pear", "kiwi", "fig", "pear"]


@dataclass
class Features:
    """What one generated module contains, drawn from the seeded random generator."""

    index: int
    factor: int
    future: bool = False
    type_checking: bool = False
    time_tested: bool = False  # `time` also used on a tested path (not only in the error handler)
    load_tested: bool = False  # the happy path of load_N() is tested (json used there too)
    optional: bool = False  # try: import zlib except ImportError
    optional_checked: bool = False  # a test asserts the real zlib result (so the fallback is caught)
    fingerprint_tested: bool = False
    squash: bool = False  # from slowdep.text import squash
    dep_module: int | None = None  # from synth import mod_J, used in a tested function
    dep_helper: int | None = None  # from synth.mod_K import helper_K, used in an untested function
    dep_helper_tested: bool = False
    patch_string: bool = False  # a test patches "synth.mod_N.time.perf_counter" by name
    slow_test_ms: int = 0
    test_sleeps: list[int] = field(default_factory=list)  # ms slept by each ordinary test
    tests_from_import: bool = False  # the test module does `from synth.mod_N import ...`


def draw(rng: random.Random, index: int) -> Features:
    f = Features(index=index, factor=index % 5 + 2)
    f.future = rng.random() < 0.3
    f.type_checking = rng.random() < 0.2
    f.time_tested = rng.random() < 0.5
    f.load_tested = rng.random() < 0.4
    f.optional = rng.random() < 0.5
    f.optional_checked = f.optional and rng.random() < 0.5
    f.fingerprint_tested = rng.random() < 0.6
    f.squash = rng.random() < 0.3
    if index > 1:
        f.dep_module = rng.randrange(max(1, index - 12), index)
        if rng.random() < 0.6:
            f.dep_helper = rng.randrange(max(1, index - 12), index)
            f.dep_helper_tested = rng.random() < 0.3
    f.patch_string = f.time_tested and rng.random() < 0.3
    f.slow_test_ms = rng.choice([50, 60, 70, 80, 90, 100]) if rng.random() < 0.1 else 0
    f.test_sleeps = [rng.choice([1, 2, 2, 3, 3, 4, 5, 6, 8]) for _ in range(8)]
    f.tests_from_import = rng.random() < 0.3
    return f


def mod(index: int) -> str:
    return f"mod_{index:03d}"


def scale(n: int) -> int:
    return n % 7 + 1


def module_source(f: Features) -> str:
    n = f.index
    lines: list[str] = [f'"""Synthetic module {n}: counting, summarizing and loading records."""']
    if f.future:
        lines.append("from __future__ import annotations")
    lines.append("")
    lines += ["import json", "import logging", "import os", "import time", "from collections import Counter, defaultdict"]
    if f.type_checking:
        lines.append("from typing import TYPE_CHECKING")
    lines.append("")
    lines.append("import slowdep")
    if f.squash:
        lines.append("from slowdep.text import squash")
    own = []
    if f.dep_module is not None:
        own.append(f"from synth import {mod(f.dep_module)}")
    if f.dep_helper is not None:
        own.append(f"from synth.{mod(f.dep_helper)} import helper_{f.dep_helper}")
    if own:
        lines.append("")
        lines += own
    if f.type_checking:
        lines += ["", "if TYPE_CHECKING:", "    from collections.abc import Iterable"]
    if f.optional:
        lines += ["", "try:  # the C implementation when the interpreter has it",
                  "    import zlib as _zlib", "except ImportError:  # pragma: no cover", "    _zlib = None"]
    lines += ["", "log = logging.getLogger(__name__)", f"SCALE = slowdep.scale({n})", "", "", ""]

    values_annotation = ': "Iterable[str]"' if f.type_checking else ""
    body = f'''\
def helper_{n}(value):
    """Used by later modules."""
    return value * {f.factor}


def normalize_{n}(values{values_annotation}):
    """Count the values; a JSON list of [value, count] pairs, sorted."""
    counts = Counter(values)
    return json.dumps(sorted(counts.items()))


def summarize_{n}(records):
    """Sum the values of each key, scaled."""
    grouped = defaultdict(list)
    for key, value in records:
        grouped[key].append(value)
    return {{key: sum(values) * SCALE for key, values in sorted(grouped.items())}}


def render_{n}(name):
    """A short label for a name."""
    import textwrap

    return textwrap.shorten(name, width=16, placeholder="...")


def fingerprint_{n}(text):
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
'''
    if f.time_tested:
        body += f'''

def timed_{n}(values):
    """normalize_{n}() and whether it took a measurable time."""
    started = time.perf_counter()
    result = normalize_{n}(values)
    return result, time.perf_counter() - started >= 0
'''
    if f.optional:
        body += f'''

def checksum_{n}(text):
    data = text.encode("utf-8")
    if _zlib is not None:
        return _zlib.crc32(data)
    return sum(data) & 0xFFFFFFFF
'''
    if f.squash:
        body += f'''

def clean_{n}(text):
    return squash(text).lower()
'''
    if f.dep_module is not None:
        body += f'''

def combine_{n}(values):
    """Combines this module's helper with {mod(f.dep_module)}'s."""
    return {mod(f.dep_module)}.helper_{f.dep_module}(len(values)) + helper_{n}(len(values))
'''
    if f.dep_helper is not None:
        body += f'''

def weight_{n}(records):
    """Weighted total of the values."""
    return sum(helper_{f.dep_helper}(value) for _, value in records)
'''
    body += f'''

def load_{n}(path):
    """Read a JSON document; an unreadable file gives a stub and a warning."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        log.warning("cannot read %s: %s", path, error)
        return {{"name": os.path.basename(path), "failed_at": time.time()}}


def retry_{n}(action, attempts=3):
    """Call action() until it stops raising RuntimeError, sleeping between tries."""
    for attempt in range(attempts):
        try:
            return action()
        except RuntimeError:
            log.info("attempt %d of %d failed", attempt + 1, attempts)
            time.sleep(0.01 * attempt)
    raise RuntimeError(f"gave up after {{attempts}} attempts in {{os.getpid()}}")
'''
    return "\n".join(lines) + body


def expected_normalize(values: list[str]) -> str:
    return json.dumps(sorted(Counter(values).items()))


def expected_summarize(records: list[tuple[str, int]], n: int) -> dict[str, int]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for key, value in records:
        grouped[key].append(value)
    return {key: sum(values) * scale(n) for key, values in sorted(grouped.items())}


def helper_factor(index: int) -> int:
    return index % 5 + 2


def test_source(f: Features) -> str:
    n = f.index
    name = mod(n)
    sleeps = iter(f.test_sleeps)
    if f.tests_from_import:
        names = [f"helper_{n}", f"normalize_{n}", f"summarize_{n}", f"render_{n}"]
        header = f"from synth import {name}\nfrom synth.{name} import {', '.join(names)}\n"
        call = {x: x for x in names}
    else:
        header = f"from synth import {name}\n"
        call = {}

    def ref(function: str) -> str:
        return call.get(function, f"{name}.{function}")

    label = "Quick brown foxes jump over lazy dogs"
    tests: list[str] = []
    tests.append(f'''\
def test_helper():
    time.sleep({next(sleeps) / 1000})
    assert {ref(f"helper_{n}")}(3) == {3 * f.factor}
''')
    tests.append(f'''\
def test_normalize():
    time.sleep({next(sleeps) / 1000})
    assert {ref(f"normalize_{n}")}({WORDS!r}) == {expected_normalize(WORDS)!r}
''')
    tests.append(f'''\
def test_summarize(records):
    time.sleep({next(sleeps) / 1000})
    assert {ref(f"summarize_{n}")}(records) == {expected_summarize(RECORDS, n)!r}
''')
    tests.append(f'''\
def test_render():
    time.sleep({next(sleeps) / 1000})
    assert {ref(f"render_{n}")}({label!r}) == {textwrap.shorten(label, width=16, placeholder="...")!r}
''')
    if f.fingerprint_tested:
        tests.append(f'''\
def test_fingerprint():
    assert {name}.fingerprint_{n}("abc") == {hashlib.sha1(b"abc").hexdigest()[:10]!r}
''')
    if f.time_tested:
        if f.patch_string:
            tests.append(f'''\
def test_timed(monkeypatch):
    monkeypatch.setattr("synth.{name}.time.perf_counter", lambda: 5.0)
    assert {name}.timed_{n}(["x", "y", "x"]) == ({expected_normalize(["x", "y", "x"])!r}, True)
''')
        else:
            tests.append(f'''\
def test_timed():
    time.sleep({next(sleeps) / 1000})
    result, measured = {name}.timed_{n}(["x", "y", "x"])
    assert result == {expected_normalize(["x", "y", "x"])!r}
    assert measured
''')
    if f.optional:
        if f.optional_checked:
            tests.append(f'''\
def test_checksum():
    assert {name}.checksum_{n}("abc") == {zlib.crc32(b"abc")}
''')
        else:
            tests.append(f'''\
def test_checksum():
    assert isinstance({name}.checksum_{n}("abc"), int)
''')
    if f.squash:
        tests.append(f'''\
def test_clean():
    assert {name}.clean_{n}("  Hello   World ") == "hello world"
''')
    if f.dep_module is not None:
        expected = helper_factor(f.dep_module) * 3 + f.factor * 3
        tests.append(f'''\
def test_combine():
    time.sleep({next(sleeps) / 1000})
    assert {name}.combine_{n}(["a", "b", "c"]) == {expected}
''')
    if f.dep_helper is not None and f.dep_helper_tested:
        expected = sum(helper_factor(f.dep_helper) * value for _, value in RECORDS)
        tests.append(f'''\
def test_weight(records):
    assert {name}.weight_{n}(records) == {expected}
''')
    if f.load_tested:
        tests.append(f'''\
def test_load(tmp_path):
    path = tmp_path / "doc.json"
    path.write_text('{{"name": "doc", "size": 3}}', encoding="utf-8")
    assert {name}.load_{n}(str(path)) == {{"name": "doc", "size": 3}}
''')
    tests.append(f'''\
def test_retry_first_try():
    assert {name}.retry_{n}(lambda: 42) == 42
''')
    if f.slow_test_ms:
        tests.append(f'''\
def test_summarize_many():
    time.sleep({f.slow_test_ms / 1000})  # a slow test: a large input
    records = [(str(i % 10), i) for i in range(1000)]
    assert sum({name}.summarize_{n}(records).values()) == {sum(range(1000)) * scale(n)}
''')
    return f'"""Tests of synth.{name}."""\nimport time\n\n{header}\n\n' + "\n\n".join(tests)


def generate(out: Path, modules: int, seed: int) -> None:
    if modules < 2:
        raise SystemExit("generate.py: --modules must be at least 2 (synth/__init__.py and one module)")
    if out.exists():
        if not out.is_dir() or any(out.iterdir()):
            if not (out / "synth").is_dir():
                raise SystemExit(f"generate.py: {out} exists and is not a generated project; not overwriting")
            shutil.rmtree(out)
    rng = random.Random(seed)
    files: dict[str, str] = {
        "pyproject.toml": PYPROJECT.format(modules=modules, seed=seed),
        "third_party/slowdep/__init__.py": SLOWDEP_INIT,
        "third_party/slowdep/text.py": SLOWDEP_TEXT,
        "synth/__init__.py": PACKAGE_INIT,
        "tests/conftest.py": CONFTEST,
        "tests/test_package.py": (
            '"""Tests of the package itself."""\nimport logging\n\nimport synth\n\n\n'
            "def test_version():\n    assert synth.__version__ == \"1.0.0\"\n\n\n"
            "def test_null_handler():\n"
            "    handlers = logging.getLogger(\"synth\").handlers\n"
            "    assert any(isinstance(h, logging.NullHandler) for h in handlers)\n"
        ),
    }
    for index in range(1, modules):
        features = draw(rng, index)
        files[f"synth/{mod(index)}.py"] = module_source(features)
        files[f"tests/test_{mod(index)}.py"] = test_source(features)
    for relpath, text in sorted(files.items()):
        target = out / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to write the project into")
    parser.add_argument("--modules", type=int, required=True,
                        help="source modules in synth/, synth/__init__.py included")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    generate(args.out, args.modules, args.seed)
    print(f"wrote a project of {args.modules} modules (seed {args.seed}) to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
