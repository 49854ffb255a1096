"""The drift job and the gate-report job, executed by gitlab-ci-local (shell executor): in a merge
request pipeline where the drift gate fails, the report job still runs last and leaves one note,
updated in place on the next run, on a loopback server answering GitLab's notes API."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from loopback_json import JsonHandler
from .descriptors import textstats_descriptor
from .gitlab_ci_local import GitlabCiLocal

pytestmark = pytest.mark.slow

TOKEN = "glpat-loopback-secret-0123"
DESCRIPTOR = textstats_descriptor("gitlab") + """\
data:
  drift:
    reference: data/reference.csv
    current: data/current.csv
    columns: {plan: categorical}
    on_drift: fail
report: {comment: true, token_secret: REVIEW_TOKEN}
"""


def table(shift: float) -> str:
    rows = ["amount,plan"] + [f"{(i * 37) % 101 + shift},{'basic' if i % 3 else 'pro'}" for i in range(300)]
    return "\n".join(rows) + "\n"


class Notes(ThreadingHTTPServer):
    """GitLab's merge request notes API for project 42, MR 1, in memory."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), NotesHandler)
        self.notes: dict[int, str] = {}
        self.seen_tokens: list[str | None] = []


class NotesHandler(JsonHandler):
    server: Notes

    def _handle(self) -> None:
        data = self._json_body({})
        self.server.seen_tokens.append(self.headers.get("PRIVATE-TOKEN"))
        base = "/api/v4/projects/42/merge_requests/1/notes"
        if self.headers.get("PRIVATE-TOKEN") != TOKEN:
            self._reply(401, {"message": "401 Unauthorized"})
        elif self.command == "GET" and self.path.startswith(base + "?"):
            self._reply(200, [{"id": key, "body": text, "system": False} for key, text in self.server.notes.items()])
        elif self.command == "POST" and self.path == base:
            key = len(self.server.notes) + 1
            self.server.notes[key] = data["body"]
            self._reply(201, {"id": key, "body": data["body"]})
        elif self.command == "PUT" and (match := re.fullmatch(base + r"/(\d+)", self.path)):
            self.server.notes[int(match[1])] = data["body"]
            self._reply(200, {"id": int(match[1]), "body": data["body"]})
        else:
            self._reply(404, {"message": "404 Not found"})

    do_GET = do_POST = do_PUT = _handle


@pytest.fixture(name="notes")
def fixture_notes():
    server = Notes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_failed_drift_gate_still_gets_its_report_on_the_merge_request(example_repo, wheelhouse, standin_bin,
                                                                      tmp_path: Path, notes) -> None:
    repo = example_repo("minimal", remote_url="https://gitlab.example.test/pipegen-tests/textstats.git")
    repo.write({"pipegen.yaml": DESCRIPTOR, "azure-pipelines.yml": None, "Jenkinsfile": None,
                ".github/workflows/pipegen.yml": None,
                "data/reference.csv": table(0), "data/current.csv": table(0)})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("drift gate and the report comment")
    repo.git("checkout", "--quiet", "-b", "new-data")
    repo.commit("prices went up", {"data/current.csv": table(40)})
    work = tmp_path / "gitlab"
    work.mkdir()
    pipeline = GitlabCiLocal(repo, wheelhouse, standin_bin, work, {
        "REVIEW_TOKEN": TOKEN, "CI_API_V4_URL": f"http://127.0.0.1:{notes.server_address[1]}/api/v4",
        "CI_PROJECT_ID": "42"})

    first = pipeline.run("merge_request_event")
    assert first.statuses.get("drift") == "FAIL", first.explain()  # amount moved: on_drift fail
    assert first.statuses.get("report-comment") == "PASS", first.explain()  # ran after the failure
    assert list(notes.notes) == [1], first.explain()
    note = notes.notes[1]
    assert note.startswith("<!-- pipegen:report-comment ci=gitlab -->")
    assert "pipegen gate `drift`: FAIL" in note and "amount" in note
    assert TOKEN not in first.output and all(TOKEN not in log for log in first.logs.values())

    repo.commit("prices back to normal", {"data/current.csv": table(0)})
    second = pipeline.run("merge_request_event")
    assert second.statuses.get("drift") == "PASS" and second.statuses.get("report-comment") == "PASS", \
        second.explain()
    assert list(notes.notes) == [1]  # the same note, updated in place
    assert "pipegen gate `drift`: PASS" in notes.notes[1]
    assert "updated the report comment 1 on gitlab" in second.log("report-comment")
