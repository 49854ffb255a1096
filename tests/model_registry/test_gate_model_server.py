"""`pipegen gate model` against a real MLflow tracking server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from executors.mlflow_server import free_port

pytestmark = pytest.mark.slow

AUC = "auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005"
LOG_LOSS = "log_loss:greater_is_better=false,min_relative_change=0.01"


def gate(pipegen, registry, version: str, *extra: str):
    return pipegen("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", version, "--metric", AUC, "--metric", LOG_LOSS, *extra)


def table_rows(stdout: str) -> dict[str, list[str]]:
    """metric -> the table's cells (metric, rule, threshold, actual, status, ...)."""
    return {line.split()[0]: line.split() for line in stdout.splitlines()
            if line.startswith("  ") and ":" in line.split()[0] and len(line.split()) >= 5}


def test_better_candidate_passes_and_the_verdict_is_tagged(pipegen, registry):
    champion = registry.version(auc=0.80, log_loss=0.40)
    registry.champion(champion)
    candidate = registry.version(auc=0.82, log_loss=0.38)

    run = gate(pipegen, registry, candidate, "--report-json", "gate.json")

    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.stdout.startswith("gate model: PASS")
    report = json.loads(Path("gate.json").read_text(encoding="utf-8"))
    assert (report["status"], report["exit_code"]) == ("pass", 0)
    assert {c["metric"]: c["status"] for c in report["conditions"]} == {
        "auc:threshold": "pass", "auc:min_absolute_change": "pass", "log_loss:min_relative_change": "pass"}
    tags = registry.tags(candidate)
    assert tags["pipegen.gate.verdict"] == "pass"
    assert tags["pipegen.gate.baseline_version"] == champion
    assert tags["pipegen.gate.champion_alias"] == "champion"
    assert json.loads(tags["pipegen.gate.metric.auc"])["baseline"] == 0.80
    assert json.loads(tags["pipegen.gate.metric.log_loss"])["candidate"] == 0.38


def test_worse_candidate_fails_with_a_per_metric_table(pipegen, registry):
    registry.champion(registry.version(auc=0.80, log_loss=0.40))
    candidate = registry.version(auc=0.79, log_loss=0.41)

    run = gate(pipegen, registry, candidate, "--junit", "gate.xml")

    assert run.exit_code == 1
    assert run.stdout.startswith("gate model: FAIL")
    rows = table_rows(run.stdout)
    assert rows["auc:threshold"][1:5] == [">=", "0.75", "0.79", "PASS"]
    assert rows["auc:min_absolute_change"][1:5] == [">=", "0.805", "0.79", "FAIL"]
    assert rows["log_loss:min_relative_change"][1:5] == ["<=", "0.396", "0.41", "FAIL"]
    suite = ET.parse("gate.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    assert registry.tags(candidate)["pipegen.gate.verdict"] == "fail"


def test_dry_run_reports_the_failure_but_exits_zero_and_still_records_it(pipegen, registry):
    registry.champion(registry.version(auc=0.80, log_loss=0.40))
    candidate = registry.version(auc=0.70, log_loss=0.50)

    run = gate(pipegen, registry, candidate, "--mode", "dry-run")

    assert run.exit_code == 0
    assert "FAIL (dry-run)" in run.stdout
    assert registry.tags(candidate)["pipegen.gate.verdict"] == "fail"


def test_metric_missing_on_candidate_fails(pipegen, registry):
    registry.champion(registry.version(auc=0.80, log_loss=0.40))
    candidate = registry.version(auc=0.90)

    run = gate(pipegen, registry, candidate)

    assert run.exit_code == 1
    assert "not logged on the candidate's run" in run.stdout
    assert json.loads(registry.tags(candidate)["pipegen.gate.metric.log_loss"])["status"] == "fail"


def test_metric_missing_on_champion_fails_where_a_change_is_required(pipegen, registry):
    champion = registry.version(auc=0.80)
    registry.champion(champion)
    candidate = registry.version(auc=0.90, log_loss=0.30)

    run = gate(pipegen, registry, candidate)

    assert run.exit_code == 1
    assert f"not logged on the champion v{champion}'s run" in run.stdout


def test_relative_change_with_a_zero_baseline_falls_back_to_strictly_better(pipegen, registry):
    registry.champion(registry.version(errors=0.0))
    same = registry.version(errors=0.0)
    better = registry.version(errors=-0.5)  # e.g. a signed error metric
    worse = registry.version(errors=0.5)
    rule = "errors:greater_is_better=false,min_relative_change=0.5"
    base = ("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name, "--metric", rule)

    # as good as the champion, not strictly better: kept out (no promotion), the job passes
    kept = pipegen(*base, "--candidate-version", same)
    assert kept.exit_code == 0 and "gate model: KEEP" in kept.stdout
    assert registry.tags(same)["pipegen.gate.verdict"] == "keep"
    assert pipegen(*base, "--candidate-version", better).exit_code == 0
    assert pipegen(*base, "--candidate-version", worse).exit_code == 1


@pytest.mark.parametrize("rule, candidate_metrics, exit_code", [
    ("thresholds", {"auc": 0.76, "log_loss": 5.0}, 0),  # above the bound; change rules skipped
    ("thresholds", {"auc": 0.70, "log_loss": 0.1}, 1),  # below the absolute bound
    ("pass", {"auc": 0.10, "log_loss": 5.0}, 0),
    ("fail", {"auc": 0.99, "log_loss": 0.01}, 1),
])
def test_first_model_rules(pipegen, registry, rule, candidate_metrics, exit_code):
    candidate = registry.version(**candidate_metrics)

    run = gate(pipegen, registry, candidate, "--on-first-model", rule)

    assert run.exit_code == exit_code, run.stdout
    assert "no version has alias 'champion' yet" in run.stdout
    tags = registry.tags(candidate)
    assert tags["pipegen.gate.baseline_version"] == "none"
    assert tags["pipegen.gate.verdict"] == ("pass" if exit_code == 0 else "fail")


def test_first_model_thresholds_shows_change_rules_as_skipped(pipegen, registry):
    candidate = registry.version(auc=0.80, log_loss=0.40)

    run = gate(pipegen, registry, candidate, "--on-first-model", "thresholds")

    rows = table_rows(run.stdout)
    assert rows["auc:min_absolute_change"][4] == "SKIP"
    assert rows["log_loss:min_relative_change"][4] == "SKIP"


def test_custom_champion_alias(pipegen, registry):
    registry.champion(registry.version(auc=0.80, log_loss=0.40), alias="prod")
    candidate = registry.version(auc=0.70, log_loss=0.50)

    assert gate(pipegen, registry, candidate, "--champion-alias", "prod").exit_code == 1
    assert registry.tags(candidate)["pipegen.gate.champion_alias"] == "prod"


def test_unknown_candidate_version_cannot_be_evaluated(pipegen, registry):
    registry.champion(registry.version(auc=0.80, log_loss=0.40))

    run = gate(pipegen, registry, "99", "--report-json", "gate.json")

    assert run.exit_code == 3
    assert "could not evaluate" in run.stdout
    assert json.loads(Path("gate.json").read_text(encoding="utf-8"))["exit_code"] == 3


def test_unknown_model_cannot_be_evaluated(pipegen, mlflow_server):
    run = pipegen("gate", "model", "--tracking-uri", mlflow_server, "--model-name", "no-such-model-here",
                  "--candidate-version", "1", "--metric", AUC)
    assert run.exit_code == 3
    assert "no-such-model-here" in run.stdout


def test_tracking_uri_comes_from_the_environment_variable(pipegen, registry, monkeypatch):
    registry.champion(registry.version(auc=0.80, log_loss=0.40))
    candidate = registry.version(auc=0.85, log_loss=0.30)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.uri)
    monkeypatch.setenv("MODEL_VERSION", candidate)

    run = pipegen("gate", "model", "--model-name", registry.name, "--metric", AUC, "--metric", LOG_LOSS)

    assert run.exit_code == 0, run.stdout + run.stderr
    assert registry.tags(candidate)["pipegen.gate.verdict"] == "pass"


def test_unreachable_server_exits_3_with_a_message_not_a_traceback(tmp_path):
    # A port nobody listens on; the whole CLI in a subprocess, as a CI step runs it.
    env = {key: value for key, value in os.environ.items() if key not in ("MODEL_VERSION", "MLFLOW_TRACKING_URI")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    done = subprocess.run(
        [sys.executable, "-m", "pipegen", "gate", "model", "--tracking-uri", f"http://127.0.0.1:{free_port()}",
         "--model-name", "churn", "--candidate-version", "2", "--metric", AUC, "--report-json", "gate.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 3
    assert "could not evaluate" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))["status"] == "error"
