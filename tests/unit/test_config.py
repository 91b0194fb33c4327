"""Configuration: [tool.importmut], its errors, discovery, and mutmut's settings as a fallback."""

from __future__ import annotations

import sys

import pytest

from importmut.config import DEFAULT_OPERATORS, Config, ConfigError, discover_paths, load_config


def importmut_project(write_project, body: str, **files):
    return write_project({"pyproject.toml": "[tool.importmut]\n" + body, "pkg/__init__.py": "",
                          "tests/test_x.py": "", **files})


# --- [tool.importmut] -------------------------------------------------------------------------


def test_tool_importmut_happy_path(write_project):
    root = importmut_project(write_project, f"""\
root = "."
paths = ["pkg", "lib/extra.py"]
tests = ["tests/test_x.py::test_one"]
exclude = ["*_pb2.py"]
operators = ["delete", "hoist"]
pytest_args = ["-x", "-p", "no:randomly"]
timeout_factor = 2
timeout_constant = 1.5
python = "{sys.executable}"
report_dir = "out/reports"
localize_max = 3
deselect_failing = true
jobs = 4
""", **{"lib/extra.py": ""})
    config = load_config(root)
    assert config.base_dir == root.resolve()
    assert config.root == root.resolve()
    assert config.paths == ("pkg", "lib/extra.py")
    assert config.tests == ("tests/test_x.py::test_one",)
    assert config.exclude == ("*_pb2.py",)
    assert config.operators == ("delete", "hoist")
    assert config.pytest_args == ("-x", "-p", "no:randomly")
    assert config.timeout_factor == 2
    assert config.timeout_constant == 1.5
    assert config.python == sys.executable
    assert config.report_dir == root.resolve() / "out" / "reports"
    assert config.localize_max == 3
    assert config.deselect_failing is True
    assert config.jobs == 4
    assert config.source == "[tool.importmut]"


def test_the_test_interpreter_is_found_from_any_sandbox_or_named_as_missing(write_project):
    root = importmut_project(write_project, 'python = "venv/bin/python"\n')
    with pytest.raises(ConfigError, match="'python' names 'venv/bin/python', which is not an executable file"):
        load_config(root)
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "bin" / "python").symlink_to(sys.executable)
    # relative to the configuration, not to the sandbox the runs start in; the virtualenv's link kept
    assert load_config(root).python == str(root.resolve() / "venv" / "bin" / "python")
    (root / "pyproject.toml").write_text('[tool.importmut]\npython = "no-such-python-3.99"\n')
    with pytest.raises(ConfigError, match="'python' names 'no-such-python-3.99', which is not on PATH"):
        load_config(root)
    (root / "pyproject.toml").write_text('[tool.importmut]\npython = "sh"\n')
    assert load_config(root).python.endswith("/sh")  # a bare name, looked up on PATH


def test_defaults_when_the_table_is_empty(write_project):
    root = importmut_project(write_project, "")
    config = load_config(root)
    assert config.paths == ("pkg",)  # discovered
    assert config.tests == ("tests",)
    assert config.exclude == ()
    assert config.operators == DEFAULT_OPERATORS
    assert "hoist" not in config.operators
    assert config.pytest_args == ()
    assert config.timeout_factor == 3.0
    assert config.python == sys.executable
    assert config.report_dir == root.resolve() / "reports"
    assert config.localize_max == 5
    assert config.deselect_failing is False
    assert config.source == "[tool.importmut]"


def test_load_config_accepts_the_pyproject_file_itself(write_project):
    root = importmut_project(write_project, 'paths = ["pkg"]\n')
    config = load_config(root / "pyproject.toml")
    assert config.base_dir == root.resolve()
    assert config.paths == ("pkg",)
    assert config.source == "[tool.importmut]"


def test_root_and_report_dir_are_relative_to_the_config_folder(write_project):
    base = write_project({
        "pyproject.toml": '[tool.importmut]\nroot = "project"\nreport_dir = "out"\n',
        "project/app/__init__.py": "",
        "project/test/test_app.py": "",
    })
    config = load_config(base)
    assert config.base_dir == base.resolve()
    assert config.root == (base / "project").resolve()
    assert config.report_dir == base.resolve() / "out"
    assert config.paths == ("app",)  # discovered under the root, relative to it
    assert config.tests == ("test",)


def test_with_overrides_ignores_none(write_project):
    config = load_config(importmut_project(write_project, ""))
    changed = config.with_overrides(jobs=7, localize_max=None)
    assert changed.jobs == 7
    assert changed.localize_max == config.localize_max


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("colour = 1\n", "'colour'"),
        ('paths = "pkg"\n', "'paths'"),
        ("paths = [1]\n", "'paths'"),
        ('timeout_factor = "3"\n', "'timeout_factor'"),
        ("timeout_factor = true\n", "'timeout_factor'"),
        ("localize_max = 2.5\n", "'localize_max'"),
        ('deselect_failing = "yes"\n', "'deselect_failing'"),
        ("jobs = true\n", "'jobs'"),
        ("root = 1\n", "'root'"),
        ("timeout_factor = 0\n", "'timeout_factor'"),
        ("timeout_factor = -1.5\n", "'timeout_factor'"),
        ("timeout_factor = nan\n", "'timeout_factor'"),  # not greater than 0 either
        ("timeout_constant = 0\n", "'timeout_constant'"),
        ("localize_max = 0\n", "'localize_max'"),
        ("jobs = 0\n", "'jobs'"),
        ('operators = ["delete", "swap"]\n', "'swap'"),
        ('paths = ["missing"]\n', "'missing'"),
        ('paths = ["pkg", "lib/gone.py"]\n', "'lib/gone.py'"),
        ('tests = ["nowhere"]\n', "'nowhere'"),
        ('tests = ["nowhere.py::test_x"]\n', "'nowhere.py::test_x'"),
        ('root = "absent"\n', "absent"),
    ],
)
def test_config_errors_name_the_key_or_value(write_project, body, named):
    root = importmut_project(write_project, body)
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_unknown_key_error_lists_the_known_keys(write_project):
    with pytest.raises(ConfigError) as caught:
        load_config(importmut_project(write_project, "colour = 1\n"))
    assert "unknown key 'colour'" in str(caught.value)
    assert "timeout_factor" in str(caught.value)


def test_invalid_toml_is_a_config_error(write_project):
    root = write_project({"pyproject.toml": "[tool.importmut\n", "pkg/__init__.py": ""})
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert "pyproject.toml" in str(caught.value)


def test_tool_importmut_must_be_a_table(write_project):
    root = write_project({"pyproject.toml": "[tool]\nimportmut = 3\n", "pkg/__init__.py": ""})
    with pytest.raises(ConfigError):
        load_config(root)


def test_a_missing_project_folder_is_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nowhere")
    assert "nowhere" in str(caught.value)


def test_existing_tests_entry_with_a_test_id_is_accepted(write_project):
    root = importmut_project(write_project, 'tests = ["tests/test_x.py::test_one"]\n')
    assert load_config(root).tests == ("tests/test_x.py::test_one",)


# --- discovery --------------------------------------------------------------------------------


def test_discovery_of_a_src_layout(write_project):
    root = write_project({
        "src/alpha/__init__.py": "",
        "src/beta/__init__.py": "",
        "src/not_a_package/readme.txt": "",
        "pkg_outside/__init__.py": "",
        "tests/test_alpha.py": "",
    })
    config = load_config(root)
    assert config.paths == ("src/alpha", "src/beta")
    assert config.tests == ("tests",)
    assert config.source == "discovery"
    assert config.root == root.resolve()
    assert config.base_dir == root.resolve()


def test_discovery_of_a_src_layout_with_modules_only(write_project):
    root = write_project({"src/one.py": "", "src/two.py": "", "src/notes.txt": ""})
    assert load_config(root).paths == ("src/one.py", "src/two.py")


def test_discovery_of_top_level_packages_leaves_out_tests_docs_and_hidden(write_project):
    root = write_project({
        "app/__init__.py": "",
        "lib/__init__.py": "",
        "tests/__init__.py": "",
        "test/__init__.py": "",
        "docs/__init__.py": "",
        "examples/__init__.py": "",
        ".hidden/__init__.py": "",
        "folder_without_init/x.py": "",
        "setup.py": "",
    })
    config = load_config(root)
    assert config.paths == ("app", "lib")
    assert config.tests == ("tests",)  # the first of tests/ and test/


def test_discover_paths_directly(write_project):
    root = write_project({"b/__init__.py": "", "a/__init__.py": "", "docs/__init__.py": ""})
    assert discover_paths(root) == ["a", "b"]


def test_no_package_found_is_a_config_error(write_project):
    root = write_project({"script.py": "", "tests/test_x.py": ""})
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert "paths" in str(caught.value)


def test_no_tests_folder_gives_no_tests(write_project):
    root = write_project({"app/__init__.py": ""})
    assert load_config(root).tests == ()


# --- mutmut's settings as a fallback ----------------------------------------------------------


def test_tool_mutmut_with_strings(write_project):
    root = write_project({
        "pyproject.toml": """\
            [tool.mutmut]
            paths_to_mutate = "src/pkg/"
            do_not_mutate = "*_pb2.py"
            pytest_add_cli_args = "-x -k 'not slow'"
            tests_dir = "tests/"
            """,
        "src/pkg/__init__.py": "",
        "tests/test_pkg.py": "",
    })
    config = load_config(root)
    assert config.source == "[tool.mutmut]"
    assert tuple(config.paths) == ("src/pkg/",)
    assert list(config.exclude) == ["*_pb2.py"]
    assert list(config.pytest_args) == ["-x", "-k", "not slow"]
    assert tuple(config.tests) == ("tests/",)
    assert config.operators == DEFAULT_OPERATORS


def test_tool_mutmut_with_lists(write_project):
    root = write_project({
        "pyproject.toml": """\
            [tool.mutmut]
            paths_to_mutate = ["src/a", "src/b.py"]
            do_not_mutate = ["*_pb2.py", "src/a/gen.py"]
            pytest_add_cli_args = ["-x", "-q"]
            tests_dir = ["tests/unit", "tests/api"]
            """,
        "src/a/__init__.py": "",
        "src/b.py": "",
        "tests/unit/test_a.py": "",
        "tests/api/test_b.py": "",
    })
    config = load_config(root)
    assert tuple(config.paths) == ("src/a", "src/b.py")
    assert list(config.exclude) == ["*_pb2.py", "src/a/gen.py"]
    assert list(config.pytest_args) == ["-x", "-q"]
    assert tuple(config.tests) == ("tests/unit", "tests/api")


def test_tool_mutmut_paths_are_checked(write_project):
    root = write_project({"pyproject.toml": '[tool.mutmut]\npaths_to_mutate = "gone/"\n', "pkg/__init__.py": ""})
    with pytest.raises(ConfigError) as caught:
        load_config(root)
    assert "'gone/'" in str(caught.value)
    assert "[tool.mutmut]" in str(caught.value)


def test_tool_mutmut_without_paths_falls_back_to_discovery(write_project):
    root = write_project({"pyproject.toml": "[tool.mutmut]\n", "pkg/__init__.py": ""})
    config = load_config(root)
    assert config.paths == ("pkg",)
    assert config.source == "[tool.mutmut]"


def test_tool_importmut_wins_over_tool_mutmut(write_project):
    root = write_project({
        "pyproject.toml": '[tool.importmut]\npaths = ["a"]\n\n[tool.mutmut]\npaths_to_mutate = "b"\n',
        "a/__init__.py": "",
        "b/__init__.py": "",
    })
    config = load_config(root)
    assert config.paths == ("a",)
    assert config.source == "[tool.importmut]"


def test_setup_cfg_mutmut_section_comma_and_newline_separated(write_project):
    root = write_project({
        "pyproject.toml": '[project]\nname = "x"\n',
        "setup.cfg": """\
            [metadata]
            name = x

            [mutmut]
            paths_to_mutate = src/pkg,
                lib
            do_not_mutate = a.py, b.py
            pytest_add_cli_args = -x -k "not slow"
            tests_dir = tests
            """,
        "src/pkg/__init__.py": "",
        "lib/__init__.py": "",
        "tests/test_x.py": "",
    })
    config = load_config(root)
    assert config.source == "[mutmut] in setup.cfg"
    assert tuple(config.paths) == ("src/pkg", "lib")
    assert list(config.exclude) == ["a.py", "b.py"]
    assert list(config.pytest_args) == ["-x", "-k", "not slow"]
    assert tuple(config.tests) == ("tests",)


def test_setup_cfg_without_pyproject(write_project):
    root = write_project({
        "setup.cfg": "[mutmut]\npaths_to_mutate =\n    one\n    two\n",
        "one/__init__.py": "",
        "two/__init__.py": "",
        "three/__init__.py": "",
    })
    config = load_config(root)
    assert tuple(config.paths) == ("one", "two")
    assert config.source == "[mutmut] in setup.cfg"


def test_setup_cfg_without_a_mutmut_section_means_discovery(write_project):
    root = write_project({"setup.cfg": "[metadata]\nname = x\n", "pkg/__init__.py": ""})
    config = load_config(root)
    assert config.source == "discovery"
    assert config.paths == ("pkg",)


def test_mutmut_settings_have_the_same_types_as_importmut_settings(write_project):
    # Config is a frozen dataclass whose sequence fields are tuples; a list there makes the
    # config unhashable and unequal to the same settings read from [tool.importmut].
    root = write_project({
        "pyproject.toml": """\
            [tool.mutmut]
            paths_to_mutate = "pkg"
            do_not_mutate = "*_pb2.py"
            pytest_add_cli_args = "-x"
            tests_dir = "tests"
            """,
        "pkg/__init__.py": "",
        "tests/test_x.py": "",
    })
    config = load_config(root)
    assert isinstance(config, Config)
    assert config.exclude == ("*_pb2.py",)
    assert config.pytest_args == ("-x",)
    hash(config)
