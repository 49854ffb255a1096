"""`pipegen gate model` without a server: usage errors, the embedded SQLite default,
thresholds from the descriptor, and staying light when only asking for help."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import run_pipegen

AUC = "auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005"
CI_AND_MLFLOW = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "MODEL_VERSION",
                 "MLFLOW_TRACKING_URI", "PIPEGEN_GATE_MODE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CI_AND_MLFLOW:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)


def sqlite_registry(path: Path, name: str, champion: dict[str, float] | None,
                    candidate: dict[str, float]) -> str:
    """A real SQLite registry: optional champion version, then a candidate; returns its number."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{path}")
    experiment = client.create_experiment("tests", artifact_location=(path.parent / "artifacts").as_uri())
    client.create_registered_model(name)

    def register(metrics: dict[str, float]) -> str:
        run = client.create_run(experiment)
        for key, value in metrics.items():
            client.log_metric(run.info.run_id, key, value)
        return str(client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id).version)

    if champion is not None:
        client.set_registered_model_alias(name, "champion", register(champion))
    return register(candidate)


def version_tags(path: Path, name: str, version: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient

    return dict(MlflowClient(f"sqlite:///{path}").get_model_version(name, version).tags)


def test_no_model_to_gate_is_a_usage_error(capsys):
    result = run_pipegen(capsys, "gate", "model", "--candidate-version", "1")
    assert result.exit_code == 2
    assert "no model to gate: pass --model-name and --metric" in result.err


@pytest.mark.parametrize("spec, message", [
    ("auc", "expected NAME:greater_is_better"),
    ("auc:threshold=0.7", "greater_is_better is required"),
    ("auc:greater_is_better=maybe", "must be true or false"),
    ("auc:greater_is_better=true,threshold=high", "threshold must be a number"),
    ("auc:greater_is_better=true,minimum=0.7", "unknown setting 'minimum=0.7'"),
    ("auc:greater_is_better=true,min_absolute_change=0", "must be a positive number"),
    ("auc:greater_is_better=true,min_relative_change=2", "between 0 and 1"),
    ("auc:greater_is_better=true", "at least one of threshold"),
])
def test_bad_metric_flags_are_usage_errors(capsys, spec, message):
    result = run_pipegen(capsys, "gate", "model", "--model-name", "m", "--candidate-version", "1", "--metric", spec)
    assert result.exit_code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_no_candidate_version_is_a_usage_error(capsys):
    result = run_pipegen(capsys, "gate", "model", "--model-name", "m", "--metric", AUC)
    assert result.exit_code == 2
    assert "set MODEL_VERSION" in result.err


def test_mode_off_does_not_evaluate(capsys):
    result = run_pipegen(capsys, "gate", "model", "--mode", "off", "--model-name", "m", "--metric", AUC)
    assert result.exit_code == 0
    assert "gate model: off (not evaluated)" in result.out


def test_missing_embedded_registry_cannot_be_evaluated_and_is_not_created(capsys, tmp_path):
    result = run_pipegen(capsys, "gate", "model", "--model-name", "m", "--candidate-version", "1",
                         "--metric", AUC, "--report-json", "gate.json")
    assert result.exit_code == 3
    assert "no MLflow registry at sqlite:///mlflow.db" in result.out
    assert json.loads((tmp_path / "gate.json").read_text())["exit_code"] == 3
    assert not (tmp_path / "mlflow.db").exists()


def test_embedded_default_registry_in_the_working_directory(tmp_path):
    """No tracking URI anywhere: MLflow's embedded sqlite:///mlflow.db, as on a laptop."""
    candidate = sqlite_registry(tmp_path / "mlflow.db", "churn", {"auc": 0.80}, {"auc": 0.81})
    env = {key: value for key, value in os.environ.items() if key not in CI_AND_MLFLOW}
    done = subprocess.run([sys.executable, "-m", "pipegen", "gate", "model", "--model-name", "churn",
                           "--metric", AUC], cwd=tmp_path, env={**env, "MODEL_VERSION": candidate},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "candidate v2 against champion v1" in done.stdout
    assert version_tags(tmp_path / "mlflow.db", "churn", candidate)["pipegen.gate.verdict"] == "pass"


DESCRIPTOR = """\
    version: 1
    project: {name: churn-model}
    targets: [github]
    tests: {unit: tests/unit}
    model:
      name: churn
      train: python -m churn.train
      tracking_uri_var: TEAM_MLFLOW
      champion_alias: prod
      on_first_model: fail
      metrics:
        auc: {greater_is_better: true, threshold: 0.75, min_absolute_change: 0.005}
        log_loss: {greater_is_better: false, min_relative_change: 0.01}
"""


def write_descriptor(directory: Path) -> Path:
    path = directory / "pipegen.yaml"
    path.write_text(textwrap.dedent(DESCRIPTOR), encoding="utf-8")
    return path


def test_the_descriptor_gives_name_uri_variable_alias_first_model_rule_and_metrics(capsys, tmp_path, monkeypatch):
    db = tmp_path / "team.db"
    candidate = sqlite_registry(db, "churn", None, {"auc": 0.99, "log_loss": 0.01})
    write_descriptor(tmp_path)
    monkeypatch.setenv("TEAM_MLFLOW", f"sqlite:///{db}")

    result = run_pipegen(capsys, "gate", "model", "--candidate-version", candidate, "--report-json", "gate.json")

    # No version has alias `prod` and on_first_model is `fail`: even a perfect model fails.
    assert result.exit_code == 1, result.out + result.err
    assert "no version has alias 'prod' yet" in result.out
    report = json.loads((tmp_path / "gate.json").read_text())
    assert report["conditions"][0] == {"metric": "alias prod", "comparator": "exists", "threshold": "yes",
                                       "actual": "no", "status": "fail",
                                       "detail": "first model: on_first_model is fail"}
    assert version_tags(db, "churn", candidate)["pipegen.gate.champion_alias"] == "prod"


def test_flags_override_the_descriptor(capsys, tmp_path, monkeypatch):
    db = tmp_path / "team.db"
    candidate = sqlite_registry(db, "churn", None, {"auc": 0.99})
    write_descriptor(tmp_path)
    monkeypatch.setenv("TEAM_MLFLOW", f"sqlite:///{db}")

    result = run_pipegen(capsys, "gate", "model", "--candidate-version", candidate, "--on-first-model", "thresholds",
                         "--metric", "auc:greater_is_better=true,threshold=0.9")

    assert result.exit_code == 0, result.out + result.err
    assert "log_loss" not in result.out  # --metric replaced the descriptor's metric list


def test_a_broken_descriptor_is_a_usage_error_with_its_location(capsys, tmp_path):
    (tmp_path / "pipegen.yaml").write_text("version: 1\nproject: {name: x}\ntargets: [github]\nmodel: {name: m}\n")
    result = run_pipegen(capsys, "gate", "model", "--candidate-version", "1")
    assert result.exit_code == 2
    assert "pipegen.yaml:4:" in result.err


@pytest.mark.parametrize("args", [["gate", "model", "--help"], ["model", "--help"], ["model", "promote", "--help"]])
def test_help_does_not_import_mlflow(args):
    script = ("import sys\nfrom pipegen.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "print('MLFLOW IMPORTED' if 'mlflow' in sys.modules else 'mlflow not imported')")
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stdout.rstrip().endswith("mlflow not imported")


def test_a_server_that_never_answers_exits_3_within_the_users_timeout(tmp_path):
    """A listening socket that never replies (a hung server): the request times out, the
    gate fails closed. The user's MLFLOW_HTTP_* values win over pipegen's defaults."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        env = {key: value for key, value in os.environ.items() if key not in CI_AND_MLFLOW}
        env.update(MLFLOW_HTTP_REQUEST_TIMEOUT="1", MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
                   MLFLOW_DISABLE_TELEMETRY="true")
        done = subprocess.run(
            [sys.executable, "-m", "pipegen", "gate", "model", "--tracking-uri",
             f"http://127.0.0.1:{hung.getsockname()[1]}", "--model-name", "churn", "--candidate-version", "1",
             "--metric", AUC], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot reach the server (Read timed out" in done.stdout
    assert "Traceback" not in done.stderr
