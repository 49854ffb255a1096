"""Fixtures for the model gate and promote/rollback tests against a real MLflow tracking server.

The server (`mlflow_server`, one per session) is shared with the executor tests: tests/executors/.
Each test registers its own model under a fresh name, so tests do not see each other.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipegen.cli import main

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID", "TF_BUILD", "GITLAB_CI",
                "CI_PIPELINE_URL", "JENKINS_URL", "BUILD_URL", "MODEL_VERSION", "MLFLOW_TRACKING_URI",
                "PIPEGEN_GATE_MODE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Outside any CI, in an empty directory (no ./pipegen.yaml, no ./mlflow.db), telemetry off."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)


@dataclass
class Registry:
    """Builds test scenarios with the plain MLflow client: runs with metrics, versions, aliases."""

    uri: str
    name: str

    def __post_init__(self) -> None:
        from mlflow.tracking import MlflowClient

        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        experiment = self.client.get_experiment_by_name("pipegen-tests")
        self.experiment_id = (experiment.experiment_id if experiment
                              else self.client.create_experiment("pipegen-tests"))
        self.client.create_registered_model(self.name)

    def version(self, **metrics: float) -> str:
        """A new version registered from a new run that logged `metrics`."""
        run = self.client.create_run(self.experiment_id)
        for key, value in metrics.items():
            self.client.log_metric(run.info.run_id, key, value)
        return str(self.client.create_model_version(self.name, source=f"runs:/{run.info.run_id}/model",
                                                    run_id=run.info.run_id).version)

    def champion(self, version: str, alias: str = "champion") -> None:
        self.client.set_registered_model_alias(self.name, alias, version)

    def aliases(self) -> dict[str, str]:
        return {alias: str(v) for alias, v in self.client.get_registered_model(self.name).aliases.items()}

    def tags(self, version: str) -> dict[str, str]:
        return dict(self.client.get_model_version(self.name, version).tags)

    def model_tags(self) -> dict[str, str]:
        return dict(self.client.get_registered_model(self.name).tags)


@pytest.fixture
def registry(mlflow_server: str) -> Registry:
    """A fresh registered model on the session's server."""
    return Registry(mlflow_server, f"churn-{uuid.uuid4().hex[:10]}")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def pipegen(capsys: pytest.CaptureFixture[str]):
    """Runs the real entry point in-process (`pipegen.cli.main`: exit codes, clean errors)."""
    def run(*args: str) -> Run:
        with pytest.raises(SystemExit) as exited:
            main(list(args))
        captured = capsys.readouterr()
        return Run(exited.value.code, captured.out, captured.err)
    return run
