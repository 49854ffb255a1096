"""Which jobs an event and branch run, read from the churn plan as the CI would decide."""
from __future__ import annotations

import pytest

from conftest import plan_from_yaml
from pipegen.errors import UsageError
from pipegen.run.selection import Event, select, trigger_notes

TEST_JOBS = ["pipegen-check", "lint", "unit", "integration", "sonar", "functional"]


def ids(jobs) -> list[str]:
    return [job.id for job in jobs]


def test_push_to_main_runs_everything(churn_plan):
    selection = select(churn_plan, Event.PUSH, "main")
    assert ids(selection.run) == [job_id for job_id in ids(churn_plan.jobs) if job_id != "report-comment"]
    # the gate report comments on a pull request: a push has none
    assert [(job.id, why) for job, why in selection.not_for_event] == [("report-comment", "only on pull requests")]
    assert not selection.left_out


def test_pull_request_runs_the_tests_and_the_drift_report_only(churn_plan):
    # pull requests never train: their code would write into the production registry; the
    # drift gate only reads (the champion's snapshot and the data the change brings)
    selection = select(churn_plan, Event.PULL_REQUEST, "feature")
    assert set(ids(selection.run)) == {*TEST_JOBS, "drift", "report-comment"}
    assert ids(selection.run)[-1] == "report-comment"  # last: it collects every gate's report
    reasons = {job.id: why for job, why in selection.not_for_event}
    assert reasons == {job: "not on pull requests" for job in
                       ("train", "model-gate", "build", "deploy-qa", "smoke-qa", "promote-model", "deploy-prod")}


@pytest.mark.parametrize("event", [Event.PUSH, Event.SCHEDULE, Event.MANUAL])
def test_prod_runs_from_its_branch_only(churn_plan, event):
    selection = select(churn_plan, event, "release")
    assert {job.id: why for job, why in selection.not_for_event} == {
        "promote-model": "only on branch main", "deploy-prod": "only on branch main",
        "report-comment": "only on pull requests"}
    assert "deploy-qa" in ids(selection.run)


def test_stage_and_job_add_up(churn_plan):
    selection = select(churn_plan, Event.PUSH, "main", stages=("prod",), job_ids=("train",))
    assert ids(selection.run) == ["train", "promote-model", "deploy-prod"]
    assert "unit" in ids(selection.left_out)


def test_unknown_names_are_usage_errors(churn_plan):
    with pytest.raises(UsageError, match="--stage staging: this plan's stages are test, qa, prod"):
        select(churn_plan, Event.PUSH, "main", stages=("staging",))
    with pytest.raises(UsageError, match="--job deploy: this plan's jobs are pipegen-check, lint"):
        select(churn_plan, Event.PUSH, "main", job_ids=("deploy",))


def test_notes_say_when_the_ci_would_not_start_at_all(churn_plan, minimal_plan):
    assert trigger_notes(churn_plan, Event.PUSH, "main") == []
    assert "a push to feature does not start the pipeline on CI" in trigger_notes(churn_plan, Event.PUSH,
                                                                                  "feature")[0]
    assert trigger_notes(churn_plan, Event.SCHEDULE, "main") == []
    assert "no schedule" in trigger_notes(minimal_plan, Event.SCHEDULE, "main")[0]


def test_the_gate_report_runs_on_pull_requests_only():
    plan = plan_from_yaml(REPORT_DESCRIPTOR)
    on_pr = select(plan, Event.PULL_REQUEST, "feature")
    assert ids(on_pr.run)[-1] == "report-comment"
    on_push = select(plan, Event.PUSH, "main")
    assert {job.id: why for job, why in on_push.not_for_event} == {"report-comment": "only on pull requests"}


REPORT_DESCRIPTOR = """\
project: {name: demo}
targets: [github]
tests: {unit: tests/unit}
report: {comment: true}
"""
