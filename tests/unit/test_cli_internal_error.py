"""An internal fault ends in exit 4, one line, and the traceback in a log file."""

from __future__ import annotations

import sys

import pytest

from importmut import cli


def test_internal_fault_exits_4_and_logs_the_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("import os\n")
    (tmp_path / "pyproject.toml").write_text('[tool.importmut]\npaths = ["pkg"]\nreport_dir = "out"\n')

    def broken(config):
        raise RuntimeError("operator table corrupted")

    monkeypatch.setattr(cli, "collect", broken)
    monkeypatch.setattr(sys, "argv", ["importmut", "list", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        cli.entry_point()
    assert exit_info.value.code == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("importmut: internal error:")
    log = tmp_path / "out" / cli.ERROR_LOG
    assert "Traceback" in log.read_text() and "operator table corrupted" in log.read_text()
