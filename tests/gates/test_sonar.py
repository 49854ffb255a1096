"""The Sonar gate against a loopback HTTP server that answers with the response shapes
documented for api/ce/task and api/qualitygates/project_status (a real SonarQube
cannot run in the test environment)."""
from __future__ import annotations

import base64
import socket
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from executors.sonar import FakeSonar, write_report_task

from .conftest import conditions_by_metric, read_json, run_gate

FAST = ("--poll-interval", "0.01", "--retry-backoff", "0")
TOKEN = "squ_0123456789abcdefSECRET"
FAILED_CONDITIONS = [
    {"status": "ERROR", "metricKey": "new_coverage", "comparator": "LT", "periodIndex": 1,
     "errorThreshold": "85", "actualValue": "82.5"},
    {"status": "OK", "metricKey": "new_duplicated_lines_density", "comparator": "GT", "periodIndex": 1,
     "errorThreshold": "3", "actualValue": "1.2"},
    {"status": "ERROR", "metricKey": "new_reliability_rating", "comparator": "GT", "periodIndex": 1,
     "errorThreshold": "1", "actualValue": "3"},
]


@pytest.fixture
def report_task(sonar_server: FakeSonar, tmp_path: Path) -> Path:
    return write_report_task(tmp_path, sonar_server.url)


def sonar_gate(*args: str, token: str | None = TOKEN, **env: str):
    environment = {"SONAR_TOKEN": token} if token else {}
    return run_gate("sonar", *FAST, *args, env={**environment, **env})


def test_waits_through_pending_and_in_progress_then_passes(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.task_statuses = ["PENDING", "IN_PROGRESS", "SUCCESS"]
    sonar_server.conditions = [FAILED_CONDITIONS[1]]
    result = sonar_gate("--report-json", "out.json")
    assert result.exit_code == 0, result.output
    polled = [r for r in sonar_server.requests if r["path"] == "/api/ce/task"]
    assert len(polled) == 3 and polled[0]["query"] == {"id": ["AY-task-1"]}
    asked = sonar_server.requests[-1]
    assert asked["path"] == "/api/qualitygates/project_status"
    assert asked["query"] == {"analysisId": ["AY-analysis-1"]}
    report = read_json(Path("out.json"))
    assert report["status"] == "pass"
    assert report["links"] == [{"label": "Sonar dashboard", "url": f"{sonar_server.url}/dashboard?id=demo"}]
    assert f"Sonar dashboard: {sonar_server.url}/dashboard?id=demo" in result.output


def test_token_is_sent_as_basic_auth_user_with_empty_password(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_gate()
    expected = "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    assert {r["authorization"] for r in sonar_server.requests} == {expected}


def test_error_status_fails_and_shows_each_condition(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.gate_status = "ERROR"
    sonar_server.conditions = FAILED_CONDITIONS
    result = sonar_gate("--junit", "out.xml", "--report-json", "out.json")
    assert result.exit_code == 1
    conditions = conditions_by_metric(read_json(Path("out.json")))
    assert conditions["quality_gate"] == {"metric": "quality_gate", "comparator": "is", "threshold": "OK",
                                          "actual": "ERROR", "status": "fail", "detail": ""}
    assert conditions["new_coverage"]["comparator"] == ">="  # Sonar's LT: in error when lower
    assert (conditions["new_coverage"]["threshold"], conditions["new_coverage"]["actual"]) == (85, 82.5)
    assert conditions["new_duplicated_lines_density"]["status"] == "pass"
    assert conditions["new_reliability_rating"]["comparator"] == "<="
    suite = ET.parse("out.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("4", "3")
    failure = suite.find("testcase[@name='new_coverage']/failure")
    assert failure.get("message") == "new_coverage: actual 82.5, required >= 85"


@pytest.mark.parametrize("status, reason", [("FAILED", "Unsupported language"), ("CANCELED", "no reason given")])
def test_failed_or_canceled_background_task_fails_closed(sonar_server: FakeSonar, report_task: Path,
                                                         status: str, reason: str) -> None:
    sonar_server.task_statuses = ["PENDING", status]
    result = sonar_gate()
    assert result.exit_code == 3
    assert f"background task AY-task-1 is {status}: {reason}" in result.output


def test_no_gate_attached_fails_unless_allowed(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.gate_status = "NONE"
    refused = sonar_gate()
    assert refused.exit_code == 1
    assert "no quality gate attached" in refused.output
    allowed = sonar_gate("--allow-no-gate", "--report-json", "out.json")
    assert allowed.exit_code == 0, allowed.output
    assert conditions_by_metric(read_json(Path("out.json")))["quality_gate"]["status"] == "skip"


def test_no_gate_allowed_by_the_descriptor(sonar_server: FakeSonar, report_task: Path, tmp_path: Path) -> None:
    sonar_server.gate_status = "NONE"
    (tmp_path / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: demo}\ntargets: [github]\ntests: {unit: tests}\n"
        "quality:\n  sonar: {project_key: demo, allow_no_gate: true}\n", encoding="utf-8")
    assert sonar_gate().exit_code == 0
    assert sonar_gate("--no-allow-no-gate").exit_code == 1  # the flag wins


def test_timeout_while_pending_fails_closed(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.task_statuses = ["PENDING"]
    result = sonar_gate("--timeout", "0.05")
    assert result.exit_code == 3
    assert "still PENDING after 0.05 s" in result.output


@pytest.mark.parametrize("status, token, message", [
    (401, TOKEN, "the token in SONAR_TOKEN was rejected"),
    (401, None, "SONAR_TOKEN is not set"),
    (403, TOKEN, "lacks permission"),
])
def test_unauthorized_is_a_clear_message_and_exit_3(sonar_server: FakeSonar, report_task: Path,
                                                    status: int, token: str | None, message: str) -> None:
    sonar_server.auth_status = status
    result = sonar_gate(token=token)
    assert result.exit_code == 3
    assert f"Sonar answered {status}" in result.output and message in result.output
    assert len(sonar_server.requests) == 1  # 4xx is not retried


def test_server_errors_are_retried_then_succeed(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.failures_before = 2
    result = sonar_gate("--retries", "3")
    assert result.exit_code == 0, result.output
    assert len(sonar_server.requests) == 4  # 503, 503, task, project status


def test_retries_are_bounded(sonar_server: FakeSonar, report_task: Path) -> None:
    sonar_server.failures_before = 100
    sonar_server.failure_status = 502
    result = sonar_gate("--retries", "2")
    assert result.exit_code == 3
    assert "Sonar answered 502" in result.output
    assert len(sonar_server.requests) == 3


def test_server_down_fails_closed(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_report_task(tmp_path, f"http://127.0.0.1:{port}")
    result = sonar_gate("--retries", "1")
    assert result.exit_code == 3
    assert f"could not reach Sonar at http://127.0.0.1:{port}" in result.output


def test_sonar_host_url_overrides_the_report_task(sonar_server: FakeSonar, tmp_path: Path) -> None:
    write_report_task(tmp_path, "http://127.0.0.1:9")  # discard port: would fail if used
    result = sonar_gate("--retries", "0", SONAR_HOST_URL=sonar_server.url)
    assert result.exit_code == 0, result.output
    assert sonar_server.requests


@pytest.mark.parametrize("content, message", [
    (None, "report-task.txt not found"),
    ("serverUrl=http://127.0.0.1:9\n", "has no ceTaskId"),
])
def test_missing_or_incomplete_report_task_fails_closed(tmp_path: Path, content: str | None,
                                                        message: str) -> None:
    if content is not None:
        (tmp_path / ".scannerwork").mkdir()
        (tmp_path / ".scannerwork" / "report-task.txt").write_text(content, encoding="utf-8")
    result = sonar_gate()
    assert result.exit_code == 3
    assert message in result.output


def test_token_never_appears_in_any_output(sonar_server: FakeSonar, report_task: Path, tmp_path: Path) -> None:
    """Across a failing gate and an error whose server message echoes the token, the
    token is in no stream and no report."""
    sonar_server.gate_status = "ERROR"
    sonar_server.conditions = FAILED_CONDITIONS
    reports = ("--report-json", "a.json", "--junit", "a.xml", "--markdown", "a.md")
    summary = tmp_path / "summary.md"
    failing = sonar_gate(*reports, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    sonar_server.failures_before = 100
    sonar_server.failure_status = 500
    sonar_server.failure_body = f"invalid credentials {TOKEN}"
    erroring = sonar_gate("--retries", "0", "--report-json", "b.json", "--junit", "b.xml", "--markdown", "b.md")
    assert (failing.exit_code, erroring.exit_code) == (1, 3)
    assert "invalid credentials ***" in erroring.output
    texts = [failing.stdout, failing.stderr, erroring.stdout, erroring.stderr]
    texts += [(tmp_path / name).read_text(encoding="utf-8")
              for name in ("a.json", "a.xml", "a.md", "b.json", "b.xml", "b.md", "summary.md")]
    assert all(TOKEN not in text for text in texts)
    assert all(len(text) > 0 for text in texts[4:])  # every report was written
