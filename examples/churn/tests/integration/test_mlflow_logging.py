"""Integration: training logs to a real MLflow registry (embedded SQLite in a tmp dir)."""
from mlflow.tracking import MlflowClient

from churn.data import make_dataset, read_csv, write_csv
from churn.train import main


def test_train_registers_a_version_with_its_metrics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "CHURN_DEGRADED"):
        monkeypatch.delenv(name, raising=False)
    # A normal model is under test here, also when the pipeline runs with CHURN_DEGRADED=1 set.
    monkeypatch.delenv("CHURN_DEGRADED", raising=False)

    # The integration job does not install pipegen: this test is about registering, not publishing.
    assert main(["--customers", "400", "--model-name", "churn-test", "--no-publish"]) == 0

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    version = client.get_model_version("churn-test", "1")
    run = client.get_run(version.run_id)
    assert set(run.data.metrics) == {"auc", "log_loss"}
    assert run.data.params["degraded"] == "False"
    assert 0.5 < run.data.metrics["auc"] <= 1.0


def test_train_logs_its_data_snapshot_for_the_drift_gate(tmp_path, monkeypatch):
    """The drift gate's reference is the champion's training data: the run keeps it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "CHURN_DEGRADED"):
        monkeypatch.delenv(name, raising=False)
    write_csv(make_dataset(300, seed=3), tmp_path / "data" / "customers.csv")

    assert main(["--model-name", "churn-snapshot", "--no-publish"]) == 0  # data/customers.csv is used when present

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.get_model_version("churn-snapshot", "1").run_id
    assert [item.path for item in client.list_artifacts(run_id, "data")] == ["data/customers.csv"]
    logged = client.download_artifacts(run_id, "data/customers.csv", str(tmp_path))
    assert len(read_csv(logged)) == 300
    assert open(logged, encoding="utf-8").read() == (tmp_path / "data" / "customers.csv").read_text(encoding="utf-8")
