"""The other gates' inputs, hostile: reports (coverage, pylint, flake8, Sonar's report task, the
drift report the model gate tags) linked to /proc or out of the repository, or FIFOs, fail closed
(exit 3) without blocking or showing their target; the Sonar token reaches the Sonar host only,
never a host a redirect names (a loopback stand-in answering with the Web API's documented shapes
redirects to 127.0.0.2), and a server's echo of it is scrubbed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile.conftest import SECRET, Answer, assert_safe, environment, pipegen

SONAR_TOKEN = "squ_0123456789abcdef0123456789abcdef01234567"
GATES = {
    "coverage": ("coverage.xml", ("gate", "coverage", "--report", "coverage.xml", "--min", "0", "--no-diff")),
    "pylint": ("pylint.json", ("gate", "lint", "--pylint-report", "pylint.json", "--min-score", "0")),
    "flake8": ("flake8.txt", ("gate", "lint", "--flake8-report", "flake8.txt", "--max-issues", "0")),
    "sonar": ("report-task.txt", ("gate", "sonar", "--report-task", "report-task.txt", "--retries", "0")),
}


@pytest.mark.parametrize("gate", sorted(GATES))
@pytest.mark.parametrize("kind", ["fifo", "proc", "outside", "dev"])
def test_a_report_that_is_no_plain_file_of_the_repository_fails_closed(repo, outside, gate, kind):
    name, command = GATES[gate]
    path = repo / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "proc":
        path.symlink_to("/proc/self/environ")
    elif kind == "dev":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to(outside / "secret.env")
    ran = pipegen(repo, *command, "--report-json", "out.json", "--markdown", "out.md", timeout=60)
    assert_safe(ran, 3, repo / "out.json", repo / "out.md")
    assert "HOSTILE_API_TOKEN" not in ran.both and "API_TOKEN=" not in ran.both


def test_the_drift_report_the_model_gate_tags_is_read_safely(repo):
    os.mkfifo(repo / "drift.json")
    ran = pipegen(repo, "gate", "model", "--model-name", "m", "--candidate-version", "1",
                  "--metric", "auc:greater_is_better=true,threshold=0.5", "--drift-report", "drift.json",
                  "--tracking-uri", f"sqlite:///{repo / 'none.db'}", timeout=120)
    assert_safe(ran, 3)


def report_task(repo: Path, server: str) -> None:
    (repo / "report-task.txt").write_text(
        f"projectKey=demo\nserverUrl={server}\nceTaskId=AY-task-1\ndashboardUrl={server}/dashboard?id=demo\n",
        encoding="utf-8")


def sonar_env(**extra: str) -> dict[str, str]:
    return environment(**{"SONAR_TOKEN": SONAR_TOKEN, **extra})


def test_a_sonar_redirect_to_another_host_does_not_take_the_token(repo, hosts):
    home, other = hosts
    home.route = lambda method, path: Answer(302, {}, {"Location": f"{other.url}{path}"})
    other.route = lambda method, path: Answer(200, {"task": {"id": "AY-task-1", "status": "SUCCESS",
                                                             "analysisId": "AY-analysis-1"}})
    report_task(repo, home.url)
    ran = pipegen(repo, "gate", "sonar", "--report-task", "report-task.txt", "--retries", "0", env=sonar_env())
    assert_safe(ran, 3, secrets=(SECRET, SONAR_TOKEN))
    assert home.carried(SONAR_TOKEN) and not other.carried(SONAR_TOKEN)


def test_sonar_echoing_the_token_is_scrubbed_everywhere(repo, hosts):
    home, _ = hosts
    home.route = lambda method, path: Answer(400, {"errors": [{"msg": f"token {SONAR_TOKEN} is bad\n::error::x"}]})
    report_task(repo, home.url)
    ran = pipegen(repo, "gate", "sonar", "--report-task", "report-task.txt", "--retries", "0",
                  "--report-json", "out.json", "--markdown", "out.md", "--junit", "out.xml",
                  env=sonar_env(SONAR_TOKEN=f"{SONAR_TOKEN}\n"))
    assert_safe(ran, 3, repo / "out.json", repo / "out.md", repo / "out.xml", secrets=(SECRET, SONAR_TOKEN))
    assert "***" in ran.out
    assert {seen.headers.get("Authorization") for seen in home.seen} != {None}  # sent, trimmed, to its host
