"""Configuration: `[tool.importmut]`, mutmut's keys as a fallback, or discovery.

Every mistake a user can make here raises ConfigError with one line that names the key, so the
CLI can print it and exit 2 instead of showing a traceback.
"""

from __future__ import annotations

import configparser
import math
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# the operators' names (operators.py holds what each does): this module, like everything `importmut run` needs
# before its baseline starts, does not import libcst, which takes a third of the start-up
OPERATORS = ("delete", "drop-name", "localize", "hoist", "fallback")
DEFAULT_OPERATORS = ("delete", "drop-name", "localize", "fallback")

NOT_PACKAGES = {"tests", "test", "docs", "doc", "build", "dist", "benchmarks", "examples", "scripts"}


class ConfigError(Exception):
    """A mistake in the user's configuration or command line; its message is one line."""


@dataclass(frozen=True)
class Config:
    base_dir: Path  # where the configuration lives; report_dir is relative to it
    root: Path  # the project under test: what sandboxes copy and where pytest runs
    paths: tuple[str, ...]  # files or folders to mutate, relative to root
    tests: tuple[str, ...] = ()  # pytest arguments naming the tests, relative to root
    exclude: tuple[str, ...] = ()  # glob patterns of files never mutated
    operators: tuple[str, ...] = DEFAULT_OPERATORS
    pytest_args: tuple[str, ...] = ()
    timeout_factor: float = 3.0
    timeout_constant: float = 10.0
    python: str = field(default_factory=lambda: sys.executable)
    report_dir: Path = Path("reports")
    localize_max: int = 5
    deselect_failing: bool = False
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    # "live": as fork, with mutants that only take names out of a module applied to a session that imported
    # the project once; "fork": warm workers fork per mutant; "process": a fresh interpreter per mutant
    isolation: str = "live"
    select_tests: bool = True  # only the tests that can notice each mutant (False: the whole suite)
    fail_under: float | None = None  # the gate: exit 1 when the score is lower
    threshold_high: int = 80  # the report's colour bands (mutation-testing-report-schema thresholds)
    threshold_low: int = 60
    source: str = "discovery"  # where the settings came from, for the report

    def with_overrides(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# key -> (type check, human description of the type)
_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "root": (str, "a string"),
    "paths": (list, "a list of strings"),
    "tests": (list, "a list of strings"),
    "exclude": (list, "a list of strings"),
    "operators": (list, "a list of strings"),
    "pytest_args": (list, "a list of strings"),
    "timeout_factor": ((int, float), "a number"),
    "timeout_constant": ((int, float), "a number"),
    "python": (str, "a string"),
    "report_dir": (str, "a string"),
    "localize_max": (int, "an integer"),
    "deselect_failing": (bool, "true or false"),
    "jobs": (int, "an integer"),
    "isolation": (str, '"live", "fork" or "process"'),
    "select_tests": (bool, "true or false"),
    "fail_under": ((int, float), "a number from 0 to 100"),
    "threshold_high": (int, "an integer from 0 to 100"),
    "threshold_low": (int, "an integer from 0 to 100"),
}
_MUTMUT_KEYS = {
    "paths_to_mutate": "paths",
    "source_paths": "paths",
    "do_not_mutate": "exclude",
    "pytest_add_cli_args": "pytest_args",
    "tests_dir": "tests",
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _check(section: str, key: str, value: Any) -> Any:
    if key not in _KEYS:
        known = ", ".join(sorted(_KEYS))
        raise ConfigError(f"{section}: unknown key '{key}' (known keys: {known})")
    expected, described = _KEYS[key]
    wrong = not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool)
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        wrong = True
    if wrong:
        raise ConfigError(f"{section}: '{key}' must be {described}, not {value!r}")
    if key in ("timeout_factor", "timeout_constant") and not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{section}: '{key}' must be greater than 0, not {value!r}")
    if key in ("localize_max", "jobs") and value < 1:
        raise ConfigError(f"{section}: '{key}' must be at least 1, not {value!r}")
    if key in ("fail_under", "threshold_high", "threshold_low") and not (0 <= value <= 100):
        raise ConfigError(f"{section}: '{key}' must be {described}, not {value!r}")
    if key == "isolation" and value not in ("live", "fork", "process"):
        raise ConfigError(f"{section}: 'isolation' must be \"live\", \"fork\" or \"process\", not {value!r}")
    if key == "operators":
        for name in value:
            if name not in OPERATORS:
                raise ConfigError(
                    f"{section}: 'operators' names an unknown operator '{name}' (known: {', '.join(OPERATORS)})"
                )
    return tuple(value) if isinstance(value, list) else value


def _as_list(value: Any) -> list[str]:
    """mutmut accepts a string or a list; setup.cfg gives newline- or comma-separated text."""
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part.strip() for part in str(value).replace("\n", ",").split(",") if part.strip()]


def _from_mutmut(raw: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, ours in _MUTMUT_KEYS.items():
        if key in raw:
            if ours == "pytest_args" and isinstance(raw[key], str):
                settings[ours] = tuple(shlex.split(raw[key]))
            else:
                settings[ours] = tuple(_as_list(raw[key]))
    return settings


def discover_paths(root: Path) -> list[str]:
    """The package(s) to mutate when nothing is configured: src/ layout, else top-level packages."""
    src = root / "src"
    base = src if src.is_dir() else root
    found = sorted(
        child.relative_to(root).as_posix()
        for child in base.iterdir()
        if child.is_dir()
        and (child / "__init__.py").is_file()
        and child.name not in NOT_PACKAGES
        and not child.name.startswith(".")
    )
    if not found and base is src:
        found = sorted(child.relative_to(root).as_posix() for child in src.iterdir() if child.suffix == ".py")
    return found


def load_config(path: Path) -> Config:
    """Read the configuration of the project at `path` (a folder, or a pyproject.toml)."""
    path = path.resolve()
    if not path.exists():
        raise ConfigError(f"{path}: no such file or directory")
    base_dir = path.parent if path.is_file() else path
    pyproject = path if path.is_file() else base_dir / "pyproject.toml"
    data = _read_toml(pyproject) if pyproject.is_file() else {}
    tool = data.get("tool", {})
    settings: dict[str, Any]
    if "importmut" in tool:
        section = f"[tool.importmut] in {pyproject.name}"
        if not isinstance(tool["importmut"], dict):
            raise ConfigError(f"{section}: must be a table")
        settings = {key: _check(section, key, value) for key, value in tool["importmut"].items()}
        source = "[tool.importmut]"
    elif "mutmut" in tool:
        settings = _from_mutmut(tool["mutmut"])
        source = "[tool.mutmut]"
    else:
        parser = configparser.ConfigParser(interpolation=None)
        setup_cfg = base_dir / "setup.cfg"
        if setup_cfg.is_file():
            try:
                parser.read(setup_cfg, encoding="utf-8")
            except configparser.Error as exc:
                raise ConfigError(f"{setup_cfg}: cannot be read: {exc.message}") from None
        if parser.has_section("mutmut"):
            settings = _from_mutmut(dict(parser.items("mutmut")))
            source = "[mutmut] in setup.cfg"
        else:
            settings, source = {}, "discovery"
    return _build(base_dir, settings, source)


def _interpreter(source: str, base_dir: Path, value: str) -> str:
    """The test interpreter as every sandbox can start it: a relative path is the configuration's folder's (a
    sandbox is elsewhere), a bare name is looked up on PATH. Symbolic links are kept: a virtualenv's python is
    one, and resolved it would leave the virtualenv."""
    if os.sep in value or (os.altsep and os.altsep in value) or value.startswith("~"):
        path = os.path.abspath(base_dir / os.path.expanduser(value))
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise ConfigError(f"{source}: 'python' names '{value}', which is not an executable file")
        return path
    found = shutil.which(value)
    if found is None:
        raise ConfigError(f"{source}: 'python' names '{value}', which is not on PATH")
    return found


def _build(base_dir: Path, settings: dict[str, Any], source: str) -> Config:
    root = (base_dir / settings.pop("root", ".")).resolve()
    if not root.is_dir():
        raise ConfigError(f"{source}: 'root' is not a directory: {root}")
    paths = tuple(settings.pop("paths", ()) or discover_paths(root))
    if not paths:
        raise ConfigError(f"{source}: no package found under {root}; set 'paths' in [tool.importmut]")
    for item in paths:
        if not (root / item).exists():
            raise ConfigError(f"{source}: 'paths' names '{item}', which does not exist under {root}")
    tests = settings.pop("tests", None)
    if tests is None:
        tests = tuple(name for name in ("tests", "test") if (root / name).is_dir())[:1]
    for item in tests:
        if not (root / item.split("::")[0]).exists():
            raise ConfigError(f"{source}: 'tests' names '{item}', which does not exist under {root}")
    report_dir = base_dir / settings.pop("report_dir", "reports")
    if "python" in settings:
        settings["python"] = _interpreter(source, base_dir, settings["python"])
    return Config(base_dir=base_dir, root=root, paths=paths, tests=tuple(tests), report_dir=report_dir,
                  source=source, **settings)
