"""`pipegen model promote|rollback` without a server: usage errors, a missing mlflow,
and the descriptor's model block against a real SQLite registry."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from helpers import run_pipegen

CLEARED = ("GITHUB_ACTIONS", "GITHUB_ACTOR", "GITHUB_RUN_ID", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "BUILD_URL",
           "MODEL_VERSION", "MLFLOW_TRACKING_URI", "CI_PIPELINE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)


def test_promote_without_a_model_is_a_usage_error(capsys):
    result = run_pipegen(capsys, "model", "promote", "--candidate-version", "3")
    assert result.exit_code == 2
    assert "no model: pass --model-name" in result.err


def test_promote_without_a_candidate_is_a_usage_error(capsys):
    result = run_pipegen(capsys, "model", "promote", "--model-name", "churn")
    assert result.exit_code == 2
    assert "set MODEL_VERSION" in result.err


@pytest.mark.parametrize("command", [["promote", "--candidate-version", "1"], ["rollback"]])
def test_without_mlflow_installed_the_commands_say_how_to_get_it(capsys, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now raises ImportError
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    result = run_pipegen(capsys, "model", *command, "--model-name", "churn", "--tracking-uri", "http://127.0.0.1:1")
    assert result.exit_code == 3
    assert "pip install 'pipegen-ci[mlflow]'" in result.err
    assert "Traceback" not in result.err


def test_gate_without_mlflow_installed_exits_3_with_the_hint(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    result = run_pipegen(capsys, "gate", "model", "--model-name", "churn", "--candidate-version", "1",
                         "--metric", "auc:greater_is_better=true,threshold=0.7", "--tracking-uri", "http://127.0.0.1:1")
    assert result.exit_code == 3
    assert "pip install 'pipegen-ci[mlflow]'" in result.out


def test_promote_and_rollback_use_the_descriptors_model_block(capsys, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'team.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("tests", artifact_location=(tmp_path / "artifacts").as_uri())
    client.create_registered_model("churn")
    versions = []
    for auc in (0.80, 0.85):
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "auc", auc)
        versions.append(str(client.create_model_version("churn", f"runs:/{run.info.run_id}/model",
                                                        run.info.run_id).version))
    client.set_registered_model_alias("churn", "prod", versions[0])

    def aliases() -> dict[str, str]:
        return {alias: str(v) for alias, v in client.get_registered_model("churn").aliases.items()}

    (tmp_path / "pipegen.yaml").write_text(textwrap.dedent("""\
        version: 1
        project: {name: churn-model}
        targets: [github]
        tests: {unit: tests/unit}
        model:
          name: churn
          train: python -m churn.train
          tracking_uri_var: TEAM_MLFLOW
          champion_alias: prod
          metrics:
            auc: {greater_is_better: true, min_absolute_change: 0.01}
        """), encoding="utf-8")
    monkeypatch.setenv("TEAM_MLFLOW", uri)
    monkeypatch.setenv("MODEL_VERSION", versions[1])

    assert run_pipegen(capsys, "gate", "model").exit_code == 0
    promoted = run_pipegen(capsys, "model", "promote")
    assert promoted.exit_code == 0, promoted.err
    assert f"churn v{versions[1]} is now 'prod'" in promoted.out
    assert aliases() == {"prod": versions[1], "previous-champion": versions[0]}

    rolled_back = run_pipegen(capsys, "model", "rollback")
    assert rolled_back.exit_code == 0, rolled_back.err
    assert aliases() == {"prod": versions[0]}
