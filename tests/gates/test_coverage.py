"""The coverage gate on a real package measured by real coverage.py, in a real git
repository whose feature branch is compared with origin/main through diff-cover."""
from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipegen.gates.coverage import below, displayed_percent

from .conftest import conditions_by_metric, read_json, run_gate

CALLS_EVERYTHING = """\
import calc
calc.add(1, 2)
calc.sign(3)
calc.sign(-3)
calc.sign(0)
calc.unused(3)
calc.unused(0)
calc.scale([1, 2], 3)
calc.scale([], 3)
"""
SKIPS_THE_FEATURE = CALLS_EVERYTHING.replace("calc.scale([1, 2], 3)\ncalc.scale([], 3)\n", "")


def test_passes_when_total_and_changed_lines_are_covered(project_factory) -> None:
    project_factory(driver=CALLS_EVERYTHING)
    result = run_gate("coverage", "--min", "90", "--diff-min", "90", "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    report = read_json(Path("out.json"))
    conditions = conditions_by_metric(report)
    assert report["status"] == "pass"
    assert conditions["total_coverage"]["actual"] == 100
    assert conditions["changed_lines_coverage"]["actual"] == 100
    assert "5/5 changed lines covered against origin/main" in conditions["changed_lines_coverage"]["detail"]


def test_fails_on_total_below_min(project_factory) -> None:
    project_factory(driver="import calc\ncalc.add(1, 2)\ncalc.scale([1], 2)\n")
    result = run_gate("coverage", "--min", "80", "--diff-min", "50", "--junit", "out.xml")
    assert result.exit_code == 1
    assert re.search(r"total_coverage\s+>=\s+80\s+\d+\s+FAIL", result.output)
    suite = ET.parse("out.xml").getroot().find("testsuite")
    failures = {case.get("name"): case.find("failure") for case in suite.iter("testcase")}
    assert failures["changed_lines_coverage"] is None
    assert "required >= 80" in failures["total_coverage"].get("message")


def test_fails_on_uncovered_changed_lines_and_names_them(project_factory) -> None:
    project_factory(driver=SKIPS_THE_FEATURE)
    result = run_gate("coverage", "--min", "50", "--diff-min", "80", "--report-json", "out.json")
    assert result.exit_code == 1
    conditions = conditions_by_metric(read_json(Path("out.json")))
    assert conditions["total_coverage"]["status"] == "pass"
    assert conditions["changed_lines_coverage"]["status"] == "fail"
    assert conditions["changed_lines_coverage"]["actual"] == 20  # 1 of 5: only the `def` line ran
    assert "not covered: calc/__init__.py:24-27" in result.output


def test_no_changed_lines_is_skipped_not_failed(project_factory) -> None:
    project_factory(feature_code="", driver=SKIPS_THE_FEATURE)
    result = run_gate("coverage", "--min", "50", "--diff-min", "100", "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    changed = conditions_by_metric(read_json(Path("out.json")))["changed_lines_coverage"]
    assert changed["status"] == "skip"
    assert "no measured lines changed" in changed["detail"]


def test_missing_compare_branch_fails_closed(project_factory) -> None:
    project_factory(driver=CALLS_EVERYTHING)
    result = run_gate("coverage", "--compare-branch", "origin/does-not-exist")
    assert result.exit_code == 3
    assert "compare branch 'origin/does-not-exist' not found" in result.output


def test_no_diff_needs_no_git(tmp_path: Path) -> None:
    (tmp_path / "coverage.xml").write_text(
        '<coverage line-rate="0.9" branch-rate="0" lines-valid="10" lines-covered="9" '
        'branches-valid="0" branches-covered="0"><packages/></coverage>', encoding="utf-8")
    result = run_gate("coverage", "--min", "85", "--no-diff")
    assert result.exit_code == 0, result.output
    assert "changed lines not checked (--no-diff)" in result.output


def test_missing_report_fails_closed_with_3(tmp_path: Path) -> None:
    result = run_gate("coverage", "--report", "nope.xml", "--junit", "out.xml", "--report-json", "out.json")
    assert result.exit_code == 3
    assert "coverage report nope.xml not found" in result.output
    assert "Traceback" not in result.output
    assert read_json(tmp_path / "out.json")["status"] == "error"
    error = ET.parse(tmp_path / "out.xml").getroot().find("testsuite/testcase/error")
    assert error is not None and "not found" in error.get("message")


@pytest.mark.parametrize("content, message", [
    ("<coverage line-rate=", "not readable XML"),
    ("", "not readable XML"),
    ('<report line-rate="1"/>', "not Cobertura XML: its root is <report>"),
    ('<coverage branch-rate="1"/>', "no line-rate"),
    ('<coverage line-rate="most"/>', "is not a number"),
])
def test_malformed_report_fails_closed_with_3(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "coverage.xml").write_text(content, encoding="utf-8")
    result = run_gate("coverage", "--no-diff")
    assert result.exit_code == 3
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_report_truncated_after_its_root_fails_closed(tmp_path: Path) -> None:
    """The total comes from the root, but a report cut short (a crashed `coverage xml`,
    a partial upload) is not trusted even with --no-diff."""
    (tmp_path / "coverage.xml").write_text(
        '<coverage line-rate="0.5" lines-valid="4" lines-covered="2"><packages><broken', encoding="utf-8")
    result = run_gate("coverage", "--min", "50", "--no-diff", "--report-json", "out.json")
    assert result.exit_code == 3, result.output
    assert "not readable XML" in result.output
    assert read_json(tmp_path / "out.json")["status"] == "error"


@pytest.mark.parametrize("precision", [0, 1, 2])
def test_figure_matches_coverage_report(project_factory, precision: int) -> None:
    """The printed total is the one `coverage report` prints: lines and branches
    together, rounded by coverage.py's rules, at the same precision."""
    project = project_factory(driver="import calc\ncalc.add(1, 2)\ncalc.sign(3)\ncalc.unused(2)\n")
    report_text = project.coverage("report", f"--precision={precision}")
    coverage_total = re.search(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", report_text, re.MULTILINE).group(1)
    result = run_gate("coverage", "--no-diff", "--precision", str(precision), "--min", "1", "--report-json", "o.json")
    gate_total = conditions_by_metric(read_json(Path("o.json")))["total_coverage"]["actual"]
    assert gate_total == float(coverage_total)
    assert result.exit_code == 0


@pytest.mark.parametrize("percent, precision, shown", [
    (99.96, 0, 99), (0.2, 0, 1), (100.0, 0, 100), (0.0, 0, 0), (87.456, 1, 87.5), (99.996, 2, 99.99),
])
def test_display_never_rounds_to_0_or_100(percent: float, precision: int, shown: float) -> None:
    assert displayed_percent(percent, precision) == shown


@pytest.mark.parametrize("percent, threshold, precision, fails", [
    (79.6, 80, 0, False),  # coverage.py rounds first: 80 >= 80
    (79.4, 80, 0, True),
    (79.6, 80, 2, True),
    (80.24, 80.25, 0, True),  # the threshold's decimals imply the precision
    (99.99, 100, 0, True),  # 100 means exactly 100
    (100.0, 100, 0, False),
])
def test_threshold_comparison_follows_coverage_fail_under(
        percent: float, threshold: float, precision: int, fails: bool) -> None:
    assert below(percent, threshold, precision) is fails


def test_thresholds_come_from_the_profile_when_no_flag(project_factory) -> None:
    project_factory(driver=CALLS_EVERYTHING)
    result = run_gate("coverage", "--profile", "strict", "--report-json", "out.json")
    conditions = conditions_by_metric(read_json(Path("out.json")))
    assert conditions["total_coverage"]["threshold"] == 90
    assert conditions["changed_lines_coverage"]["threshold"] == 95
    assert "min=90 (profile strict)" in result.output
