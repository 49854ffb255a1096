"""Functional: `python -m churn.train` as the pipeline's train job runs it."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src"


def run_train(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items()
               if key not in ("MLFLOW_TRACKING_URI", "GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL")}
    environ.update(MLFLOW_DISABLE_TELEMETRY="true", PYTHONPATH=os.pathsep.join(
        filter(None, [str(SOURCE), os.environ.get("PYTHONPATH")])), **env)
    return subprocess.run([sys.executable, "-m", "churn.train", "--customers", "400", *args], cwd=cwd,
                          env=environ, capture_output=True, text=True, check=False, timeout=300)


def test_train_uses_the_embedded_registry_and_reports_the_version(tmp_path):
    done = run_train(tmp_path, "--no-publish")
    assert done.returncode == 0, done.stderr
    assert "churn-classifier v1 (auc=" in done.stderr
    assert (tmp_path / "mlflow.db").exists()  # sqlite:///mlflow.db: the working directory


def test_train_publishes_model_version_for_later_jobs(tmp_path):
    done = run_train(tmp_path, PIPEGEN_OUTPUTS_FILE=str(tmp_path / "outputs.env"),
                     PIPEGEN_OUTPUTS_LEDGER=str(tmp_path / "published"))
    if importlib.util.find_spec("pipegen") is not None:  # as in the pipeline: `pipegen output set`
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "outputs.env").read_text() == "MODEL_VERSION=1\n"
    else:  # a version nobody can read is a failed training job, not a green one
        assert done.returncode == 1
        assert "cannot publish MODEL_VERSION=1: pipegen is not installed" in done.stderr


def test_degraded_flag_from_the_environment(tmp_path):
    done = run_train(tmp_path, "--no-publish", CHURN_DEGRADED="1")
    assert done.returncode == 0, done.stderr
    auc = float(done.stderr.split("auc=")[1].split(",")[0])
    assert auc < 0.7


def test_bad_arguments_exit_2(tmp_path):
    assert run_train(tmp_path, "--customers", "many").returncode == 2
