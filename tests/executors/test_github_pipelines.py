"""The committed GitHub Actions workflows, executed by act on this host (tests/executors/act_runner.py),
asserted from what ran: act's job results, values the consuming jobs printed, the MLflow registry."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from .act_runner import REMOTE_NAME, WORKFLOW, Act, download_job_wheels
from .plugin import EXAMPLES

pytestmark = pytest.mark.slow


def push_event(repo, branch: str = "main") -> dict[str, Any]:
    return {"ref": f"refs/heads/{branch}", "after": repo.head, "repository": {"default_branch": "main"}}


@pytest.fixture(scope="session")
def job_wheels(wheelhouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TEST FIXTURE: this checkout's pipegen-ci wheel plus every wheel the examples' GitHub jobs install,
    downloaded once per session (in a copy of each example: an editable `-e .` writes build metadata)."""
    folder = tmp_path_factory.mktemp("github-job-wheels")
    shutil.copy2(wheelhouse.pipegen_wheel, folder)
    copies = tmp_path_factory.mktemp("github-job-wheels-examples")
    for name in ("minimal", "churn"):
        example = shutil.copytree(EXAMPLES / name, copies / name,
                                  ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv"))
        download_job_wheels(folder, example, yaml.safe_load((example / WORKFLOW).read_text(encoding="utf-8")))
    return folder


@pytest.fixture
def act(example_repo, job_wheels, standin_bin, tmp_path: Path):
    def make(name: str, variables: dict[str, str] | None = None, secrets: dict[str, str] | None = None) -> Act:
        repo = example_repo(name)
        repo.git("remote", "add", REMOTE_NAME, f"https://github.com/pipegen-tests/{name}.git")
        work = tmp_path / "act"
        work.mkdir(exist_ok=True)
        return Act(repo, job_wheels, standin_bin, work, variables or {}, secrets or {})
    return make


def test_minimal_push_to_main_runs_test_and_passes(act) -> None:
    runner = act("minimal")
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode == 0, ran.explain()
    assert ran.results == {"pipegen-check": "success", "unit": "success"}, ran.explain()
    assert "passed" in ran.log("unit"), ran.log("unit")


@pytest.fixture
def churn(act, mlflow_server, sonar_server):
    """The churn example under act, wired to the real loopback MLflow server and the Sonar API stand-in,
    with an empty registry for its model (the MLflow server is shared by the session)."""
    from mlflow import MlflowClient  # heavy: only for the registry scenarios
    client = MlflowClient(mlflow_server)
    if client.search_registered_models(filter_string=f"name = '{MODEL}'"):
        client.delete_registered_model(MODEL)
    runner = act("churn", variables={"MLFLOW_TRACKING_URI": mlflow_server, "REGISTRY": "registry.example.test/team",
                                     "SONAR_HOST_URL": sonar_server.url},
                 secrets={"SONAR_TOKEN": "sonar-token-for-tests"})
    return runner, client


MODEL = "churn-classifier"


def test_churn_push_to_main_trains_gates_promotes_and_deploys_one_image(churn) -> None:
    runner, client = churn
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode == 0, ran.explain()
    assert set(ran.ran().values()) == {"success"}, ran.explain()
