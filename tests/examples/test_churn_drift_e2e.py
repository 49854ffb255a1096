"""The churn example's drift job end to end, as QA runs it: the reference is the data
snapshot the champion's training run logged; DATA_DRIFT decides whether a scheduled run
trains; the model gate tags the drift summary on the candidate."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.plan import build_plan

from test_churn_e2e import CHURN, Pipeline

pytestmark = pytest.mark.slow


def outputs(pipeline: Pipeline) -> dict[str, str]:
    lines = pipeline.outputs.read_text().splitlines() if pipeline.outputs.exists() else []
    return dict(line.split("=", 1) for line in lines)


def edit_column(path: Path, column: str, change) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row[column] = change(row[column])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def step(plan, job_id: str, title: str) -> str:
    return next(item.run for item in plan.job(job_id).steps if item.title == title)


def run_step(pipeline: Pipeline, script: str, **env: str) -> subprocess.CompletedProcess:
    """A generated step's shell, as the CI runs it (bash -e), with `python` and `pipegen` from this venv."""
    return pipeline.run(["bash", "-ec", script], **env)


def test_drift_against_the_champions_snapshot(tmp_path: Path):
    shutil.copy(CHURN / "pipegen.yaml", tmp_path / "pipegen.yaml")
    shutil.copytree(CHURN / "data", tmp_path / "data")
    descriptor = load_descriptor(tmp_path / "pipegen.yaml")
    plan = build_plan(descriptor)
    drift_step = step(plan, "drift", "Drift gate")
    train_step = plan.job("train").steps[0].run
    pipeline = Pipeline(tmp_path)
    pipeline.env["PATH"] = f"{Path(sys.executable).parent}:{pipeline.env['PATH']}"

    # No champion yet: nothing to compare with, so the data counts as new.
    (tmp_path / "pipegen-reports").mkdir()
    first = run_step(pipeline, drift_step)
    assert first.returncode == 0, first.stdout + first.stderr
    assert outputs(pipeline)["DATA_DRIFT"] == "true"

    # The plan's train step trains (the data is new), logs the snapshot; gate, tag, promote.
    trained = run_step(pipeline, train_step, GITHUB_EVENT_NAME="schedule", DATA_DRIFT="true")
    assert trained.returncode == 0, trained.stderr
    version = outputs(pipeline)["MODEL_VERSION"]
    gate = pipeline.pipegen("gate", "model", "--drift-report", "pipegen-reports/drift.json", MODEL_VERSION=version)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "drift summary tagged" in gate.stdout
    assert pipeline.pipegen("model", "promote", MODEL_VERSION=version).returncode == 0

    # Same data as the champion's snapshot: no drift, and a scheduled run skips training.
    pipeline.outputs.unlink()
    same = run_step(pipeline, drift_step)
    assert same.returncode == 0, same.stdout
    assert outputs(pipeline)["DATA_DRIFT"] == "false"
    assert f"{descriptor.model.name} v{version} (champion)" in same.stdout
    skipped = run_step(pipeline, train_step, GITHUB_EVENT_NAME="schedule", DATA_DRIFT="false")
    assert skipped.returncode == 0 and "training skipped" in skipped.stdout
    assert outputs(pipeline)["MODEL_VERSION"] == ""
    guarded = run_step(pipeline, step(plan, "model-gate", "Model gate"), MODEL_VERSION="")
    assert guarded.returncode == 0 and "no candidate model" in guarded.stdout
    pushed = run_step(pipeline, train_step, GITHUB_EVENT_NAME="push", DATA_DRIFT="false")
    assert pushed.returncode == 0 and "training skipped" not in pushed.stdout  # a code change retrains

    # Prices went up: monthly_charges drifted, and only it.
    edit_column(tmp_path / "data" / "customers.csv", "monthly_charges", lambda v: str(float(v) + 15))
    pipeline.outputs.unlink()
    moved = run_step(pipeline, drift_step)
    assert moved.returncode == 0, moved.stdout
    assert outputs(pipeline)["DATA_DRIFT"] == "true"
    assert "drifted: monthly_charges;" in moved.stdout

    # A contract length the champion never saw: a schema break, the job fails.
    edit_column(tmp_path / "data" / "customers.csv", "contract_months", lambda v: "36" if v == "24" else v)
    broken = run_step(pipeline, drift_step)
    assert broken.returncode == 1, broken.stdout
    assert "categories:contract_months" in broken.stdout
