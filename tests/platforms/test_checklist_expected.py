"""The set-up checklist as data: each backend writes an item's text and its `expected` values
from the same facts, and `pipegen doctor` compares those values with the platform's settings."""
from __future__ import annotations

from pipegen.generate.checklist import checklist
from pipegen.platforms.base import NOTHING_EXPECTED, Expected


def _items(plan, target: str) -> dict[tuple[str, str], object]:
    return {(item.kind, item.name): item for item in checklist(plan, (target,))[target]}


def test_prod_asks_for_its_approvers_and_release_branch_everywhere(churn_plan) -> None:
    for target in ("github", "azure"):
        prod = _items(churn_plan, target)[("environment", "prod")]
        assert prod.expected == Expected(approval=True, approvers=("release-managers",), branches=("main",))
        assert "release-managers" in prod.detail and "main" in prod.detail
    gitlab = _items(churn_plan, "gitlab")[("environment", "prod")]
    assert gitlab.expected == Expected(approval=True, approvers=("release-managers",), branches=("main",),
                                       protected=True)
    assert "Protect main under Settings > Repository > Protected branches" in gitlab.detail
    jenkins = _items(churn_plan, "jenkins")[("environment", "prod")].expected
    assert (jenkins.approval, jenkins.approvers) == (True, ("release-managers",))


def test_qa_has_no_approval_and_github_keeps_its_deployment_branch(churn_plan) -> None:
    assert _items(churn_plan, "github")[("environment", "qa")].expected == Expected(branches=("main",))
    assert _items(churn_plan, "azure")[("environment", "qa")].expected == NOTHING_EXPECTED
    assert _items(churn_plan, "gitlab")[("environment", "qa")].expected == Expected(protected=True)


def test_gitlab_secrets_say_masked_and_whether_protected(churn_plan) -> None:
    items = _items(churn_plan, "gitlab")
    # sonar also runs in merge request pipelines: protecting SONAR_TOKEN would hide it from them
    assert items[("secret", "SONAR_TOKEN")].expected == Expected(masked=True, protected=None)
    assert items[("secret", "REVIEW_TOKEN")].expected == Expected(masked=True, protected=False)


def test_jenkins_multibranch_job_names_the_branches_it_must_build(churn_plan) -> None:
    assert _items(churn_plan, "jenkins")[("other", "multibranch job")].expected == Expected(branches=("main",))
