"""Live isolation must give the naive loop's verdicts where applying a mutant to a session that imported
the project once would not be faithful: each project below made live runs differ until importmut learned to
import that mutant fresh. The expected statuses are those of `--isolation process`."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli, statuses
from tests.faults.projects import write


API = 'from os.path import join\n\n\ndef path(*parts):\n    return "/".join(parts)\n'


def pyproject(pytest_setting: str = "", tests: str = '["tests"]') -> str:
    text = f'[tool.importmut]\npaths = ["pkg"]\ntests = {tests}\n'
    return text + (f"\n[tool.pytest.ini_options]\n{pytest_setting}\n" if pytest_setting else "")


CASES = {
    # a doctest runs in a copy of the module's globals, taken while it was collected
    "doctest": (
        {
            'pkg/__init__.py': '',
            'pkg/codec.py': (
                'import json\n'
                '\n'
                '\n'
                'def encode(value):\n'
                '    """Encode a value as text.\n'
                '\n'
                '    >>> json.loads(encode([1, 2]))\n'
                '    [1, 2]\n'
                '    """\n'
                '    return repr(value)\n'
            ),
            'pyproject.toml': pyproject('addopts = "--doctest-modules"', tests='["tests", "pkg"]'),
            'tests/test_codec.py': (
                'from pkg.codec import encode\n'
                '\n'
                '\n'
                'def test_encode():\n'
                '    assert encode(1) == "1"\n'
            ),
        },
        {'pkg/codec.py::delete::<module>::json': 'Killed'},
    ),
    # a test lists the module's names with dir() while it is collected
    "dirsnap": (
        {
            'pkg/__init__.py': '',
            'pkg/api.py': API,
            'pyproject.toml': pyproject(),
            'tests/test_api.py': (
                'import pkg.api as api\n'
                '\n'
                'PUBLIC = [name for name in dir(api) if not name.startswith("_")]\n'
                '\n'
                '\n'
                'def test_public_names():\n'
                '    assert PUBLIC == ["join", "path"]\n'
            ),
        },
        {'pkg/api.py::delete::<module>::join': 'Killed'},
    ),
    # a package's name for its submodule is bound again by importing the submodule
    "submodule": (
        {
            'pkg/__init__.py': 'from .core import run\nfrom . import core\n',
            'pkg/core.py': 'def run():\n    return 1\n',
            'pyproject.toml': pyproject(),
            'tests/test_core.py': (
                'import pkg\n'
                '\n'
                '\n'
                'def test_run():\n'
                '    assert pkg.run() == 1\n'
                '    assert pkg.core.run() == 1\n'
            ),
        },
        {'pkg/__init__.py::delete::<module>::core': 'Survived', 'pkg/__init__.py::delete::<module>::run': 'Killed'},
    ),
    # the module reads its globals by eval() while it is imported
    "evalmod": (
        {
            'pkg/__init__.py': '',
            'pkg/conf.py': (
                'import math\n'
                '\n'
                'SETTINGS = {"ratio": "math.pi / 2"}\n'
                'RATIO = eval(SETTINGS["ratio"])\n'
            ),
            'pyproject.toml': pyproject(),
            'tests/test_conf.py': (
                'from pkg.conf import RATIO\n'
                '\n'
                '\n'
                'def test_ratio():\n'
                '    assert 1.5 < RATIO < 1.6\n'
            ),
        },
        {'pkg/conf.py::delete::<module>::math': 'Killed'},
    ),
    # a thread started while the tests are collected would not survive a fork
    "thread": (
        {
            'pkg/__init__.py': '',
            'pkg/fmt.py': (
                'import json\n'
                '\n'
                'from pkg.pool import double\n'
                '\n'
                '\n'
                'def show(x):\n'
                '    try:\n'
                '        return json.dumps(double(x))\n'
                '    except NameError:\n'
                '        return str(double(x))\n'
            ),
            'pkg/pool.py': (
                'import queue\n'
                'import threading\n'
                '\n'
                '_jobs = queue.Queue()\n'
                '_done = queue.Queue()\n'
                '\n'
                '\n'
                'def _serve():\n'
                '    while True:\n'
                '        _done.put(_jobs.get() * 2)\n'
                '\n'
                '\n'
                'threading.Thread(target=_serve, daemon=True).start()\n'
                '\n'
                '\n'
                'def double(x):\n'
                '    _jobs.put(x)\n'
                '    return _done.get(timeout=2)\n'
            ),
            'pyproject.toml': pyproject(),
            'tests/test_fmt.py': (
                'from pkg.fmt import show\n'
                '\n'
                '\n'
                'def test_show():\n'
                '    assert show(2) == "4"\n'
            ),
        },
        {
            'pkg/fmt.py::delete::<module>::json': 'Survived',
            'pkg/fmt.py::delete::<module>::double': 'Killed',
            'pkg/pool.py::delete::<module>::queue': 'Killed',
            'pkg/pool.py::delete::<module>::threading': 'Killed',
        },
    ),
    # a coroutine made while the module is imported keeps the function's old code
    "coro": (
        {
            'pkg/__init__.py': '',
            'pkg/startup.py': (
                'async def load():\n'
                '    import json\n'
                '    return json.loads("[1]")\n'
                '\n'
                '\n'
                'PENDING = load()\n'
            ),
            'pyproject.toml': pyproject(),
            'tests/test_startup.py': (
                'import asyncio\n'
                '\n'
                'from pkg import startup\n'
                '\n'
                '\n'
                'def test_load():\n'
                '    assert asyncio.run(startup.PENDING) == [1]\n'
            ),
        },
        {'pkg/startup.py::delete::load::json': 'Killed'},
    ),
    # a conftest.py changes the exit status at the end of the session
    "sessionfinish": (
        {
            'pkg/__init__.py': '',
            'pkg/audit.py': (
                'import json\n'
                '\n'
                'EVENTS = []\n'
                '\n'
                '\n'
                'def record(event):\n'
                '    EVENTS.append(event)\n'
                '\n'
                '\n'
                'def ok():\n'
                '    try:\n'
                '        return json.dumps(EVENTS) != "[]"\n'
                '    except NameError:\n'
                '        return False\n'
            ),
            'pyproject.toml': pyproject(),
            'tests/conftest.py': (
                'from pkg import audit\n'
                '\n'
                '\n'
                'def pytest_sessionfinish(session):\n'
                '    if not audit.ok():\n'
                '        session.exitstatus = 1\n'
            ),
            'tests/test_audit.py': 'from pkg import audit\n\n\ndef test_record():\n    audit.record("x")\n',
        },
        {'pkg/audit.py::delete::<module>::json': 'RuntimeError'},
    ),
    # a helper module outside the test folders imports the name from the module
    "helper": (
        {
            'pkg/__init__.py': '',
            'pkg/api.py': API,
            'pyproject.toml': pyproject(),
            'tests/test_api.py': (
                'import pkg.api\n'
                'from testutils import both\n'
                '\n'
                '\n'
                'def test_both():\n'
                '    assert both("a", "b") == ("a/b", "a/b")\n'
            ),
            'testutils.py': (
                'from pkg.api import join, path\n'
                '\n'
                '\n'
                'def both(*parts):\n'
                '    return join(*parts), path(*parts)\n'
            ),
        },
        {'pkg/api.py::delete::<module>::join': 'Killed'},
    ),
    # a plugin named in addopts is imported before the baseline's coverage starts
    "plugin": (
        {
            'pkg/__init__.py': '',
            'pkg/api.py': API,
            'pkg/plugin.py': (
                'import pytest\n'
                '\n'
                'from pkg import api\n'
                '\n'
                'JOIN = api.join\n'
                '\n'
                '\n'
                '@pytest.fixture\n'
                'def joiner():\n'
                '    return JOIN\n'
            ),
            'pyproject.toml': pyproject('addopts = "-p pkg.plugin"'),
            'tests/test_api.py': (
                'from pkg import api\n'
                '\n'
                '\n'
                'def test_join(joiner):\n'
                '    assert joiner("a", "b") == api.path("a", "b")\n'
            ),
        },
        {
            'pkg/api.py::delete::<module>::join': 'RuntimeError',
            'pkg/plugin.py::delete::<module>::pytest': 'RuntimeError',
            'pkg/plugin.py::delete::<module>::api': 'RuntimeError',
        },
    ),
    # pytest's configuration names the module's attribute
    "filterwarnings": (
        {
            'pkg/__init__.py': 'from .errors import ApiError, ApiWarning\n',
            'pkg/errors.py': (
                'class ApiError(Exception):\n'
                '    pass\n'
                '\n'
                '\n'
                'class ApiWarning(UserWarning):\n'
                '    pass\n'
            ),
            'pyproject.toml': pyproject('filterwarnings = ["error::pkg.ApiWarning"]'),
            'tests/test_errors.py': (
                'import pkg\n'
                '\n'
                '\n'
                'def test_error():\n'
                '    assert issubclass(pkg.ApiError, Exception)\n'
            ),
        },
        {
            'pkg/__init__.py::delete::<module>::ApiError,ApiWarning': 'RuntimeError',
            'pkg/__init__.py::drop-name::<module>::ApiWarning': 'RuntimeError',
            'pkg/__init__.py::drop-name::<module>::ApiError': 'Killed',
        },
    ),
}


@pytest.mark.parametrize("isolation", ["live", "fork"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_live_and_fork_isolation_give_the_fresh_verdict(case, isolation, tmp_path):
    """Each case's verdicts were derived from fresh runs; a fork from a held session (or a live one) must agree."""
    files, expected = CASES[case]
    root = write(tmp_path / case, files)
    result = run_cli("run", str(root), "--isolation", isolation, "-q", "--no-cache",
                     "--report-dir", str(tmp_path / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path / "out") == expected


STARTED_AHEAD = {
    'pkg/__init__.py': '',
    'pkg/mod.py': (
        'import os\n'
        'import json\n'
        'import string\n'
        '\n'
        'try:\n'
        '    SEP = os.sep\n'
        'except NameError:\n'
        '    SEP = "?"\n'
        '\n'
        '\n'
        'def sep():\n'
        '    return SEP\n'
        '\n'
        '\n'
        'def dump(value):\n'
        '    try:\n'
        '        string\n'
        '    except NameError:\n'
        '        pass\n'
        '    return json.dumps(value) + SEP\n'
    ),
    'pyproject.toml': pyproject(),
    'tests/test_mod.py': (
        'import time\n'
        '\n'
        'from pkg.mod import dump, sep\n'
        '\n'
        '\n'
        'def test_sep():\n'
        '    time.sleep(2)\n'
        '    assert sep() == "/"\n'
        '\n'
        '\n'
        'def test_dump():\n'
        '    assert dump([1]) == "[1]/"\n'
    ),
}


def test_a_live_worker_started_ahead_imports_the_original_before_any_mutant_is_written(tmp_path):
    """The sandbox's workers start loading while importmut plans. Its first mutant (`os` is read at import
    time: no live patch) runs for two seconds in a fork; had it been written before the live worker
    imported the project, the live session would hold SEP == "?", and the survivor `string` would be killed
    there by test_dump."""
    root = write(tmp_path / "ahead", STARTED_AHEAD)
    result = run_cli("run", str(root), "-j", "1", "--isolation", "live", "-q", "--no-cache", "--stats",
                     "--report-dir", str(tmp_path / "out"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert statuses(tmp_path / "out") == {
        'pkg/mod.py::delete::<module>::os': 'Killed',
        'pkg/mod.py::delete::<module>::json': 'Killed',
        'pkg/mod.py::delete::<module>::string': 'Survived',
    }
    assert "live runs:             2 " in result.stdout, result.stdout
