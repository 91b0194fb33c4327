"""Small hostile projects for the fault suite, written into a temporary folder by each test.

Each is a dict of relative path -> text (or bytes, for encodings and line endings the text cannot hold).
"""

from __future__ import annotations

from pathlib import Path

PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relpath, content in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


# a test that fails on its second run ever (the first mutant run) and passes again afterwards
FLAKY = {
    "pyproject.toml": PYPROJECT,
    "flaky/__init__.py": "",
    "flaky/mod.py": "import re  # unused: deleting it changes nothing\n\n\ndef double(x):\n    return 2 * x\n",
    "tests/test_mod.py": (
        "import os\nfrom pathlib import Path\n\nfrom flaky.mod import double\n\n\n"
        "def test_double():\n    assert double(2) == 4\n\n\n"
        "def test_sometimes():\n"
        "    counter = Path(os.environ['FLAKY_COUNTER'])\n"
        "    runs = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "    counter.write_text(str(runs))\n"
        "    assert runs != 2, 'a flaky failure'\n"
    ),
}

# a test that passes in the baseline and fails on every run after it, mutant or not (its environment
# drifted, say through files earlier tests left behind)
DRIFT = {
    **FLAKY,
    "tests/test_mod.py": FLAKY["tests/test_mod.py"].replace("assert runs != 2", "assert runs == 1"),
}

# two mutants break one test the same way, with an error that names neither import (the handler swallows
# the NameError); the test notes in $RUN_LOG whether it ran on the original code
SWALLOWED = {
    "pyproject.toml": PYPROJECT,
    "svc/__init__.py": "",
    "svc/handler.py": (
        "import json\nimport uuid\n\n\n"
        "def handle(x):\n"
        "    try:\n"
        "        return json.dumps({'id': str(uuid.UUID(int=x)), 'x': x})\n"
        "    except Exception:\n"
        "        return 'error'\n"
    ),
    "tests/test_handler.py": (
        "import os\n\nfrom svc import handler\n\n\n"
        "def test_handle():\n"
        "    whole = hasattr(handler, 'json') and hasattr(handler, 'uuid')\n"
        "    with open(os.environ['RUN_LOG'], 'a') as log:\n"
        "        log.write('original\\n' if whole else 'mutant\\n')\n"
        "    assert handler.handle(1) != 'error'\n"
    ),
}

# the same, but the handler logs the error it swallows, which names the missing import
LOGGED = {
    **SWALLOWED,
    "svc/handler.py": SWALLOWED["svc/handler.py"].replace("import json\n", "import json\nimport logging\n", 1).replace(
        "    except Exception:\n", "    except Exception as error:\n        logging.getLogger(__name__).error('failed: %s', error)\n"),
}

# under a mutant the fallback hangs after starting a child process that would outlive it
HANG = {
    "pyproject.toml": '[tool.importmut]\ntimeout_factor = 1.0\ntimeout_constant = 3.0\n\n' + PYPROJECT,
    "hang/__init__.py": (
        "import os\nimport subprocess\n\n"
        "try:\n    from math import isqrt\nexcept ImportError:\n"
        "    def isqrt(n):\n"
        "        child = subprocess.Popen(['sleep', '600'])\n"
        "        with open(os.path.join(os.environ['ORPHAN_DIR'], f'{child.pid}.pid'), 'w') as handle:\n"
        "            handle.write(str(child.pid))\n"
        "        child.wait()\n\n\n"
        "def root_of(n):\n    return isqrt(n)\n"
    ),
    "tests/test_hang.py": "from hang import root_of\n\n\ndef test_root():\n    assert root_of(17) == 4\n",
}

# the tests run the project's code in a subprocess, and write files into the project and the cwd
SUBPROCESS_AND_WRITES = {
    "pyproject.toml": PYPROJECT,
    "proc/__init__.py": "",
    "proc/value.py": "import math\n\nVALUE = math.floor(2.5)\n",
    "tests/test_proc.py": (
        "import subprocess\nimport sys\nfrom pathlib import Path\n\n\n"
        "def test_value_in_a_subprocess():\n"
        "    out = subprocess.run([sys.executable, '-c', 'import proc.value; print(proc.value.VALUE)'],\n"
        "                         capture_output=True, text=True, timeout=60)\n"
        "    assert out.stdout.strip() == '2', out.stderr\n\n\n"
        "def test_writes_files():\n"
        "    Path('written-in-cwd.txt').write_text('x')\n"
        "    (Path(__file__).parent / 'written-next-to-test.txt').write_text('x')\n"
        "    (Path(__file__).parent.parent / 'proc' / 'generated.py').write_text('X = 1\\n')\n"
    ),
}

# slow tests that overwrite a file of the user's and write new ones into the project and the working
# directory: a run interrupted among them must leave the tree as it was
WRITERS = {
    "pyproject.toml": PYPROJECT,
    "notes.txt": "the user's own notes\n",
    "writers/__init__.py": "",
    "writers/a.py": "import json\n\n\ndef load(text):\n    return json.loads(text)\n",
    "writers/b.py": "import os\n\n\ndef join(*parts):\n    return os.path.join(*parts)\n",
    "writers/c.py": "import re\n\n\ndef words(text):\n    return re.findall(r'\\w+', text)\n",
    "writers/d.py": "import textwrap\n\n\ndef short(text):\n    return textwrap.shorten(text, 9)\n",
    "tests/test_writers.py": (
        "import time\nfrom pathlib import Path\n\nimport pytest\n\n"
        "from writers.a import load\nfrom writers.b import join\nfrom writers.c import words\n"
        "from writers.d import short\n\nROOT = Path(__file__).parent.parent\n\n\n"
        "@pytest.fixture(autouse=True)\ndef clobber():\n"
        "    time.sleep(0.3)\n"
        "    (ROOT / 'notes.txt').write_text('overwritten by a test')\n"
        "    (ROOT / 'writers' / 'generated.py').write_text('X = 1\\n')\n"
        "    Path('written-in-cwd.txt').write_text('x')\n\n\n"
        "def test_load():\n    assert load('[1]') == [1]\n\n\n"
        "def test_join():\n    assert join('a', 'b').endswith('b')\n\n\n"
        "def test_words():\n    assert words('a b') == ['a', 'b']\n\n\n"
        "def test_short():\n    assert short('a b c d e f g') == 'a b [...]'\n"
    ),
}

# odd sources: a latin-1 coding cookie, CRLF line endings with tabs, a file of only imports, pytest
# settings in pytest.ini, conftest.py at two levels
ODD_SOURCES = {
    "pytest.ini": "[pytest]\ntestpaths = tests\nmarkers =\n    slow: slow tests\n",
    "odd/__init__.py": "",
    "odd/latin.py": b"# -*- coding: latin-1 -*-\nimport os\n\nCAFE = 'caf\xe9'\n\n\ndef sep():\n    return os.sep + CAFE\n",
    "odd/crlf.py": b"import json\r\n\r\n\r\ndef dump(value):\r\n\treturn json.dumps(value)\r\n",
    "odd/only_imports.py": "import os\nimport sys\n",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef value():\n    return {'a': 1}\n",
    "tests/sub/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef suffix():\n    return 'caf\\xe9'\n",
    "tests/sub/test_odd.py": (
        "import os\n\nfrom odd.crlf import dump\nfrom odd.latin import sep\n\n\n"
        "def test_sep(suffix):\n    assert sep() == os.sep + suffix\n\n\n"
        "def test_dump(value):\n    assert dump(value) == '{\"a\": 1}'\n"
    ),
}

# tests that change the working directory, the environment and sys.modules, and import a module twice
GLOBAL_STATE = {
    "pyproject.toml": PYPROJECT,
    "state/__init__.py": "",
    "state/config.py": "import os\n\n\ndef home():\n    return os.environ.get('STATE_HOME', '/')\n",
    "state/names.py": "import string\n\nLETTERS = string.ascii_lowercase[:3]\n",
    "tests/test_state.py": (
        "import importlib\nimport os\nimport sys\n\nfrom state.config import home\n\n\n"
        "def test_chdir(tmp_path):\n    os.chdir(tmp_path)\n    assert home()\n\n\n"
        "def test_environment(monkeypatch):\n    os.environ['STATE_HOME'] = '/srv'\n    assert home() == '/srv'\n\n\n"
        "def test_reimported():\n"
        "    sys.modules.pop('state.names', None)\n"
        "    names = importlib.import_module('state.names')\n"
        "    assert names.LETTERS == 'abc'\n\n\n"
        "def test_second_name(monkeypatch):\n"
        "    import state\n"
        "    monkeypatch.syspath_prepend(os.path.dirname(state.__file__))\n"
        "    second = importlib.import_module('names')  # the same file as a top-level module\n"
        "    assert second.LETTERS == 'abc' and second is not sys.modules.get('state.names')\n"
    ),
}

# a namespace package (no __init__.py) in a src/ layout
NAMESPACE = {
    "pyproject.toml": '[tool.importmut]\npaths = ["src/nsp"]\n\n[tool.pytest.ini_options]\npythonpath = ["src"]\n'
                      'testpaths = ["tests"]\n',
    "src/nsp/plugin/tools.py": "import json\n\n\ndef dump(value):\n    return json.dumps(value)\n",
    "tests/test_tools.py": "from nsp.plugin.tools import dump\n\n\ndef test_dump():\n    assert dump([1]) == '[1]'\n",
}

PYTEST_SETTINGS = {  # the same settings in each file pytest reads them from
    "pytest.ini": "[pytest]\ntestpaths = tests\n",
    "tox.ini": "[pytest]\ntestpaths = tests\n",
    "setup.cfg": "[tool:pytest]\ntestpaths = tests\n",
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
}

# an installed package whose submodule imports the project while it is imported (a plugin loader that reads
# the project's settings, say); the project imports that submodule
IMPORTS_THE_PROJECT = {
    "pyproject.toml": PYPROJECT,
    "site/loaders/__init__.py": "",
    "site/loaders/settings_loader.py": (
        "import app.settings\n\n\ndef load(name):\n    return getattr(app.settings, name)\n"
    ),
    "app/__init__.py": "",
    "app/settings.py": "GREETING = 'hello'\n",
    "app/core.py": (
        "import json\n\nfrom loaders.settings_loader import load\n\n\n"
        "def greeting():\n    return json.dumps(load('GREETING'))\n"
    ),
    "tests/test_core.py": (
        "from app.core import greeting\n\n\ndef test_greeting():\n    assert greeting() == '\"hello\"'\n"
    ),
}
