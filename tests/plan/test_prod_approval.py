"""PROD waits for an approval unless the descriptor says it must not: a model with no
`environments` is promoted only after an approval, `environments.prod.approval: false` is the one
way to run PROD without one, and `validate` says when the approval is the default."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import plan_from_yaml
from helpers import run_pipegen
from platforms import jenkins_structure as js
from pipegen.descriptor.model import Approval
from pipegen.generate.render import render_file
from pipegen.platforms.approvals import ANYONE, approvers_of

MODEL_ONLY = """\
project: {name: scorer, python: "3.11"}
targets: [github, gitlab, azure, jenkins]
tests: {unit: tests/unit}
model:
  name: scorer
  train: python train.py
  metrics: {auc: {greater_is_better: true, threshold: 0.7}}
"""


def test_a_model_with_no_environments_is_promoted_only_after_an_approval():
    plan = plan_from_yaml(MODEL_ONLY)
    promote = plan.job("promote-model")
    assert (promote.environment, promote.approval) == ("prod", Approval())
    assert approvers_of(plan) == (("prod", ANYONE),)  # the files declare it (diff and parity read it back)


@pytest.mark.parametrize("prod", ["{deploy: ./deploy.sh}", "{approval: true}", "{approval: {}}"])
def test_prod_asks_for_an_approval_unless_told_otherwise(prod):
    plan = plan_from_yaml(MODEL_ONLY + f"environments:\n  prod: {prod}\n")
    assert all(job.approval == Approval() for job in plan.jobs if job.stage == "prod")


def test_approval_false_runs_prod_without_one():
    plan = plan_from_yaml(MODEL_ONLY + "environments:\n  prod: {approval: false}\n")
    assert plan.job("promote-model").approval is None and approvers_of(plan) == ()


def test_other_environments_ask_only_when_told():
    plan = plan_from_yaml(MODEL_ONLY + textwrap.dedent("""\
        image: {name: scorer}
        environments:
          test: {deploy: ./deploy.sh test}
          qa: {deploy: ./deploy.sh qa, approval: true}
          prod: {deploy: ./deploy.sh prod, approval: {approvers: [ops]}}
    """))
    assert (plan.job("deploy-test").approval, plan.job("deploy-qa").approval) == (None, Approval())
    assert plan.job("deploy-prod").approval == Approval(approvers=("ops",))


def test_every_platform_holds_the_default_approval():
    plan = plan_from_yaml(MODEL_ONLY)
    github = yaml.safe_load(render_file(plan, "github").text)
    assert github["jobs"]["promote-model"]["environment"] == "prod"
    gitlab = yaml.safe_load(render_file(plan, "gitlab").text)
    approve = gitlab["approve-prod"]
    assert (approve["rules"][0]["when"], approve["rules"][0]["allow_failure"]) == ("manual", False)  # blocking
    needs = gitlab["promote-model"]["needs"]
    assert "approve-prod" in {need if isinstance(need, str) else need["job"] for need in needs}
    azure = yaml.safe_load(render_file(plan, "azure").text)
    (promote,) = [job for stage in azure["stages"] for job in stage["jobs"] if job.get("deployment") == "promote_model"]
    assert promote["environment"] == "prod"
    prod = js.read_pipeline(render_file(plan, "jenkins").text).stage("PROD")
    assert prod.input is not None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipegen.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    return path


def test_validate_warns_where_the_approval_is_the_default(tmp_path, capsys):
    path = write(tmp_path, MODEL_ONLY)
    result = run_pipegen(capsys, "validate", "--descriptor", str(path))
    assert result.exit_code == 0 and "OK" in result.out
    (warning,) = result.err.strip().splitlines()
    assert warning.startswith(f"{path}:5:3: warning: environments.prod.approval is not written, so PROD "
                              "(promote-model) waits for an approval")
    assert "approval: false" in warning


@pytest.mark.parametrize("approval", ["false", "{approvers: [ops]}"])
def test_validate_is_quiet_when_the_descriptor_says(tmp_path, capsys, approval):
    path = write(tmp_path, MODEL_ONLY + f"environments:\n  prod: {{approval: {approval}}}\n")
    result = run_pipegen(capsys, "validate", "--descriptor", str(path))
    assert (result.exit_code, result.err) == (0, "")


def test_the_generated_comments_say_after_approval_only_when_there_is_one():
    def comments(plan) -> list[str]:
        return [plan.stage_of("promote-model").comment, plan.job("model-gate").comment]
    assert all("after approval" in text for text in comments(plan_from_yaml(MODEL_ONLY)))
    unapproved = plan_from_yaml(MODEL_ONLY + "environments:\n  prod: {approval: false}\n")
    assert not any("after approval" in text for text in comments(unapproved))
