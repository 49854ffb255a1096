"""The churn example end to end, as its QA and PROD jobs run it: train → gate → promote,
twice — a good model becomes champion, then a degraded one is stopped by the gate.
Against MLflow's embedded default (sqlite:///mlflow.db in the working directory)."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor

pytestmark = pytest.mark.slow

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn"
CLEARED = ("MLFLOW_TRACKING_URI", "MODEL_VERSION", "GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL",
           "PIPEGEN_GATE_MODE")


class Pipeline:
    """The steps of the generated pipeline, run in one working directory."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.outputs = workdir / "pipegen-outputs.env"
        self.env = {key: value for key, value in os.environ.items() if key not in CLEARED}
        self.env.update(MLFLOW_DISABLE_TELEMETRY="true", PIPEGEN_OUTPUTS_FILE=str(self.outputs),
                        PYTHONPATH=os.pathsep.join(filter(None, [str(CHURN / "src"), os.environ.get("PYTHONPATH")])),
                        # the `pipegen` command on PATH, as the jobs have it (train publishes with it)
                        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

    def run(self, argv: list[str], **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.workdir, env={**self.env, **env}, capture_output=True, text=True,
                              timeout=600, check=False)

    def train(self, command: str, **env: str) -> str:
        """Runs the descriptor's train command; returns the MODEL_VERSION it published."""
        argv = shlex.split(command)
        argv[0] = sys.executable if argv[0] == "python" else argv[0]
        done = self.run(argv, **env)
        assert done.returncode == 0, done.stderr
        return dict(line.split("=", 1) for line in self.outputs.read_text().splitlines())["MODEL_VERSION"]

    def pipegen(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        return self.run([sys.executable, "-m", "pipegen", *args], **env)


def aliases(workdir: Path, name: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


def test_good_model_is_promoted_then_a_worse_one_is_stopped(tmp_path: Path):
    shutil.copy(CHURN / "pipegen.yaml", tmp_path / "pipegen.yaml")  # found as ./pipegen.yaml
    model = load_descriptor(tmp_path / "pipegen.yaml").model
    pipeline = Pipeline(tmp_path)

    # First run: no champion yet, on_first_model is `thresholds` → the absolute bound decides.
    good = pipeline.train(model.train)
    gate = pipeline.pipegen("gate", "model", "--report-json", "gate-1.json", MODEL_VERSION=good)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "no version has alias 'champion' yet" in gate.stdout
    promoted = pipeline.pipegen("model", "promote", MODEL_VERSION=good)
    assert promoted.returncode == 0, promoted.stderr
    assert aliases(tmp_path, model.name) == {"champion": good}

    # Second run: a degraded model; the gate compares it with the champion and stops it.
    worse = pipeline.train(model.train, CHURN_DEGRADED="1")
    assert worse != good
    gate = pipeline.pipegen("gate", "model", MODEL_VERSION=worse)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert f"candidate v{worse} against champion v{good}" in gate.stdout
    failed_rows = [line.split()[0] for line in gate.stdout.splitlines() if " FAIL " in line]
    assert "auc:min_absolute_change" in failed_rows
    assert "log_loss:min_relative_change" in failed_rows

    # PROD's promote job refuses it even if someone runs it anyway.
    refused = pipeline.pipegen("model", "promote", MODEL_VERSION=worse)
    assert refused.returncode == 1
    assert "has gate verdict 'fail'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert aliases(tmp_path, model.name) == {"champion": good}
