"""Unit: the train command's arguments and publishing, without a registry (MLflow's part is
replaced by a recorder here; the integration and functional levels run it for real)."""
import shutil

import pytest

from churn import train as train_module
from churn.model import TrainingResult


def test_defaults_and_environment_fallbacks(monkeypatch):
    monkeypatch.delenv("CHURN_DEGRADED", raising=False)
    monkeypatch.delenv("CHURN_MODEL_NAME", raising=False)
    args = train_module.parse_args([])
    assert (args.degraded, args.model_name, args.customers, args.seed, args.publish) == (
        False, "churn-classifier", 2000, 7, True)
    monkeypatch.setenv("CHURN_DEGRADED", "1")
    monkeypatch.setenv("CHURN_MODEL_NAME", "churn-staging")
    args = train_module.parse_args(["--no-publish", "--customers", "50"])
    assert (args.degraded, args.model_name, args.customers, args.publish) == (True, "churn-staging", 50, False)


def test_publish_writes_the_version_where_later_jobs_read_it(tmp_path, monkeypatch):
    if shutil.which("pipegen") is None:  # the train job has it on PATH; a developer may not
        pytest.skip("the pipegen command is not on PATH")
    for variable in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "RUNNER_TEMP", "AGENT_TEMPDIRECTORY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PIPEGEN_OUTPUTS_FILE", str(tmp_path / "outputs.env"))
    monkeypatch.setenv("PIPEGEN_OUTPUTS_LEDGER", str(tmp_path / "published"))
    assert train_module.publish("4") is True
    assert (tmp_path / "outputs.env").read_text() == "MODEL_VERSION=4\n"


def test_without_pipegen_publishing_fails_loudly(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "")  # as if pipegen were not installed
    assert train_module.publish("4") is False
    assert "cannot publish MODEL_VERSION=4: pipegen is not installed" in capsys.readouterr().err


@pytest.fixture(name="registered")
def fixture_registered(monkeypatch):
    """Records what main() would log and register, and answers with version 3."""
    calls = []

    def register(result: TrainingResult, args, *_snapshot) -> str:  # the data set and its file, for the log
        calls.append((result, args))
        return "3"

    monkeypatch.setattr(train_module, "log_and_register", register)
    return calls


def test_main_trains_registers_and_publishes(registered, monkeypatch, capsys):
    published = []
    monkeypatch.setattr(train_module, "publish", lambda version: published.append(version) or True)
    assert train_module.main(["--customers", "300"]) == 0
    (result, args), = registered
    assert set(result.metrics) == {"auc", "log_loss"} and args.customers == 300
    assert published == ["3"]
    assert "churn-classifier v3 (auc=" in capsys.readouterr().err


def test_main_fails_when_the_version_cannot_be_published(registered, monkeypatch):
    monkeypatch.setattr(train_module, "publish", lambda version: False)
    assert train_module.main(["--customers", "300"]) == 1
    assert registered


def test_main_with_no_publish_only_registers(registered, monkeypatch):
    monkeypatch.setattr(train_module, "publish", lambda version: pytest.fail("published"))
    assert train_module.main(["--customers", "300", "--no-publish"]) == 0


def test_the_committed_data_set_is_used_when_present(tmp_path, monkeypatch):
    """The pipeline trains on data/customers.csv (the drift gate's current data) when it exists."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHURN_DATA", raising=False)
    dataset, path = train_module.load_data(train_module.parse_args(["--customers", "60"]))
    assert path is None and len(dataset) == 60  # nothing committed: generated
    train_module.write_csv(train_module.make_dataset(80, 1), tmp_path / "data" / "customers.csv")
    dataset, path = train_module.load_data(train_module.parse_args([]))
    assert str(path) == "data/customers.csv" and len(dataset) == 80
