"""The lint gate with real pylint and flake8, on clean and on dirty code."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import conditions_by_metric, read_json, run_gate

CLEAN = '''"""A tidy module."""


def add(first: int, second: int) -> int:
    """Adds two numbers."""
    return first + second
'''
DIRTY = '''import os, sys
def f( x ):
    y = 1
    return x
'''


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "clean.py").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "dirty.py").write_text(DIRTY, encoding="utf-8")
    return tmp_path


def tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=False)


def test_clean_code_passes_by_running_the_tools(code: Path) -> None:
    result = run_gate("lint", "--path", "clean.py", "--min-score", "9", "--max-issues", "0",
                      "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    conditions = conditions_by_metric(read_json(code / "out.json"))
    assert conditions["pylint_score"]["actual"] == 10
    assert conditions["flake8_issues"]["actual"] == 0


def test_tool_arguments_reach_the_tools(code: Path) -> None:
    (code / "long.py").write_text('"""Long."""\nVALUE = "' + "x" * 100 + '"\n', encoding="utf-8")
    default = run_gate("lint", "--path", "long.py", "--min-score", "0", "--max-issues", "0")
    assert default.exit_code == 1 and "E501" in default.output
    widened = run_gate("lint", "--path", "long.py", "--min-score", "10", "--max-issues", "0",
                       "--pylint-arg=--max-line-length=120", "--flake8-arg=--max-line-length=120")
    assert widened.exit_code == 0, widened.output


def test_dirty_code_fails_both_checks(code: Path) -> None:
    result = run_gate("lint", "--path", "dirty.py", "--min-score", "5", "--max-issues", "0",
                      "--report-json", "out.json")
    assert result.exit_code == 1
    conditions = conditions_by_metric(read_json(code / "out.json"))
    assert conditions["pylint_score"]["status"] == "fail"
    assert conditions["pylint_score"]["actual"] < 5
    assert conditions["flake8_issues"]["status"] == "fail"
    assert conditions["flake8_issues"]["actual"] == 7  # F401 x2, E401, E302, E201, E202, F841
    assert "dirty.py:1:10: E401 multiple imports on one line" in result.output


def test_reports_written_by_the_tools_give_the_same_verdict(code: Path) -> None:
    pylint = tool("pylint", "--output-format=json2", "dirty.py")
    (code / "pylint.json").write_text(pylint.stdout, encoding="utf-8")
    tool("flake8", "--output-file", "flake8.txt", "dirty.py")
    expected_issues = len((code / "flake8.txt").read_text(encoding="utf-8").splitlines())
    result = run_gate("lint", "--pylint-report", "pylint.json", "--flake8-report", "flake8.txt",
                      "--min-score", "0", "--max-issues", str(expected_issues), "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    conditions = conditions_by_metric(read_json(code / "out.json"))
    assert conditions["flake8_issues"]["actual"] == expected_issues


def test_clean_reports_pass(code: Path) -> None:
    (code / "pylint.json").write_text(tool("pylint", "--output-format=json2", "clean.py").stdout, encoding="utf-8")
    tool("flake8", "--output-file", "flake8.txt", "clean.py")
    result = run_gate("lint", "--pylint-report", "pylint.json", "--flake8-report", "flake8.txt",
                      "--min-score", "8.5", "--max-issues", "0")
    assert result.exit_code == 0, result.output
    assert "pylint_score   >=    8.5        10" in result.output


def test_flake8_count_line_must_agree(code: Path) -> None:
    (code / "flake8.txt").write_text("a.py:1:1: F401 'os' imported but unused\n3\n", encoding="utf-8")
    result = run_gate("lint", "--flake8-report", "flake8.txt")
    assert result.exit_code == 3
    assert "--count says 3 issues but 1 are listed" in result.output


@pytest.mark.parametrize("option, content, message", [
    ("--pylint-report", "not json", "is not a pylint json2 report"),
    ("--pylint-report", '{"messages": []}', "is not a pylint json2 report"),
    ("--pylint-report", '{"statistics": {"score": "high"}}', "not a number"),
    ("--flake8-report", '[{"code": "E501"}]', "is not in flake8's default format"),
])
def test_malformed_reports_fail_closed_with_3(code: Path, option: str, content: str, message: str) -> None:
    (code / "report").write_text(content, encoding="utf-8")
    result = run_gate("lint", option, "report")
    assert result.exit_code == 3
    assert message in result.output


def test_fatal_pylint_message_fails_closed(code: Path) -> None:
    (code / "pylint.json").write_text(tool("pylint", "--output-format=json2", "missing_module").stdout,
                                      encoding="utf-8")
    result = run_gate("lint", "--pylint-report", "pylint.json")
    assert result.exit_code == 3
    assert "pylint could not lint everything" in result.output and "F0001" in result.output


def test_missing_report_fails_closed_with_3(code: Path) -> None:
    result = run_gate("lint", "--pylint-report", "absent.json", "--junit", "out.xml")
    assert result.exit_code == 3
    assert "pylint report absent.json not found" in result.output
    assert (code / "out.xml").is_file()


def test_a_tool_without_input_is_not_checked_and_says_so(code: Path) -> None:
    tool("flake8", "--output-file", "flake8.txt", "clean.py")
    result = run_gate("lint", "--flake8-report", "flake8.txt", "--report-json", "out.json")
    assert result.exit_code == 0
    assert "pylint not checked: no --pylint-report and no --path" in result.output
    assert list(conditions_by_metric(read_json(code / "out.json"))) == ["flake8_issues"]


def test_no_input_at_all_is_a_usage_error(code: Path) -> None:
    result = run_gate("lint")
    assert result.exit_code == 2
    assert "needs --pylint-report, --flake8-report, --ruff-report or --path" in result.output


def test_tool_not_installed_fails_closed(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "flake8" else real_find_spec(name, *a))
    result = run_gate("lint", "--path", "clean.py", "--min-score", "0")
    assert result.exit_code == 3
    assert "flake8 is not installed" in result.output


def test_a_repositorys_flake8_output_settings_do_not_reach_the_gate(code: Path) -> None:
    """setup.cfg's format = wemake, show-source, statistics and count change flake8's output; the gate
    (running flake8 itself, or reading the report the pipeline's command writes) still counts the issues."""
    (code / "setup.cfg").write_text("[flake8]\nformat = wemake\nshow-source = true\nstatistics = true\n"
                                    "count = true\n", encoding="utf-8")
    ran = run_gate("lint", "--path", "dirty.py", "--max-issues", "0", "--report-json", "out.json")
    assert ran.exit_code == 1, ran.output
    assert conditions_by_metric(read_json(code / "out.json"))["flake8_issues"]["actual"] == 7
    # The generated pipeline's command, as the plan writes it.
    from pipegen.plan.jobs.lint import lint_command  # pylint: disable=import-outside-toplevel
    command = lint_command("flake8", "dirty.py", "flake8.txt")
    assert command.startswith("python -m flake8 ")
    command = command.replace("python", shlex.quote(sys.executable), 1)  # the job's python: this test's
    subprocess.run(["bash", "-c", command], cwd=code, check=True, capture_output=True)
    assert "wemake" not in (code / "flake8.txt").read_text(encoding="utf-8")
    read = run_gate("lint", "--flake8-report", "flake8.txt", "--max-issues", "0", "--report-json", "read.json")
    assert read.exit_code == 1, read.output
    assert conditions_by_metric(read_json(code / "read.json"))["flake8_issues"]["actual"] == 7
