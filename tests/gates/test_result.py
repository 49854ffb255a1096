"""The one result type and its renderings, as a CI and a reader see them."""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from pipegen.gates.result import (
    Condition, GateResult, Link, Mode, Status, render_json, render_junit, render_markdown, render_table,
)


def sample(*statuses: Status, error: str | None = None) -> GateResult:
    conditions = [Condition(f"metric_{i}", ">=", 80, 75.5 if s is Status.FAIL else 90, s, f"detail {i}")
                  for i, s in enumerate(statuses)]
    return GateResult("demo", conditions, [Link("dashboard", "https://example.test/d?id=1")], error,
                      ["a note"])


@pytest.mark.parametrize("statuses, error, mode, code", [
    ((Status.PASS, Status.SKIP), None, Mode.ENFORCE, 0),
    ((Status.PASS, Status.FAIL), None, Mode.ENFORCE, 1),
    ((Status.FAIL, Status.ERROR), None, Mode.ENFORCE, 3),
    ((), "report missing", Mode.ENFORCE, 3),
    ((Status.FAIL,), None, Mode.DRY_RUN, 0),
    ((), "report missing", Mode.DRY_RUN, 0),
])
def test_exit_codes_follow_design(statuses, error, mode, code) -> None:
    assert sample(*statuses, error=error).exit_code(mode) == code


def test_table_shows_every_condition_with_its_numbers() -> None:
    table = render_table(sample(Status.PASS, Status.FAIL), Mode.DRY_RUN)
    lines = table.splitlines()
    assert lines[0] == "gate demo: FAIL (dry-run)"
    assert lines[1].split() == ["metric", "rule", "threshold", "actual", "status", "detail"]
    assert lines[4].split() == ["metric_1", ">=", "80", "75.5", "FAIL", "detail", "1"]
    assert "  dashboard: https://example.test/d?id=1" in lines


def test_json_has_status_mode_exit_code_and_conditions() -> None:
    data = json.loads(render_json(sample(Status.FAIL), Mode.ENFORCE))
    assert (data["gate"], data["status"], data["mode"], data["exit_code"]) == ("demo", "fail", "enforce", 1)
    assert data["conditions"][0] == {"metric": "metric_0", "comparator": ">=", "threshold": 80, "actual": 75.5,
                                     "status": "fail", "detail": "detail 0"}
    assert data["links"] == [{"label": "dashboard", "url": "https://example.test/d?id=1"}]


def test_junit_has_one_testcase_per_condition_and_numbers_in_failures() -> None:
    root = ET.fromstring(render_junit(sample(Status.PASS, Status.FAIL, Status.SKIP)))
    suite = root.find("testsuite")
    counts = tuple(suite.get(name) for name in ("tests", "failures", "errors", "skipped"))
    assert counts == ("3", "1", "0", "1")
    failure = suite.find("testcase[@name='metric_1']/failure")
    assert failure.get("message") == "metric_1: actual 75.5, required >= 80 (detail 1)"
    assert suite.find("testcase[@name='metric_0']/failure") is None


def test_junit_of_a_gate_that_could_not_evaluate_is_an_error_not_a_silent_pass() -> None:
    suite = ET.fromstring(render_junit(sample(error="coverage.xml not found"))).find("testsuite")
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")
    assert suite.find("testcase/error").get("message") == "coverage.xml not found"


def test_markdown_is_a_table_with_escaped_cells() -> None:
    result = GateResult("demo", [Condition("a|b", "<=", 0, 2, Status.FAIL, "E501x2")])
    text = render_markdown(result, Mode.ENFORCE)
    assert text.startswith("### ❌ pipegen gate `demo`: FAIL\n")
    assert "| a\\|b | <= | 0 | 2 | FAIL | E501x2 |" in text.splitlines()


def test_markdown_says_dry_run_does_not_fail_the_build() -> None:
    assert "(dry-run: does not fail the build)" in render_markdown(sample(Status.FAIL), Mode.DRY_RUN)
