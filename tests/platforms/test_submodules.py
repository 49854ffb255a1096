"""A repository with git submodules: the descriptor knows it (from .gitmodules, or `project.submodules`),
and every job of every platform checks the submodules out, recursively, read back from the generated
files (GitHub's checkout input, GitLab's GIT_SUBMODULE_STRATEGY, Azure's checkout step, Jenkins' checkout
with the submodule extension); the set-up checklist says what credentials private submodules need."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from pipegen.descriptor.loader import load_descriptor
from pipegen.generate.checklist import checklist
from pipegen.plan import Plan, build_plan
from pipegen.platforms import get_backend, parity
from pipegen.platforms import readback as rb
from pipegen.platforms.jenkins import structure as js
from pipegen.platforms.readers import read_back

TARGETS = ("github", "gitlab", "azure", "jenkins")
DESCRIPTOR = """\
project: {name: rates%s}
targets: [github, gitlab, azure, jenkins]
tests: {unit: tests}
quality: {coverage: {min: 80}}
report: {comment: true, host: github, token_secret: REPORT_TOKEN}
environments:
  prod: {deploy: ./deploy.sh, approval: {approvers: [ops]}}
"""
GITMODULES = '[submodule "tests/data"]\n\tpath = tests/data\n\turl = ../rates-data.git\n'


def repository(tmp_path: Path, gitmodules: str | None = GITMODULES, submodules: str = "") -> Path:
    """A git repository holding the descriptor (`submodules`: what project says of them) and `gitmodules`."""
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "pipegen.yaml").write_text(DESCRIPTOR % submodules, encoding="utf-8")
    if gitmodules is not None:
        (tmp_path / ".gitmodules").write_text(gitmodules, encoding="utf-8")
    return tmp_path


def plan_in(root: Path) -> Plan:
    return build_plan(load_descriptor(root / "pipegen.yaml"))


def read(plan: Plan, target: str) -> rb.PipelineView:
    protected = frozenset(name for name, approval in plan.environments if approval)
    return read_back(target, get_backend(target).render(plan), rb.release_branch(plan), protected)


@pytest.mark.parametrize("gitmodules, submodules, expected", [
    (GITMODULES, "", True),  # found in .gitmodules when the descriptor is read
    (GITMODULES, ", submodules: false", False),  # switched off
    (None, "", False),
    (None, ", submodules: true", True),
    ("# no submodule left\n", "", False),
])
def test_the_plan_knows_the_repository_has_submodules(tmp_path, gitmodules, submodules, expected) -> None:
    assert plan_in(repository(tmp_path, gitmodules, submodules)).submodules is expected


def test_the_descriptor_is_found_below_the_repository_root(tmp_path) -> None:
    root = repository(tmp_path)
    (root / "service").mkdir()
    (root / "pipegen.yaml").rename(root / "service" / "pipegen.yaml")
    assert build_plan(load_descriptor(root / "service" / "pipegen.yaml")).submodules


@pytest.mark.parametrize("target", TARGETS)
def test_every_job_checks_the_submodules_out_recursively(tmp_path, target) -> None:
    plan = plan_in(repository(tmp_path))
    view = read(plan, target)
    assert {job: found.submodules for job, found in view.jobs.items()} == \
        {job.id: rb.SUBMODULES_RECURSIVE for job in plan.jobs}
    assert parity.compare(rb.from_plan(plan), view) == []


@pytest.mark.parametrize("target", TARGETS)
def test_without_submodules_no_checkout_fetches_any(tmp_path, target) -> None:
    plan = plan_in(repository(tmp_path, submodules=", submodules: false"))
    assert {found.submodules for found in read(plan, target).jobs.values()} == {None}


def test_github_fetches_them_in_the_checkout_without_keeping_credentials(tmp_path) -> None:
    workflow = yaml.safe_load(get_backend("github").render(plan_in(repository(tmp_path))))
    for job in workflow["jobs"].values():
        (checkout,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@")]
        assert checkout["with"]["submodules"] == "recursive"
        assert checkout["with"]["persist-credentials"] is False


def test_gitlab_sets_the_submodule_strategy_for_every_job(tmp_path) -> None:
    document = yaml.safe_load(get_backend("gitlab").render(plan_in(repository(tmp_path))))
    assert {key: document["variables"][key] for key in
            ("GIT_SUBMODULE_STRATEGY", "GIT_SUBMODULE_DEPTH", "GIT_SUBMODULE_FORCE_HTTPS")} == \
        {"GIT_SUBMODULE_STRATEGY": "recursive", "GIT_SUBMODULE_DEPTH": "1", "GIT_SUBMODULE_FORCE_HTTPS": "true"}


def test_azure_checks_out_self_with_the_submodules(tmp_path) -> None:
    document = yaml.safe_load(get_backend("azure").render(plan_in(repository(tmp_path))))
    checkouts = [step for stage in document["stages"] for job in stage["jobs"]
                 for step in job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"] if "checkout" in step]
    assert checkouts and all(step == {"checkout": "self", "fetchDepth": step["fetchDepth"], "submodules": "recursive",
                                      "persistCredentials": "false"} for step in checkouts)


def test_jenkins_stages_check_out_with_the_submodule_extension_and_the_parents_credentials(tmp_path) -> None:
    pipeline = js.read_pipeline(get_backend("jenkins").render(plan_in(repository(tmp_path))))
    assert "skipDefaultCheckout" in [option.name for option in pipeline.options]
    (helper,) = [method for method in pipeline.methods if method.name == "checkoutWithSubmodules"]
    (extension,) = [call for call in helper.invocations if call.name == "submodule"]
    assert extension.kwargs == {"recursiveSubmodules": True, "parentCredentials": True}
    leaves = [leaf for stage in pipeline.stages for leaf in stage.leaves()]
    assert leaves and all(isinstance(leaf.steps[0], js.Call) and leaf.steps[0].name == "checkoutWithSubmodules"
                          for leaf in leaves)


def test_a_job_left_without_its_submodules_fails_parity(tmp_path) -> None:
    plan = plan_in(repository(tmp_path))
    text = get_backend("github").render(plan)
    unit = text.index("\n  unit:\n")
    text = text[:unit] + text[unit:].replace("          submodules: recursive\n", "", 1)
    view = read_back("github", text, rb.release_branch(plan))
    assert parity.compare(rb.from_plan(plan), view) == ["unit.submodules: plan 'recursive', file None"]


@pytest.mark.parametrize("target, says", [
    ("github", "GITHUB_TOKEN"),
    ("gitlab", "Job token permissions"),
    ("azure", "Build Service"),
    ("jenkins", "branch source's own credentials"),
])
def test_the_checklist_says_what_credentials_private_submodules_need(tmp_path, target, says) -> None:
    items = checklist(plan_in(repository(tmp_path)), (target,))[target]
    (item,) = [item for item in items if item.name == "git submodules"]
    assert says in item.detail
    unrelated = plan_in(repository(tmp_path / "plain", gitmodules=None))
    assert "git submodules" not in [item.name for item in checklist(unrelated, (target,))[target]]


def test_an_example_without_gitmodules_is_unchanged() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    assert not build_plan(load_descriptor(examples / "churn" / "pipegen.yaml")).submodules
