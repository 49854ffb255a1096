"""What `pipegen diff` says about approvals, per platform, from files generated before and after
a descriptor change (read back through each platform's reader). GitHub and Azure keep reviewers
in the platform's settings: their files say which environments ask for an approval, so losing
one is visible there too."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipegen.platforms import get_backend
from pipegen.descriptor.loader import parse_descriptor
from pipegen.diff import compare
from pipegen.diff.compare import compare_files
from pipegen.plan import Plan, build_plan

TARGETS = ("github", "gitlab", "azure", "jenkins")
DESCRIPTOR = """
project: {name: p}
targets: [github, gitlab, azure, jenkins]
tests: {unit: tests}
model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}
image: {name: app}
environments:
  qa: {deploy: ./deploy.sh qa}
  prod: {deploy: ./deploy.sh prod, approval: {approvers: [release-managers]}, branch: main}
"""


def plan_of(text: str) -> Plan:
    return build_plan(parse_descriptor(textwrap.dedent(text), Path("pipegen.yaml")))


def said(target: str, before: str, after: str) -> dict[str, bool]:
    """change text -> risky, for `target`'s file generated from each descriptor."""
    old = {target: get_backend(target).render(plan_of(before))}
    new = {target: get_backend(target).render(plan_of(after))}
    return {change.text: change.risky for change in compare_files(old, new, "main")[target]}


WITHOUT_APPROVAL = DESCRIPTOR.replace("approval: {approvers: [release-managers]}", "approval: false")


@pytest.mark.parametrize("target", TARGETS)
def test_prod_losing_its_approval_is_said_on_every_platform(target: str) -> None:
    changes = said(target, DESCRIPTOR, WITHOUT_APPROVAL)
    assert changes.get("PROD lost its approval") is True, changes
    # said once for the stage, not per job
    assert not any(text.endswith("lost its approval") and text != "PROD lost its approval" for text in changes)


@pytest.mark.parametrize("target", TARGETS)
def test_the_pull_request_report_never_waited_for_prod_s_approval(target: str) -> None:
    # The report job runs after every job, but on pull requests only, where PROD never runs: PROD
    # losing its approval is one change, not also REPORT's.
    report = "report: {comment: true, host: github, token_secret: REVIEW_TOKEN}\n"
    changes = said(target, DESCRIPTOR + report, WITHOUT_APPROVAL + report)
    assert changes == {"PROD lost its approval": True}, changes


@pytest.mark.parametrize("target", TARGETS)
def test_prod_gaining_an_approval_is_not_risky(target: str) -> None:
    changes = said(target, WITHOUT_APPROVAL, DESCRIPTOR)
    assert changes.get("promote-model now waits for an approval") is False, changes
    assert not any(changes.values()), changes


@pytest.mark.parametrize("target", ["github", "azure", "jenkins"])
def test_other_approvers_are_risky(target: str) -> None:
    changes = said(target, DESCRIPTOR, DESCRIPTOR.replace("[release-managers]", "[ops, dev]"))
    assert changes == {"PROD approvers release-managers → ops, dev": True}


@pytest.mark.parametrize("target", ["github", "azure", "jenkins"])
def test_an_approval_anyone_may_give_is_said_so(target: str) -> None:
    changes = said(target, DESCRIPTOR, DESCRIPTOR.replace("approval: {approvers: [release-managers]}", "approval: {}"))
    assert changes == {"PROD approvers release-managers → anyone the environment allows": True}


def test_gitlab_approvers_live_in_the_protected_environment_settings() -> None:
    # The manual job's comment names them, but who may run it is configured in GitLab.
    assert said("gitlab", DESCRIPTOR, DESCRIPTOR.replace("[release-managers]", "[ops]")) == {}


@pytest.mark.parametrize("target", ["github", "azure"])
def test_a_file_from_before_approvals_were_declared_reads_as_protected_prod(target: str) -> None:
    text = get_backend(target).render(plan_of(DESCRIPTOR))
    body = text.split("\n\n", 1)[1]  # without the approvals block
    assert compare_files({target: body}, {target: text}, "main")[target] == []


def test_cancelling_release_runs_is_risky() -> None:
    text = get_backend("github").render(plan_of(DESCRIPTOR))
    old = "cancel-in-progress: ${{ github.event_name == 'pull_request' }}"
    assert old in text
    changes = compare_files({"github": text}, {"github": text.replace(old, "cancel-in-progress: true")}, "main")
    said_ = {change.text: change.risky for change in changes["github"]}
    assert said_ == {"superseded runs of pushes to the release branch, manual runs of "
                     "the release branch, manual runs of other branches are now cancelled": True}


def test_azure_secret_reaching_another_step_is_risky() -> None:
    sonar = "tests: {unit: tests}\nquality: {sonar: {project_key: p}}"
    plan = plan_of(DESCRIPTOR.replace("tests: {unit: tests}", sonar))
    text = get_backend("azure").render(plan)
    step = "            displayName: Prepare the report folder\n"
    start = text.index("- job: sonar")
    at = text.index(step, start) + len(step)
    edited = text[:at] + "            env:\n              SONAR_TOKEN: $(SONAR_TOKEN)\n" + text[at:]
    found = compare_files({"azure": text}, {"azure": edited}, "main")["azure"]
    changes = {change.text: change.risky for change in found}
    assert changes == {"SONAR_TOKEN is now readable by step 'Prepare the report folder' of job sonar": True}


@pytest.mark.parametrize("descriptor, release", [
    ("environments:\n  prod:\n    branch: release\ntriggers:\n  branches: [main]\n", "release"),
    ("triggers:\n  branches: ['release/*', stable]\n", "stable"),
    ("project: {name: x}\n", "main"),
    ("environments: [not, a, mapping]\ntriggers: {branches: 3}\n", "main"),
    ("key: [unclosed\n", "main"),
    (None, "main"),
])
def test_the_release_branch_is_read_from_the_working_trees_descriptor(tmp_path, descriptor, release) -> None:
    if descriptor is not None:
        (tmp_path / "pipegen.yaml").write_text(descriptor, encoding="utf-8")
    assert compare.release_branch(tmp_path) == release
