"""The pytest plugin's helpers, which run inside pytest, where a fault would show only as a usage error or a
missing result: the argument clean-up and the search of a failing test's output."""

import os
from argparse import Namespace

from importmut.pytest_plugin import drop_cache_options, keep_writes_in_sandbox, named_in_output


def test_the_cache_plugins_options_go_with_their_values_and_the_rest_stays_in_order():
    args = ["-m", "not slow", "--lf", "--lfnf", "none", "-x", "--last-failed-no-failures=all", "--ff",
            "--sw", "--stepwise-skip", "tests/test_a.py", "--new-first", "--cache-clear", "-k", "lf"]
    drop_cache_options(args)
    assert args == ["-m", "not slow", "-x", "tests/test_a.py", "-k", "lf"]


def test_an_argument_list_without_them_is_left_as_it_is():
    args = ["-p", "no:randomly", "--tb=short", "--lfx"]
    drop_cache_options(args)
    assert args == ["-p", "no:randomly", "--tb=short", "--lfx"]


def test_errors_naming_a_missing_name_are_found_in_a_failing_tests_captured_output():
    class Report:
        sections = [("Captured log call", "ERROR svc: WebSocket error: name 'time' is not defined\n"
                                          "ERROR svc: again: name 'time' is not defined\n"),
                    ("Captured stderr call", "ImportError: cannot import name 'dumps' from 'codec'\n"
                                             "the name 'x' of the user\nAttributeError: module 'm' has no attribute 'clock'\n")]

    assert named_in_output(Report()) == ["name 'time' is not defined", "cannot import name 'dumps'",
                                          "has no attribute 'clock'"]


def test_the_projects_report_files_are_turned_off_and_absolute_places_go_back_to_pytests_defaults():
    option = Namespace(xmlpath="/ci/junit.xml", htmlpath="report.html", report_log="/ci/log.jsonl",
                       json_report=True, allure_report_dir="/ci/allure", basetemp="/ci/tmp", log_file="/ci/run.log")
    keep_writes_in_sandbox(option)
    assert vars(option) == {"xmlpath": None, "htmlpath": None, "report_log": None, "json_report": False,
                            "allure_report_dir": None, "basetemp": None, "log_file": os.devnull}


def test_relative_places_stay_as_they_land_in_the_sandbox_and_an_absolute_log_file_in_the_ini_is_overridden():
    option = Namespace(basetemp="build/tmp", log_file=None)
    keep_writes_in_sandbox(option, "/var/log/tests.log")
    assert vars(option) == {"basetemp": "build/tmp", "log_file": os.devnull}
    option = Namespace(basetemp=None, log_file="tests.log")
    keep_writes_in_sandbox(option, "/var/log/tests.log")
    assert vars(option) == {"basetemp": None, "log_file": "tests.log"}
