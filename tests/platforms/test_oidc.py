"""Short-lived cloud credentials: the jobs that log in (an environment's deploy jobs, the build
job for the registry) and only those can obtain an OIDC token, on each platform in its own way;
the set-up checklist names the trust each cloud needs; `pipegen diff` flags a job that gains a
token or whose token's subject widens."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.diff.changes import pipeline_changes
from pipegen.errors import DescriptorError
from pipegen.platforms import get_backend
from pipegen.platforms import readback as rb
from pipegen.platforms.github.backend import AWS_CREDENTIALS, AZURE_LOGIN, GCP_AUTH
from pipegen.platforms.gitlab.identity import TOKEN_VARIABLE
from pipegen.platforms.readers import read_back

ROLE = "arn:aws:iam::123456789012:role/app-push"
PROVIDER = "projects/123456/locations/global/workloadIdentityPools/ci/providers/github"
ACCOUNT = "deployer@app-qa.iam.gserviceaccount.com"
CLIENT, TENANT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"
DESCRIPTOR = f"""
    version: 1
    project: {{name: app, python: "3.11"}}
    targets: [github, gitlab, azure, jenkins]
    tests: {{unit: tests/unit}}
    image:
      name: app
      identity: {{cloud: aws, role_arn: "{ROLE}", region: eu-west-1}}
    environments:
      qa:
        deploy: ./deploy.sh qa "$IMAGE_REF"
        identity: {{cloud: gcp, workload_identity_provider: {PROVIDER}, service_account: {ACCOUNT}}}
      prod:
        deploy: ./deploy.sh prod "$IMAGE_REF"
        approval: {{approvers: [release-managers]}}
        identity: {{cloud: azure, client_id: {CLIENT}, tenant_id: {TENANT}}}
"""
LOGGING_IN = {"build": "aws", "deploy-qa": "gcp", "deploy-prod": "azure"}


@pytest.fixture(scope="module")
def plan():
    return plan_from_yaml(DESCRIPTOR)


def _render(plan, target: str) -> str:
    return get_backend(target).render(plan)


def test_github_grants_id_token_only_to_the_jobs_that_log_in(plan):
    workflow = yaml.safe_load(_render(plan, "github"))
    assert "id-token" not in (workflow.get("permissions") or {})
    granted = {job_id for job_id, job in workflow["jobs"].items() if (job.get("permissions") or {}).get("id-token")}
    assert granted == set(LOGGING_IN)
    for job_id, job in workflow["jobs"].items():
        if job_id in granted:
            assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_github_logs_in_with_the_official_actions_pinned_by_sha_after_the_install(plan):
    jobs = yaml.safe_load(_render(plan, "github"))["jobs"]
    expected = {"build": (AWS_CREDENTIALS, {"role-to-assume": ROLE, "aws-region": "eu-west-1"}),
                "deploy-qa": (GCP_AUTH, {"workload_identity_provider": PROVIDER, "service_account": ACCOUNT}),
                "deploy-prod": (AZURE_LOGIN, {"client-id": CLIENT, "tenant-id": TENANT,
                                              "allow-no-subscriptions": True})}
    for job_id, (action, inputs) in expected.items():
        uses = [step.get("uses", "") for step in jobs[job_id]["steps"]]
        login = uses.index(f"{action.repository}@{action.sha}")
        assert len(action.sha) == 40
        assert jobs[job_id]["steps"][login]["with"] == inputs
        # after the install step, before the job's own steps
        names = [step.get("name", "") for step in jobs[job_id]["steps"]]
        if "Install dependencies" in names:
            assert names.index("Install dependencies") < login
        assert login < max(index for index, step in enumerate(jobs[job_id]["steps"]) if "run" in step)


def test_github_jobs_that_log_in_name_their_environment_so_the_token_subject_is_it(plan):
    jobs = yaml.safe_load(_render(plan, "github"))["jobs"]
    assert jobs["deploy-prod"]["environment"] == "prod" and jobs["deploy-qa"]["environment"] == "qa"


def test_gitlab_gives_id_tokens_with_the_audience_to_those_jobs_only(plan):
    pipeline = yaml.safe_load(_render(plan, "gitlab"))
    with_tokens = {key: job["id_tokens"] for key, job in pipeline.items()
                   if isinstance(job, dict) and "id_tokens" in job}
    assert with_tokens == {
        "build": {TOKEN_VARIABLE: {"aud": "sts.amazonaws.com"}},
        "deploy-qa": {TOKEN_VARIABLE: {"aud": f"https://iam.googleapis.com/{PROVIDER}"}},
        "deploy-prod": {TOKEN_VARIABLE: {"aud": "api://AzureADTokenExchange"}},
    }


def _run_login(script: str, tmp_path: Path) -> dict[str, str]:
    """Run the job's first script entry as GitLab would (same shell as the steps after it) and
    return the environment the next step sees."""
    env = {"PATH": os.environ["PATH"], TOKEN_VARIABLE: "header.payload.signature", "CI_JOB_ID": "42",
           "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", "-c", script + "\nenv -0"], env=env, capture_output=True, check=True)
    return dict(line.split("=", 1) for line in result.stdout.decode().split("\0") if "=" in line)


def test_gitlab_login_hands_the_token_to_the_aws_sdk_through_a_file(plan, tmp_path):
    script = yaml.safe_load(_render(plan, "gitlab"))["build"]["script"][0]
    env = _run_login(script, tmp_path)
    assert env["AWS_ROLE_ARN"] == ROLE and env["AWS_REGION"] == "eu-west-1"
    assert Path(env["AWS_WEB_IDENTITY_TOKEN_FILE"]).read_text() == "header.payload.signature"


def test_gitlab_login_writes_googles_external_account_configuration(plan, tmp_path):
    script = yaml.safe_load(_render(plan, "gitlab"))["deploy-qa"]["script"][0]
    env = _run_login(script, tmp_path)
    config = json.loads(Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    assert config["type"] == "external_account" and config["audience"] == f"//iam.googleapis.com/{PROVIDER}"
    assert Path(config["credential_source"]["file"]).read_text() == "header.payload.signature"
    assert config["service_account_impersonation_url"].endswith(f"/serviceAccounts/{ACCOUNT}:generateAccessToken")


def test_gitlab_login_points_the_azure_sdk_at_the_token(plan, tmp_path):
    script = yaml.safe_load(_render(plan, "gitlab"))["deploy-prod"]["script"][0]
    env = _run_login(script, tmp_path)  # no az on PATH here: the SDK's variables only
    assert (env["AZURE_CLIENT_ID"], env["AZURE_TENANT_ID"]) == (CLIENT, TENANT)
    assert Path(env["AZURE_FEDERATED_TOKEN_FILE"]).read_text() == "header.payload.signature"


def test_azure_runs_the_azure_jobs_steps_through_a_workload_identity_service_connection(plan):
    document = yaml.safe_load(_render(plan, "azure"))

    def job_steps(job: dict) -> list:
        deploy = job.get("strategy", {}).get("runOnce", {}).get("deploy", {})
        return deploy.get("steps") or job.get("steps") or []
    steps = {job.get("deployment") or job.get("job"): job_steps(job)
             for stage in document["stages"] for job in stage["jobs"]}
    cli = {job: [step["inputs"]["azureSubscription"] for step in found if step.get("task") == "AzureCLI@2"]
           for job, found in steps.items()}
    assert {job: names for job, names in cli.items() if names} == {"deploy_prod": ["pipegen-prod"]}
    checklist = [item.name for item in get_backend("azure").checklist(plan)]
    assert "service connection pipegen-prod" in checklist
    assert {"aws credentials for build", "gcp credentials for deploy-qa"} <= set(checklist)


def test_checklists_name_the_trust_each_cloud_needs(plan):
    github = {item.name: item.detail for item in get_backend("github").checklist(plan)}
    prod = github[f"OIDC trust: Entra ID application {CLIENT} (tenant {TENANT})"]
    assert "https://token.actions.githubusercontent.com" in prod and "repo:OWNER/REPO:environment:prod" in prod
    assert "repo:OWNER/REPO:ref:refs/heads/main" in github[f"OIDC trust: IAM role {ROLE}"]
    gitlab = {item.name: item.detail for item in get_backend("gitlab").checklist(plan)}
    assert "ref:main with claims environment=prod and environment_protected=true" in \
        gitlab[f"OIDC trust: Entra ID application {CLIENT} (tenant {TENANT})"]
    jenkins = [item.name for item in get_backend("jenkins").checklist(plan)]
    assert f"cloud credentials: IAM role {ROLE}" in jenkins


def test_readers_report_who_can_request_a_token(plan):
    release, protected = rb.release_branch(plan), frozenset({"prod"})
    for target in ("github", "gitlab"):
        view = read_back(target, _render(plan, target), release, protected)
        assert {job: set(found.oidc) for job, found in view.jobs.items() if found.oidc} == \
            {job: {cloud} for job, cloud in LOGGING_IN.items()}, target
    azure = read_back("azure", _render(plan, "azure"), release, protected)
    assert {job for job, found in azure.jobs.items() if found.oidc} == {"deploy-prod"}


def _github_views(plan, edit) -> tuple[rb.PipelineView, rb.PipelineView]:
    text = _render(plan, "github")
    workflow = yaml.safe_load(text)
    edit(workflow["jobs"])
    release = rb.release_branch(plan)
    return (read_back("github", text, release, frozenset({"prod"})),
            read_back("github", yaml.safe_dump(workflow, sort_keys=False), release, frozenset({"prod"})))


def test_diff_flags_a_job_that_gains_an_id_token(plan):
    def grant(jobs):
        jobs["unit"]["permissions"]["id-token"] = "write"
    risky = [change.text for change in pipeline_changes(*_github_views(plan, grant)) if change.risky]
    assert "unit can now request an OIDC token (id-token)" in risky


def test_diff_flags_a_token_subject_widened_from_the_environment_to_the_branch(plan):
    def drop_environment(jobs):
        del jobs["deploy-qa"]["environment"]
    risky = [change.text for change in pipeline_changes(*_github_views(plan, drop_environment)) if change.risky]
    assert "deploy-qa's OIDC token subject widened: environment qa → any run of the branch" in risky


@pytest.mark.parametrize("identity, message", [
    ("{cloud: aws, region: eu-west-1}", "environments.qa.identity: cloud aws needs role_arn"),
    (f"{{cloud: azure, client_id: {CLIENT}, tenant_id: {TENANT}, region: eu-west-1}}",
     "environments.qa.identity.region: not used by cloud azure"),
    ("{cloud: aws, role_arn: 'arn:aws:iam::12:role/x', region: eu-west-1}", "arn:aws:iam::123456789012:role/NAME"),
])
def test_an_identity_missing_or_mixing_fields_is_refused_with_its_place(identity, message):
    text = textwrap.dedent(f"""
        version: 1
        project: {{name: app}}
        targets: [github]
        tests: {{unit: tests/unit}}
        environments:
          qa: {{deploy: ./deploy.sh, identity: {identity}}}
    """)
    with pytest.raises(DescriptorError) as raised:
        plan_from_yaml(text)
    assert any(message in problem.message and problem.line == 7 for problem in raised.value.problems), \
        [str(problem) for problem in raised.value.problems]


def test_an_image_identity_replaces_the_stored_registry_password():
    with pytest.raises(DescriptorError, match="drop username_secret and password_secret"):
        plan_from_yaml(f"""
            version: 1
            project: {{name: app}}
            targets: [github]
            tests: {{unit: tests/unit}}
            image: {{name: app, username_secret: U, password_secret: P, identity: {{cloud: aws, role_arn: "{ROLE}",
                     region: eu-west-1}}}}
            environments: {{qa: {{deploy: ./deploy.sh}}}}
        """)


PROVENANCE = """
    version: 1
    project: {name: app}
    targets: [github, gitlab, azure, jenkins]
    tests: {unit: tests/unit}
    image: {name: app, provenance: true}
    environments:
      qa: {deploy: ./deploy.sh qa "$IMAGE_REF"}
      prod: {deploy: ./deploy.sh prod "$IMAGE_REF", approval: {approvers: [ops]}}
"""


def test_github_attests_on_the_build_job_and_prod_verifies_before_it_deploys():
    plan = plan_from_yaml(PROVENANCE)
    jobs = yaml.safe_load(_render(plan, "github"))["jobs"]
    with_token = {job_id: job["permissions"] for job_id, job in jobs.items()
                  if "id-token" in (job.get("permissions") or {}) or "attestations" in (job.get("permissions") or {})}
    assert with_token == {"build": {"contents": "read", "attestations": "write", "id-token": "write"},
                          "deploy-prod": {"contents": "read", "attestations": "read"}}
    build = [step.get("uses", "").split("@")[0] or step["name"] for step in jobs["build"]["steps"]]
    built = build.index("Build, push, record what the image contains, publish the digest")
    assert build.index("actions/attest-build-provenance") > built
    prod = [step["name"] for step in jobs["deploy-prod"]["steps"]]
    assert prod.index("Verify the image's build provenance before deploying it") < prod.index("Deploy to PROD")
    assert "gh attestation verify" not in str(jobs["deploy-qa"])  # QA deploys what it built, PROD verifies
    view = read_back("github", _render(plan, "github"), rb.release_branch(plan), frozenset({"prod"}))
    assert (view.jobs["build"].attests, view.jobs["deploy-prod"].verifies) == (True, True)
    assert not view.jobs["build"].oidc  # the attestation's token signs, it logs in nowhere


def test_diff_flags_prod_no_longer_verifying_the_provenance():
    plan = plan_from_yaml(PROVENANCE)

    def skip_verification(jobs):
        jobs["deploy-prod"]["steps"] = [step for step in jobs["deploy-prod"]["steps"]
                                        if "gh attestation verify" not in step.get("run", "")]
    risky = [change.text for change in pipeline_changes(*_github_views(plan, skip_verification)) if change.risky]
    assert "deploy-prod no longer verifies the image's provenance before deploying" in risky
