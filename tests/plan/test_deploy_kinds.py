"""Deploy kinds in the plan: each kind's checks in TEST, its jobs per environment, the order of
kinds in an environment, approvals only where something changes, and the model's serving image."""
from __future__ import annotations

import shlex

import pytest

from conftest import plan_from_yaml
from pipegen.descriptor.schema import schema
from pipegen.errors import DescriptorError
from pipegen.plan import EnvKind, RunWhen
from pipegen.plan.deploy import KINDS


def words(script: str) -> list[str]:
    """A one-command step as the shell splits it (continuation lines joined)."""
    return shlex.split(script.replace("\\\n", " "))


HEAD = """\
project: {name: infra, requirements: {runtime: requirements.txt}}
targets: [github, gitlab, azure, jenkins]
"""

ALL_KINDS = HEAD + """\
image: {name: svc}
environments:
  qa:
    deploy:
      airflow: {target_var: AIRFLOW_DAGS_QA, rules: {owner: true, retries: 1}}
      terraform: {dir: infra, var_file: qa.tfvars, backend_config: {path: TF_STATE_QA}}
      kubernetes: {manifests: k8s/overlays/qa, namespace: svc-qa}
  prod:
    deploy:
      command: ./announce.sh "$IMAGE_REF"
      terraform: {dir: infra, var_file: prod.tfvars, backend_config: {path: TF_STATE_PROD}, fail_on_destroy: true}
      kubernetes: {manifests: k8s/overlays/prod, namespace: svc, kubeconfig_secret: KUBECONFIG_PROD}
      airflow: {target: gs://composer-prod/dags, rules: {owner: true, retries: 1}}
    approval: {approvers: [platform-team]}
    branch: main
"""


def test_every_kind_has_a_module_and_a_schema_entry() -> None:
    deploy = schema()["$defs"]["environment"]["properties"]["deploy"]["properties"]
    assert list(KINDS) == ["terraform", "kubernetes", "airflow", "command"]  # the deploy order
    assert set(deploy) == set(KINDS)


def test_kinds_bring_checks_to_test_and_deploy_in_order() -> None:
    plan = plan_from_yaml(ALL_KINDS)
    stages = {stage.id: [job.id for job in stage.jobs] for stage in plan.stages}
    assert stages["test"] == ["pipegen-check", "terraform-check", "kubernetes-check", "airflow-check"]
    # QA: PROD's plan is made here, before the approval; each kind waits for the one before it
    assert stages["qa"] == ["build", "terraform-plan-qa", "terraform-apply-qa", "kubernetes-qa", "airflow-qa",
                            "terraform-plan-prod"]
    assert stages["prod"] == ["terraform-apply-prod", "kubernetes-prod", "airflow-prod", "deploy-prod"]
    needs = {job.id: job.needs for job in plan.jobs}
    assert needs["terraform-apply-qa"] == ("terraform-plan-qa",)
    assert needs["kubernetes-qa"][0] == "terraform-apply-qa" and "build" in needs["kubernetes-qa"]
    assert needs["airflow-qa"][0] == "kubernetes-qa"
    assert needs["terraform-apply-prod"] == ("terraform-plan-prod",)
    assert needs["deploy-prod"][0] == "airflow-prod"  # the environment's command runs last


def test_terraform_applies_the_saved_plan_after_the_approval_only() -> None:
    plan = plan_from_yaml(ALL_KINDS)
    plan_prod, apply_prod = plan.job("terraform-plan-prod"), plan.job("terraform-apply-prod")
    # the plan runs on pull requests too (its summary reaches the comment), before any approval
    assert (plan_prod.run_when, plan_prod.approval, plan_prod.environment) == (RunWhen.ALWAYS, None, None)
    assert plan_prod.gate == "terraform"
    assert plan_prod.hands_over == ("pipegen-terraform/prod/tfplan", "pipegen-terraform/prod/tfplan.pipegen.json")
    assert apply_prod.fetches == ("terraform-plan-prod",) and apply_prod.approval is not None
    assert (apply_prod.run_when, apply_prod.branch) == (RunWhen.BRANCH, "main")
    scripts = [step.run for step in apply_prod.steps]
    assert scripts[0] == "pipegen deploy terraform verify --plan pipegen-terraform/prod/tfplan"
    assert scripts[-1] == 'terraform -chdir=infra apply -input=false "$PWD/pipegen-terraform/prod/tfplan"'
    assert "--fail-on-destroy" in plan_prod.steps[-1].run
    assert "--fail-on-destroy" not in plan.job("terraform-plan-qa").steps[-1].run
    assert '-backend-config="path=$TF_STATE_PROD"' in plan_prod.steps[0].run
    assert dict(plan_prod.env)["TF_STATE_PROD"].kind is EnvKind.VARIABLE
    assert plan_prod.runner_tools == ("terraform",)


def test_airflow_checks_with_the_rules_and_syncs_each_target() -> None:
    plan = plan_from_yaml(ALL_KINDS)
    check = plan.job("airflow-check")
    assert check.requirements == ("requirements.txt",) and check.gate == "dags"
    assert words(check.steps[-1].run)[:8] == ["pipegen", "gate", "dags", "--dags", "dags", "--require-owner",
                                              "--min-retries", "1"]
    qa, prod = plan.job("airflow-qa"), plan.job("airflow-prod")
    assert qa.steps[1].run == 'pipegen deploy airflow sync --dags dags --target "$AIRFLOW_DAGS_QA"'
    assert prod.steps[1].run == "pipegen deploy airflow sync --dags dags --target gs://composer-prod/dags"
    assert words(prod.steps[2].run)[3:6] == ["--dags", "gs://composer-prod/dags", "--require-owner"]
    assert prod.runner_tools == ("gcloud",) and qa.runner_tools == ()
    assert dict(qa.env)["AIRFLOW_DAGS_QA"].kind is EnvKind.VARIABLE


def test_kubernetes_renders_by_digest_and_keeps_the_kubeconfig_in_one_step() -> None:
    plan = plan_from_yaml(ALL_KINDS)
    check = plan.job("kubernetes-check")
    assert [step.title for step in check.steps] == ["Render and validate k8s/overlays/qa (qa)",
                                                    "Render and validate k8s/overlays/prod (prod)"]
    assert "pipegen.invalid/svc@sha256:" + "0" * 64 in words(check.steps[0].run)
    prod = plan.job("kubernetes-prod")
    render, apply = prod.steps
    assert " ".join(words(render.run)).endswith("--image svc --image-ref $IMAGE_REF --out pipegen-kubernetes/prod.yaml")
    assert render.reads == ()
    assert words(apply.run)[4:] == ["--manifest", "pipegen-kubernetes/prod.yaml", "--namespace", "svc",
                                    "--timeout", "300", "--kubeconfig-env", "PIPEGEN_KUBECONFIG"]
    assert dict(prod.env)["PIPEGEN_KUBECONFIG"].value == "KUBECONFIG_PROD" and prod.secrets == ("KUBECONFIG_PROD",)
    assert prod.pipegen and "[kubernetes]" in prod.pipegen


def test_the_command_kind_keeps_its_job_id() -> None:
    plan = plan_from_yaml(HEAD + "image: {name: svc}\nenvironments: {qa: {deploy: {command: ./d.sh}}}\n")
    (deploy,) = [job for job in plan.jobs if job.stage == "qa" and job.id != "build"]
    assert deploy.id == "deploy-qa" and deploy.steps[0].run == "./d.sh" and deploy.needs == ("build",)


def test_a_serving_image_follows_the_champion() -> None:
    plan = plan_from_yaml(HEAD + """\
        model: {name: m, train: python -m m.train, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}
        image: {name: svc, serves_model: true}
        environments:
          qa: {deploy: {kubernetes: {manifests: k8s}}}
          prod: {deploy: {kubernetes: {manifests: k8s}}, approval: {approvers: [ops]}}
        """.replace("        ", ""))
    build = plan.job("build")
    image_step = next(step for step in build.steps if step.id == build.output_step)  # after the SBOM's
    assert "train" in build.needs and '--build-arg MODEL_VERSION="$MODEL_VERSION"' in image_step.run
    assert "pipegen model record-image" in image_step.run
    serving = plan.job("serving-image")
    assert serving.stage == "prod" and serving.outputs == ("SERVING_IMAGE_REF",)
    assert set(serving.needs) >= {"promote-model"}
    prod = plan.job("kubernetes-prod")
    assert "serving-image" in prod.needs and "$SERVING_IMAGE_REF" in words(prod.steps[0].run)
    assert "$IMAGE_REF" in words(plan.job("kubernetes-qa").steps[0].run)  # QA runs the candidate's image


@pytest.mark.parametrize(("text", "message"), [
    ("qa: {deploy: {kubernetes: {namespace: x}}}", "give exactly one of manifests"),
    ("qa: {deploy: {kubernetes: {manifests: k8s, values: v.yaml}}}", "kubernetes.values: only for a Helm chart"),
    ("qa: {deploy: {airflow: {dags: dags}}}", "give exactly one of target"),
    ("qa: {deploy: {airflow: {target: /srv/dags}}}\n  prod: {deploy: {airflow: {target: /srv/p, dags: other}}}",
     "environments.prod.deploy.airflow.dags: the DAG folder differs from environments.qa's"),
])
def test_kind_settings_that_cannot_work_are_located(text: str, message: str) -> None:
    with pytest.raises(DescriptorError) as raised:
        plan_from_yaml(HEAD + "environments:\n  " + text + "\n")
    assert any(message in problem.message for problem in raised.value.problems), raised.value
    assert all(problem.line > 2 for problem in raised.value.problems)
