"""Integration: training logs to a real MLflow registry (embedded SQLite in a tmp dir)."""
from mlflow.tracking import MlflowClient

from churn.train import main


def test_train_registers_a_version_with_its_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL"):
        monkeypatch.delenv(name, raising=False)

    # The integration job does not install pipegen: this test is about registering, not publishing.
    assert main(["--customers", "400", "--model-name", "churn-test", "--no-publish"]) == 0

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    version = client.get_model_version("churn-test", "1")
    run = client.get_run(version.run_id)
    assert set(run.data.metrics) == {"auc", "log_loss"}
    assert run.data.params["degraded"] == "False"
    assert 0.5 < run.data.metrics["auc"] <= 1.0
