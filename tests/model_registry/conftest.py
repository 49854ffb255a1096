"""A real MLflow tracking server for the model gate and promote/rollback tests.

One server per test session (startup takes ~10 s): `mlflow server` on a SQLite backend
in a temporary directory, started in its own process group and stopped with that group.
Each test registers its own model under a fresh name, so tests do not see each other.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from pipegen.cli import main

STARTUP_LIMIT_SECONDS = 180  # ~10 s idle; a loaded 2-core machine takes far longer
CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_RUN_ID", "TF_BUILD", "GITLAB_CI",
                "CI_PIPELINE_URL", "JENKINS_URL", "BUILD_URL", "MODEL_VERSION", "MLFLOW_TRACKING_URI",
                "PIPEGEN_GATE_MODE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stops the server's whole process group (uvicorn runs workers as children)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The tracking URI of a running `mlflow server`; artifacts and database in a tmp dir."""
    root = tmp_path_factory.mktemp("mlflow-server")
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    command = [sys.executable, "-m", "mlflow", "server",
               "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--artifacts-destination", str(root / "artifacts"),
               "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--workers", "1"]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (root / "server.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"mlflow server did not become healthy at {url}:\n{tail}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(process)


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
