"""`pipegen run` on plans whose selected jobs need no Python (deployments), so these run in
seconds: approvals, failures and skips, the environment a job sees, events, partial runs,
and the refusals (exit 2) before anything runs."""
from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.errors import UsageError
from pipegen.plan import build_plan
from pipegen.run.runner import RunOptions, prepare
from pipegen.run.selection import Event

from .conftest import job_log, pipegen_run, run_environment, run_on_a_terminal

DEPLOYMENTS = """\
version: 1
project: {name: shipit, python: "3.11"}
targets: [github]
environments:
  qa:
    deploy: echo "qa gets $TARGET_URL with ${DEPLOY_TOKEN:+a token}"
    variables: [TARGET_URL]
    secrets: [DEPLOY_TOKEN]
  prod:
    deploy: echo "prod sees ${DEPLOY_TOKEN:-no token}"
    approval: {approvers: [release-managers]}
    branch: main
"""
DEPLOYMENT_STAGES = ("--stage", "qa", "--stage", "prod")


def project(tmp_path: Path, descriptor: str, files: dict[str, str] | None = None) -> Path:
    """A committed git repository holding `descriptor` as pipegen.yaml."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pipegen.yaml").write_text(textwrap.dedent(descriptor), encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    for args in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                  "commit", "--quiet", "-m", "project"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def env(**extra: str) -> dict[str, str]:
    return run_environment(TARGET_URL="https://qa.example.test", DEPLOY_TOKEN="s3cret", **extra)


def test_without_a_terminal_or_approve_prod_is_refused_and_the_rest_runs(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, env=env())
    assert ran.returncode == 1, ran.explain()
    assert ran.statuses == {"deploy-qa": "passed", "deploy-prod": "refused"}
    assert "prod is not approved: deploy-prod will not run" in ran.stdout
    assert "--approve" in ran.stdout
    assert "qa gets https://qa.example.test with a token" in job_log(root, "deploy-qa")


def test_approve_runs_prod_and_a_job_sees_only_its_own_secrets(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, "--approve", env=env())
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"deploy-qa": "passed", "deploy-prod": "passed"}
    assert "approved with --approve (approvers: release-managers)" in ran.stdout
    assert "prod sees no token" in job_log(root, "deploy-prod")  # DEPLOY_TOKEN belongs to QA
    summary = json.loads((root / ".pipegen" / "run" / "last-run.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 0 and [job["id"] for job in summary["jobs"]] == ["deploy-qa", "deploy-prod"]


def test_approval_is_asked_on_a_terminal(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    code, text = run_on_a_terminal(root, *DEPLOYMENT_STAGES, env=env(), answer=(b"Approve?", b"y\n"))
    assert "prod needs approval (approvers: release-managers) to run deploy-prod. Approve? [y/N]" in text
    assert code == 0, text
    assert "prod sees no token" in job_log(root, "deploy-prod")


def test_a_failed_job_skips_what_needs_it_and_exits_1(tmp_path):
    root = project(tmp_path, DEPLOYMENTS.replace('deploy: echo "qa gets', 'deploy: exit 3; echo "qa gets'))
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, "--approve", env=env())
    assert ran.returncode == 1, ran.explain()
    assert ran.statuses == {"deploy-qa": "failed", "deploy-prod": "skipped"}
    table = ran.stdout[ran.stdout.rindex("job "):].splitlines()
    assert table[1].split()[:3] == ["deploy-qa", "qa", "failed"]
    assert table[2].split()[:3] == ["deploy-prod", "prod", "skipped"]
    assert "exited with 3" in table[1]


def test_pull_requests_run_no_deployment(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, "--event", "pull_request", env=env())
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"deploy-qa": "not run", "deploy-prod": "not run"}


def test_prod_runs_only_from_its_branch(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, "--branch", "feature", "--approve", env=env())
    assert ran.statuses == {"deploy-qa": "passed", "deploy-prod": "not run"}, ran.explain()
    assert "only on branch main" in json.dumps(ran.report)


def test_a_missing_variable_is_reported_before_anything_runs(tmp_path):
    root = project(tmp_path, DEPLOYMENTS)
    environ = env()
    del environ["TARGET_URL"]
    ran = pipegen_run(root, *DEPLOYMENT_STAGES, env=environ)
    assert ran.returncode == 2
    assert "deploy-qa: TARGET_URL, a variable" in ran.stderr
    assert not (root / ".pipegen" / "run" / "logs").exists()


@pytest.mark.parametrize("args, message", [
    (("--stage", "staging"), "--stage staging: this plan's stages are test, qa, prod"),
    (("--job", "deploy"), "--job deploy: this plan's jobs are pipegen-check, deploy-qa, deploy-prod"),
])
def test_unknown_stage_or_job_is_bad_usage(tmp_path, args, message):
    root = project(tmp_path, DEPLOYMENTS)
    ran = pipegen_run(root, *args, env=env())
    assert ran.returncode == 2 and message in ran.stderr, ran.explain()


def test_outside_a_git_repository_is_bad_usage(tmp_path):
    (tmp_path / "pipegen.yaml").write_text(DEPLOYMENTS, encoding="utf-8")
    ran = pipegen_run(tmp_path, env=env())
    assert ran.returncode == 2 and "is not inside a git repository" in ran.stderr, ran.explain()


RELEASE = """\
version: 1
project: {name: shipit, python: "3.11"}
targets: [github]
jobs:
  - name: stamp
    stage: qa
    run: pipegen output set STAMP v1
    outputs: [STAMP]
  - name: announce
    stage: prod
    inputs: [STAMP]
    run: echo "$STAMP"
"""


def test_a_need_outside_the_run_must_have_passed_in_an_earlier_one(tmp_path):
    root = project(tmp_path, RELEASE)
    plan = build_plan(load_descriptor(root / "pipegen.yaml"))
    options = RunOptions(event=Event.PUSH, stages=("prod",))
    with pytest.raises(UsageError, match="announce needs stamp, which is not part of this run and has not run"):
        prepare(plan, root / "pipegen.yaml", options, {})
    state = root / ".pipegen" / "run" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"jobs": {"stamp": {"status": "failed", "outputs": {}}}}), encoding="utf-8")
    with pytest.raises(UsageError, match="which is not part of this run and failed in the last run"):
        prepare(plan, root / "pipegen.yaml", options, {})
    state.write_text(json.dumps({"jobs": {"stamp": {"status": "passed", "outputs": {"STAMP": "v1"},
                                                    "commit": "0" * 40}}}), encoding="utf-8")
    prepared = prepare(plan, root / "pipegen.yaml", options, {})
    assert [job.id for job in prepared.selection.run] == ["announce"]
    assert any("uses stamp from an earlier run at commit 000000000000" in note for note in prepared.notes)
