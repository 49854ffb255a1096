"""settings.doctor: the pipegen-check job runs `pipegen doctor` on the release branch with the
token secret the descriptor names; off by default (the examples' pipelines do not change)."""
from __future__ import annotations

import yaml

from conftest import CHURN, plan_from_yaml
from pipegen.generate.checklist import checklist
from pipegen.generate.render import render_file
from pipegen.plan.model import EnvKind

ON = CHURN.read_text(encoding="utf-8").replace("targets:", "settings:\n  doctor: {token_secret: DOCTOR_TOKEN}\n"
                                               "targets:", 1)


def test_off_by_default(churn_plan) -> None:
    check = churn_plan.job("pipegen-check")
    assert not any("pipegen doctor" in step.run for step in check.steps)
    assert "DOCTOR_TOKEN" not in churn_plan.secrets


def test_on_the_check_job_runs_doctor_with_its_secret_on_the_release_branch() -> None:
    plan = plan_from_yaml(ON)
    check = plan.job("pipegen-check")
    doctor = [step for step in check.steps if "pipegen doctor" in step.run]
    assert len(doctor) == 1
    assert doctor[0].run.split() == ["pipegen", "doctor", "--descriptor", "pipegen.yaml", "--in-ci",
                                     "--release-branch", "main", "--token-env", "DOCTOR_TOKEN"]
    assert doctor[0].reads == ("DOCTOR_TOKEN",)
    assert dict(check.env)["DOCTOR_TOKEN"].kind is EnvKind.SECRET
    assert [step.reads for step in check.steps if step is not doctor[0]] == [(), ()]  # no other step sees it
    items = checklist(plan, ("github", "gitlab", "azure", "jenkins"))
    assert all(("secret", "DOCTOR_TOKEN") in {(item.kind, item.name) for item in items[target]}
               for target in ("github", "gitlab", "azure"))
    assert ("credentials", "doctor-token") in {(item.kind, item.name) for item in items["jenkins"]}


def test_on_github_only_the_doctor_step_gets_the_secret() -> None:
    workflow = yaml.safe_load(render_file(plan_from_yaml(ON), "github").text)
    steps = workflow["jobs"]["pipegen-check"]["steps"]
    with_secret = [step["name"] for step in steps if "DOCTOR_TOKEN" in (step.get("env") or {})]
    assert with_secret == ["Platform settings (pipegen doctor, release branch only)"]
    assert "DOCTOR_TOKEN" not in (workflow["jobs"]["pipegen-check"].get("env") or {})
