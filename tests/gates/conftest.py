"""Fixtures for the gate tests: a clean environment, a CLI runner, a real git project
measured by real coverage.py, and a loopback Sonar server speaking the documented API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner, Result

from pipegen.cli import cli

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL",
                "SONAR_TOKEN", "SONAR_HOST_URL", "PIPEGEN_GATE_MODE", "PIPEGEN_DEBUG")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Gates behave differently in CI (they publish summaries); tests start outside any
    CI, in an empty directory, whatever CI runs them."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run_gate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["gate", *args], env=env, catch_exceptions=False)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def conditions_by_metric(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {condition["metric"]: condition for condition in report["conditions"]}


# --- a real project: git history with a feature branch, measured by coverage.py ------

BASE_MODULE = '''\
"""A small package for the coverage gate's tests."""


def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def unused(x):
    total = 0
    for i in range(x):
        total += i
    return total
'''

FEATURE_FUNCTION = '''

def scale(values, factor):
    scaled = []
    for value in values:
        scaled.append(value * factor)
    return scaled
'''


@dataclass
class Project:
    root: Path
    coverage_xml: Path = field(init=False)

    def __post_init__(self) -> None:
        self.coverage_xml = self.root / "coverage.xml"

    def coverage(self, *args: str) -> str:
        # Without the COVERAGE_* variables of a coverage run measuring these tests (pipegen's
        # own CI), which would point this project's data at pipegen's data file.
        env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
        done = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=self.root, capture_output=True,
                              text=True, check=True, env=env)
        return done.stdout


def make_project(base: Path, feature_code: str, driver: str) -> Project:
    """origin (bare) ← main with calc/__init__.py; checked out on `feature`, which adds
    `feature_code` to the module. `driver` is the code coverage.py runs."""
    import git  # gitpython, as pipegen's own tests use real repositories

    origin = git.Repo.init(base / "origin.git", bare=True)
    root = base / "work"
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "pipegen tests")
        config.set_value("user", "email", "tests@pipegen.invalid")
        config.set_value("commit", "gpgsign", "false")
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text(BASE_MODULE, encoding="utf-8")
    (root / "README.md").write_text("calc\n", encoding="utf-8")
    (root / ".gitignore").write_text(".coverage*\ncoverage.xml\ndriver.py\n*.json\n*.xml\n*.md\n", encoding="utf-8")
    repo.index.add(["calc/__init__.py", "README.md", ".gitignore"])
    repo.index.commit("base")
    repo.git.branch("-M", "main")
    repo.create_remote("origin", str(origin.working_dir if origin.working_dir else base / "origin.git"))
    repo.git.push("origin", "main")
    repo.git.fetch("origin")
    repo.git.checkout("-b", "feature")
    if feature_code:
        with open(root / "calc" / "__init__.py", "a", encoding="utf-8") as module:
            module.write(feature_code)
        repo.index.add(["calc/__init__.py"])
    else:
        (root / "README.md").write_text("calc: a small package\n", encoding="utf-8")
        repo.index.add(["README.md"])
    repo.index.commit("feature")
    project = Project(root)
    (root / "driver.py").write_text(driver, encoding="utf-8")
    project.coverage("run", "--branch", "--source=calc", "driver.py")
    project.coverage("xml", "-o", str(project.coverage_xml))
    return project


@pytest.fixture
def project_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Builds a project and makes it the current directory (diff-cover diffs the
    repository it runs in, as the gate does in CI)."""
    def build(feature_code: str = FEATURE_FUNCTION, driver: str = "") -> Project:
        project = make_project(tmp_path, feature_code, driver)
        monkeypatch.chdir(project.root)
        return project
    return build


# --- a Sonar server on loopback, answering with the documented response shapes ------

@dataclass
class FakeSonar:
    """Scripted answers: `task_statuses` are served in order (the last one repeats),
    after `failures_before` answers of `failure_status`; `auth_status` answers every
    request with 401/403 instead."""

    task_statuses: list[str] = field(default_factory=lambda: ["SUCCESS"])
    gate_status: str = "OK"
    conditions: list[dict[str, Any]] = field(default_factory=list)
    error_message: str = ""
    failures_before: int = 0
    failure_status: int = 503
    failure_body: str = ""
    auth_status: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if self.auth_status:
            return self.auth_status, {"errors": [{"msg": "Insufficient privileges"}]}
        if self.failures_before > 0:
            self.failures_before -= 1
            return self.failure_status, {"errors": [{"msg": self.failure_body or "Service unavailable"}]}
        if path == "/api/ce/task":
            status = self.task_statuses.pop(0) if len(self.task_statuses) > 1 else self.task_statuses[0]
            task = {"id": query["id"][0], "type": "REPORT", "componentKey": "demo", "status": status,
                    "submittedAt": "2024-05-01T10:00:00+0000"}
            if status == "SUCCESS":
                task["analysisId"] = "AY-analysis-1"
            if status == "FAILED":
                task["errorMessage"] = self.error_message or "Unsupported language"
            return 200, {"task": task}
        if path == "/api/qualitygates/project_status":
            if query.get("analysisId") != ["AY-analysis-1"]:
                return 404, {"errors": [{"msg": "Analysis not found"}]}
            return 200, {"projectStatus": {"status": self.gate_status, "conditions": self.conditions,
                                           "ignoredConditions": False}}
        return 404, {"errors": [{"msg": f"Unknown url : {path}"}]}


def _handler(sonar: FakeSonar) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parsed = urlparse(self.path)
            query = parse_qs(parsed.query)
            sonar.requests.append({"path": parsed.path, "query": query,
                                   "authorization": self.headers.get("Authorization")})
            status, body = sonar.answer(parsed.path, query)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base)
            """Quiet: the test output is the gate's."""

    return Handler


@pytest.fixture
def sonar_server() -> Iterator[FakeSonar]:
    sonar = FakeSonar()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sonar))
    sonar.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield sonar
    server.shutdown()
    server.server_close()
    thread.join()


def write_report_task(directory: Path, server_url: str) -> Path:
    path = directory / ".scannerwork" / "report-task.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "projectKey=demo\n"
        f"serverUrl={server_url}\n"
        "serverVersion=10.6.0.92116\n"
        f"dashboardUrl={server_url}/dashboard?id=demo\n"
        "ceTaskId=AY-task-1\n"
        f"ceTaskUrl={server_url}/api/ce/task?id=AY-task-1\n",
        encoding="utf-8",
    )
    return path
