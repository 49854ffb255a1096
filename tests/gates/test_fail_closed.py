"""Gates fail closed (issue 11, "Found: Gates"): a figure that is not finite or outside
its meaning cannot be judged, so the gate exits 3 and says why; a threshold like that,
from a flag, a profile or the descriptor, is refused before anything is compared."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipegen.errors import EvaluationError, UsageError
from pipegen.gates import numbers
from pipegen.gates.profiles import _checked_profile

from .conftest import read_json, run_gate

GOOD_ROOT = 'line-rate="0.5" lines-valid="4" lines-covered="2"'


def coverage_report(path: Path, attributes: str, body: str = "<packages/></coverage>") -> None:
    path.write_text(f'<?xml version="1.0" ?>\n<coverage {attributes}>{body}', encoding="utf-8")


@pytest.mark.parametrize("attributes, reason", [
    ('line-rate="nan"', "not a finite number"),
    ('line-rate="inf"', "not a finite number"),
    ('line-rate="-inf"', "not a finite number"),
    ('line-rate="7.5"', "outside 0..1"),
    ('line-rate="-0.1"', "outside 0..1"),
    ('line-rate="1e400"', "not a finite number"),
    ('line-rate="0.5" branch-rate="NaN"', "not a finite number"),
    ('line-rate="0.5" branches-valid="2" branches-covered="3"', "3 covered is more than the 2 measured"),
    ('line-rate="0.5" lines-valid="2" lines-covered="3"', "3 covered is more than the 2 measured"),
    ('line-rate="0.5" lines-valid="-4" lines-covered="2"', "not a whole number"),
    ('line-rate="0.5" lines-valid="٤" lines-covered="2"', "not a whole number"),  # an Arabic-Indic digit
    ('line-rate="0.5" lines-covered="2"', "lines-covered without lines-valid"),
])
def test_coverage_figures_that_mean_nothing_fail_closed(tmp_path: Path, attributes: str, reason: str) -> None:
    coverage_report(tmp_path / "coverage.xml", attributes)
    result = run_gate("coverage", "--min", "5", "--no-diff", "--report-json", "out.json")
    assert result.exit_code == 3, result.output
    assert reason in result.output
    assert read_json(tmp_path / "out.json")["status"] == "error"


@pytest.mark.parametrize("body", ["", "<packages>", "<packages><package", "<packages/></coverage><extra/>"])
def test_a_truncated_or_extended_report_fails_closed_with_no_diff(tmp_path: Path, body: str) -> None:
    coverage_report(tmp_path / "coverage.xml", GOOD_ROOT, body)
    result = run_gate("coverage", "--min", "5", "--no-diff")
    assert result.exit_code == 3, result.output
    assert "not readable XML" in result.output


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    (tmp_path / "coverage.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa">]><coverage line-rate="1">&a;</coverage>',
        encoding="utf-8")
    result = run_gate("coverage", "--no-diff")
    assert result.exit_code == 3
    assert "entity declarations are not allowed" in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_report_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "coverage.xml")
    result = run_gate("coverage", "--no-diff")
    assert result.exit_code == 3
    assert "not a regular file" in result.output


def test_a_sound_report_still_passes(tmp_path: Path) -> None:
    coverage_report(tmp_path / "coverage.xml", GOOD_ROOT)
    assert run_gate("coverage", "--min", "50", "--no-diff").exit_code == 0


@pytest.mark.parametrize("score, reason", [
    ("NaN", "not a finite number"),
    ("Infinity", "not a finite number"),
    ("-Infinity", "not a finite number"),
    ("1e308", "outside 0..10"),
    ("11", "outside 0..10"),
    ("-0.5", "outside 0..10"),
    ('"9.5"', "not a number"),
    ("true", "not a number"),
])
def test_pylint_scores_that_mean_nothing_fail_closed(tmp_path: Path, score: str, reason: str) -> None:
    (tmp_path / "pylint.json").write_text(
        '{"messages": [], "statistics": {"score": %s, "messageTypeCount": {}}}' % score, encoding="utf-8")
    result = run_gate("lint", "--pylint-report", "pylint.json", "--min-score", "8")
    assert result.exit_code == 3, result.output
    assert reason in result.output


def test_pylint_message_counts_must_be_counts(tmp_path: Path) -> None:
    report = {"messages": [], "statistics": {"score": 9.0, "messageTypeCount": {"warning": -1}}}
    (tmp_path / "pylint.json").write_text(json.dumps(report), encoding="utf-8")
    assert run_gate("lint", "--pylint-report", "pylint.json", "--min-score", "8").exit_code == 3


@pytest.mark.parametrize("text, reason", [
    ("a.py:1:1: E1 x\n2\n", "says 2 issues but 1 are listed"),
    ("a.py:1:1: E1 x\n1\n1\n", "a second issue count"),
    ("a.py:1:1: E1 x\n１\n", "not in flake8's default format"),  # a full-width digit
    ("a.py:١:1: E1 x\n", "not in flake8's default format"),  # an Arabic-Indic digit as the row
    ("a.py:1:1: E1 x\n" + "9" * 5000 + "\n", "not a whole number"),
    ("x" * 10_000 + "\n", "more characters"),  # a long odd line is cut, not echoed whole
])
def test_flake8_report_oddities_fail_closed(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "flake8.txt").write_text(text, encoding="utf-8")
    result = run_gate("lint", "--flake8-report", "flake8.txt", "--max-issues", "5")
    assert result.exit_code == 3, result.output
    assert reason in result.output
    assert max(len(line) for line in result.output.splitlines()) < 400


@pytest.mark.parametrize("args", [
    ("coverage", "--min", "nan"), ("coverage", "--diff-min", "inf"), ("lint", "--min-score", "nan"),
    ("lint", "--min-score", "-inf"), ("sonar", "--timeout", "inf"), ("sonar", "--timeout", "nan"),
])
def test_non_finite_threshold_flags_are_usage_errors(args: tuple[str, ...]) -> None:
    result = run_gate(*args)
    assert result.exit_code == 2
    assert "not a finite number" in result.output or "is not in the range" in result.output


@pytest.mark.parametrize("section, key, value", [
    ("coverage", "min", float("nan")), ("coverage", "min", 150), ("coverage", "diff_min", float("inf")),
    ("pylint", "min_score", 11), ("pylint", "min_score", float("nan")), ("sonar", "timeout", float("inf")),
])
def test_profile_thresholds_must_be_finite_and_in_range(section: str, key: str, value: float) -> None:
    with pytest.raises(UsageError, match="must be a finite number"):
        _checked_profile("custom", {section: {key: value}})


def test_descriptor_nan_threshold_is_refused_by_the_gate(tmp_path: Path) -> None:
    (tmp_path / "pipegen.yaml").write_text(
        "project: {name: x}\ntargets: [github]\nquality: {coverage: {min: .nan}}\n", encoding="utf-8")
    coverage_report(tmp_path / "coverage.xml", 'line-rate="0.05"')
    result = run_gate("coverage", "--no-diff")
    assert result.exit_code == 2
    assert "pipegen.yaml:3:27" in result.output and "not a finite number" in result.output


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 101, 10 ** 400, True])
def test_gate_code_checks_thresholds_whatever_calls_it(value) -> None:
    with pytest.raises(UsageError):
        numbers.threshold(value, 0, 100, "coverage min")


@pytest.mark.parametrize("raw", ["nan", "inf", "", "1,5", "0x1p-2", None])
def test_report_numbers_parse_strictly(raw) -> None:
    with pytest.raises(EvaluationError):
        numbers.rate(raw, "line-rate")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_the_json_report_fails_closed_without_blocking(tmp_path: Path) -> None:
    coverage_report(tmp_path / "coverage.xml", GOOD_ROOT)
    os.mkfifo(tmp_path / "out.json")
    result = run_gate("coverage", "--min", "5", "--no-diff", "--report-json", "out.json")
    assert result.exit_code == 3
    assert "not a regular file" in result.output
