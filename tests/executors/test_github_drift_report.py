"""The drift job and the gate-report job of a generated GitHub workflow, executed by act: the churn
example's code and data, its champion trained by its own training code (which logs the data
snapshot), a pull request whose data broke the schema and then only drifted. The drift job
compares with the champion's snapshot fetched from the loopback MLflow server; the report job
runs last, also after the failed drift job, fetches every job's reports (upload-artifact and
download-artifact with `pattern`/`merge-multiple`, the test stand-ins) and keeps one comment
on a loopback server answering GitHub's issue-comments API, updated in place; a pull request
from a fork falls back to the step summary. The token never appears in any output."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loopback_json import JsonHandler
from .act_runner import REMOTE_NAME, Act
from .plugin import environment_without, forget_registered_model

pytestmark = pytest.mark.slow

TOKEN = "ghs_loopbackSecretToken0123456789"
MODEL = "churn-drift-report"
REPOSITORY = "pipegen-tests/churn"
# The churn example reduced to what this scenario executes: its drift gate (on the champion's
# snapshot), the training and model gate that pull requests skip, and the report comment.
DESCRIPTOR = f"""\
version: 1
project: {{name: churn-model, python: "3.11", requirements: {{runtime: requirements.txt}}, source: src}}
targets: [github]
triggers: {{branches: [main], pull_requests: true}}
model:
  name: {MODEL}
  tracking_uri_var: MLFLOW_TRACKING_URI
  train: python -m churn.train
  metrics:
    auc: {{greater_is_better: true, threshold: 0.75}}
data:
  drift:
    current: data/customers.csv
    reference_artifact: data/customers.csv
    columns: {{contract_months: categorical, churned: categorical}}
    on_drift: retrain
report: {{comment: true}}
"""


class Comments(ThreadingHTTPServer):
    """GitHub's issue comments of pull request 7 of REPOSITORY, in memory."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), CommentsHandler)
        self.comments: dict[int, str] = {1: "LGTM once the data is fixed"}
        self.calls: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class CommentsHandler(JsonHandler):
    server: Comments
    content_type = "application/json; charset=utf-8"

    def _handle(self) -> None:
        data = self._json_body({})
        self.server.calls.append((self.command, self.path))
        base = f"/repos/{REPOSITORY}/issues"
        comments = self.server.comments
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        elif self.command == "GET" and self.path == f"{base}/7/comments?per_page=100":
            self._reply(200, [{"id": key, "body": text, "user": {"login": "github-actions[bot]"}}
                              for key, text in comments.items()])
        elif self.command == "POST" and self.path == f"{base}/7/comments":
            key = max(comments) + 1
            comments[key] = data["body"]
            self._reply(201, {"id": key, "body": data["body"]})
        elif self.command == "PATCH" and (match := re.fullmatch(base + r"/comments/(\d+)", self.path)):
            comments[int(match[1])] = data["body"]
            self._reply(200, {"id": int(match[1]), "body": data["body"]})
        else:
            self._reply(404, {"message": "Not Found"})

    do_GET = do_POST = do_PATCH = _handle


@pytest.fixture(name="github_api")
def fixture_github_api():
    server = Comments()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def pull_request(repo, head_repository: str = REPOSITORY) -> dict[str, Any]:
    return {"number": 7, "pull_request": {
        "number": 7, "head": {"ref": "new-data", "sha": repo.head, "repo": {"full_name": head_repository}},
        "base": {"ref": "main", "repo": {"full_name": REPOSITORY}}}}


def edit_column(text: str, column: str, change) -> str:
    lines = text.splitlines()
    index = lines[0].split(",").index(column)
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[index] = change(row[index])
    return "\n".join([lines[0], *(",".join(row) for row in rows)]) + "\n"


def train_champion(repo, tracking_uri: str) -> str:
    """The example's own training code, as the train job runs it: it logs data/customers.csv as the
    run's snapshot and registers a version, which becomes the champion."""
    from mlflow import MlflowClient  # pylint: disable=import-outside-toplevel  # heavy: this scenario only

    env = {**environment_without("GITHUB_ACTIONS", "GITHUB_OUTPUT", "PIPEGEN_OUTPUTS_FILE"),
           "PYTHONPATH": str(repo.root / "src"), "MLFLOW_TRACKING_URI": tracking_uri, "CHURN_MODEL_NAME": MODEL,
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    done = subprocess.run([sys.executable, "-m", "churn.train", "--no-publish"], cwd=repo.root, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    client = MlflowClient(tracking_uri)
    (version,) = client.search_model_versions(f"name = '{MODEL}'")
    client.set_registered_model_alias(MODEL, "champion", version.version)
    return version.version


@pytest.mark.pipeline_scenario(minutes=1)
def test_pull_request_drift_on_the_champions_snapshot_and_one_report_comment(
        example_repo, wheelhouse, standin_bin, tmp_path: Path, mlflow_server, github_api) -> None:
    repo = example_repo("churn")
    repo.git("remote", "add", REMOTE_NAME, f"https://github.com/{REPOSITORY}.git")
    repo.write({"pipegen.yaml": DESCRIPTOR, ".gitlab-ci.yml": None, "azure-pipelines.yml": None, "Jenkinsfile": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("churn: drift gate and the report comment")
    repo.push("main")
    forget_registered_model(mlflow_server, MODEL)
    version = train_champion(repo, mlflow_server)
    work = tmp_path / "act"
    work.mkdir()
    runner = Act(repo, wheelhouse, standin_bin, work, {"MLFLOW_TRACKING_URI": mlflow_server},
                 {"GITHUB_TOKEN": TOKEN})
    api = {"GITHUB_API_URL": github_api.url}
    customers = (repo.root / "data" / "customers.csv").read_text(encoding="utf-8")

    # A contract length the champion never saw: a schema break, the drift job fails; the report
    # job still runs last and creates the comment with the drift table.
    broken = edit_column(customers, "contract_months", lambda v: "36" if v == "24" else v)
    repo.push_change("new contracts", {"data/customers.csv": broken}, branch="new-data")
    first = runner.run("pull_request", pull_request(repo), env=api)
    assert first.results.get("drift") == "failure", first.explain()
    assert first.results.get("report-comment") == "success", first.explain()
    assert {first.results.get(job) for job in ("train", "model-gate")} == {"skipped"}, first.explain()
    drift_log = first.log("drift")
    assert f"{MODEL} v{version} (champion)" in drift_log, drift_log  # the reference: the champion's snapshot
    ours = [text for text in github_api.comments.values() if "<!-- pipegen:report-comment ci=github -->" in text]
    assert len(ours) == 1, first.log("report-comment")
    assert "pipegen gate `drift`: FAIL" in ours[0] and "contract_months" in ours[0], ours[0]
    assert "created the report comment" in first.log("report-comment")

    # Only prices moved: drift reported (on_drift: retrain), the job passes, the same comment is updated.
    moved = edit_column(customers, "monthly_charges", lambda v: str(round(float(v) + 15, 4)))
    repo.push_change("prices went up", {"data/customers.csv": moved})
    second = runner.run("pull_request", pull_request(repo), env=api)
    assert second.results.get("drift") == "success" and second.results.get("report-comment") == "success", \
        second.explain()
    assert "drifted: monthly_charges;" in second.log("drift")
    ours = [key for key, text in github_api.comments.items() if "<!-- pipegen:report-comment" in text]
    assert len(ours) == 1 and len(github_api.comments) == 2, github_api.comments  # updated in place
    body = github_api.comments[ours[0]]
    assert "pipegen gate `drift`: PASS" in body and "monthly_charges" in body, body
    assert "updated the report comment" in second.log("report-comment")
    assert [method for method, _ in github_api.calls].count("POST") == 1

    # The same pull request from a fork: its token is read-only; the report goes to the step summary.
    calls = len(github_api.calls)
    fork = runner.run("pull_request", pull_request(repo, head_repository="someone/churn"), env=api)
    assert fork.results.get("report-comment") == "success", fork.explain()
    assert "fork pull request" in fork.log("report-comment") and "step summary" in fork.log("report-comment")
    assert len(github_api.calls) == calls  # nothing attempted

    for ran in (first, second, fork):
        assert TOKEN not in ran.stderr and all(TOKEN not in json.dumps(record) for record in ran.records)
