"""`pipegen gate drift` with the reference taken from MLflow: the data snapshot the
champion's training run logged; and the model gate tagging the drift summary."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gates.test_drift import wine_halves, write_csv

pytestmark = pytest.mark.slow

AUC = "auc:greater_is_better=true,threshold=0.5"


def champion_with_snapshot(registry, snapshot: Path) -> str:
    """A champion version whose training run logged `snapshot` under data/."""
    version = registry.version(auc=0.8)
    run_id = registry.client.get_model_version(registry.name, version).run_id
    registry.client.log_artifact(run_id, str(snapshot), artifact_path="data")
    registry.champion(version)
    return version


def drift_gate(pipegen, registry, current: Path, *extra: str):
    return pipegen("gate", "drift", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--reference-artifact", "data/wine.csv", "--current", str(current), *extra)


def test_reference_is_the_champions_snapshot_and_retrain_publishes(pipegen, registry, tmp_path, monkeypatch):
    reference, current = wine_halves()
    champion_with_snapshot(registry, write_csv(reference, tmp_path / "wine.csv"))
    monkeypatch.setenv("PIPEGEN_OUTPUTS_FILE", str(tmp_path / "outputs.env"))
    same = drift_gate(pipegen, registry, write_csv(current, tmp_path / "current.csv"), "--on-drift", "retrain",
                      "--report-json", "same.json")
    assert same.exit_code == 0, same.stdout + same.stderr
    assert json.loads(Path("same.json").read_text())["data"]["reference"].startswith(f"{registry.name} v1")
    current["alcohol"] = list(np.array(current["alcohol"]) + 2.0)
    moved = drift_gate(pipegen, registry, write_csv(current, tmp_path / "moved.csv"), "--on-drift", "retrain",
                       "--report-json", "moved.json")
    assert moved.exit_code == 0, moved.stdout + moved.stderr
    assert (tmp_path / "outputs.env").read_text() == "DATA_DRIFT=false\nDATA_DRIFT=true\n"
    failed = drift_gate(pipegen, registry, tmp_path / "moved.csv", "--on-drift", "fail")
    assert failed.exit_code == 1 and "alcohol" in failed.stdout


def test_no_champion_yet_counts_as_drift(pipegen, registry, tmp_path, monkeypatch):
    reference, _ = wine_halves()
    registry.version(auc=0.8)  # a version, but no champion alias
    monkeypatch.setenv("PIPEGEN_OUTPUTS_FILE", str(tmp_path / "outputs.env"))
    run = drift_gate(pipegen, registry, write_csv(reference, tmp_path / "current.csv"), "--on-drift", "retrain")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "no 'champion' version yet" in run.stdout
    assert (tmp_path / "outputs.env").read_text() == "DATA_DRIFT=true\n"


def test_unreachable_registry_or_unreadable_data_is_exit_3(pipegen, registry, tmp_path):
    reference, _ = wine_halves()
    champion_with_snapshot(registry, write_csv(reference, tmp_path / "wine.csv"))
    missing = drift_gate(pipegen, registry, tmp_path / "nope.csv")
    assert missing.exit_code == 3 and "does not exist" in missing.stdout
    wrong = pipegen("gate", "drift", "--tracking-uri", registry.uri, "--model-name", registry.name,
                    "--reference-artifact", "data/other.csv", "--current", str(tmp_path / "wine.csv"))
    assert wrong.exit_code == 3, wrong.stdout


def test_model_gate_tags_the_drift_summary_on_the_candidate(pipegen, registry, tmp_path):
    reference, current = wine_halves()
    champion_with_snapshot(registry, write_csv(reference, tmp_path / "wine.csv"))
    current["hue"] = list(np.array(current["hue"]) * 1.8)
    drift_gate(pipegen, registry, write_csv(current, tmp_path / "current.csv"), "--report-json", "drift.json")
    candidate = registry.version(auc=0.9)
    run = pipegen("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name,
                  "--candidate-version", candidate, "--metric", AUC, "--drift-report", "drift.json")
    assert run.exit_code == 0, run.stdout + run.stderr
    tags = registry.tags(candidate)
    assert tags["pipegen.gate.verdict"] == "pass"
    assert tags["pipegen.drift.data_drift"] == "true" and tags["pipegen.drift.drifted_features"] == "hue"
    assert tags["pipegen.drift.reference"].startswith(f"{registry.name} v1 (champion)")


def test_first_pipeline_run_has_no_registered_model_yet(pipegen, registry, tmp_path):
    reference, _ = wine_halves()
    run = pipegen("gate", "drift", "--tracking-uri", registry.uri, "--model-name", registry.name + "-never",
                  "--reference-artifact", "data/wine.csv", "--current", str(write_csv(reference, tmp_path / "c.csv")))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert "has no 'champion' version yet" in run.stdout
