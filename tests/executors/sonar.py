"""TEST FIXTURE: a Sonar server stand-in on loopback, answering with the documented Web API shapes.

SonarQube itself cannot run where pipegen's tests run. This HTTP server speaks the part of its API that
the scanner and `pipegen gate sonar` use: `POST api/ce/submit` (the `pysonar` stand-in submits there),
`GET api/ce/task?id=` and `GET api/qualitygates/project_status?analysisId=`. The gate tests script its
answers; the executor tests point generated pipelines at it through SONAR_HOST_URL.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlparse

TASK_ID = "AY-task-1"
ANALYSIS_ID = "AY-analysis-1"


@dataclass
class FakeSonar:
    """Scripted answers: `task_statuses` are served in order (the last one repeats),
    after `failures_before` answers of `failure_status`; `auth_status` answers every
    request with 401/403 instead. `requests` records every request (path, query, auth)."""

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

    def answer(self, method: str, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if self.auth_status:
            return self.auth_status, {"errors": [{"msg": "Insufficient privileges"}]}
        if self.failures_before > 0:
            self.failures_before -= 1
            return self.failure_status, {"errors": [{"msg": self.failure_body or "Service unavailable"}]}
        if method == "POST" and path == "/api/ce/submit":
            return 200, {"taskId": TASK_ID, "projectId": query.get("projectKey", ["demo"])[0]}
        if path == "/api/ce/task":
            status = self.task_statuses.pop(0) if len(self.task_statuses) > 1 else self.task_statuses[0]
            task = {"id": query["id"][0], "type": "REPORT", "componentKey": "demo", "status": status,
                    "submittedAt": "2024-05-01T10:00:00+0000"}
            if status == "SUCCESS":
                task["analysisId"] = ANALYSIS_ID
            if status == "FAILED":
                task["errorMessage"] = self.error_message or "Unsupported language"
            return 200, {"task": task}
        if path == "/api/qualitygates/project_status":
            if query.get("analysisId") != [ANALYSIS_ID]:
                return 404, {"errors": [{"msg": "Analysis not found"}]}
            return 200, {"projectStatus": {"status": self.gate_status, "conditions": self.conditions,
                                           "ignoredConditions": False}}
        return 404, {"errors": [{"msg": f"Unknown url : {path}"}]}

    def submissions(self) -> list[dict[str, Any]]:
        """The analyses the scanner submitted (`POST api/ce/submit`)."""
        return [request for request in self.requests if request["method"] == "POST"]


def _handler(sonar: FakeSonar) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parsed = urlparse(self.path)
            query = parse_qs(parsed.query)
            sonar.requests.append({"method": method, "path": parsed.path, "query": query,
                                   "authorization": self.headers.get("Authorization")})
            status, body = sonar.answer(method, parsed.path, query)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base)
            """Quiet: the test output is the gate's."""

    return Handler


def serve_sonar() -> Iterator[FakeSonar]:
    """Runs a FakeSonar on a free loopback port until the generator is closed."""
    sonar = FakeSonar()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(sonar))
    sonar.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield sonar
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def write_report_task(directory: Path, server_url: str) -> Path:
    """The file the scanner leaves behind, for gate tests that skip the scanner."""
    path = directory / ".scannerwork" / "report-task.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "projectKey=demo\n"
        f"serverUrl={server_url}\n"
        "serverVersion=10.6.0.92116\n"
        f"dashboardUrl={server_url}/dashboard?id=demo\n"
        f"ceTaskId={TASK_ID}\n"
        f"ceTaskUrl={server_url}/api/ce/task?id={TASK_ID}\n",
        encoding="utf-8",
    )
    return path
