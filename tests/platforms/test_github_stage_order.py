"""Stage order on GitHub (platforms/github/stage_order.py): wide stages get one stage-barrier job
per stage boundary, small pipelines keep their direct lists, and the reader reads the barrier job
back as stage order, so `pipegen check` and `pipegen diff` see the same plan either way."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.errors import DescriptorError
from pipegen.descriptor.loader import parse_descriptor
from pipegen.platforms import readback as rb
from pipegen.platforms.github import reader, stage_order
from pipegen.platforms.github.backend import GithubBackend
from pipegen.plan import Plan

BACKEND = GithubBackend()
NOTHING_FAILED = "${{ !cancelled() && !failure() }}"


def wide_descriptor(test_jobs: int, qa_jobs: int, prod_jobs: int = 0, branch_only: bool = False) -> str:
    """The minimal project with independent custom jobs in each stage (no needs at all); with
    `branch_only`, PROD is approved and limited to main (its jobs are skipped on pull requests)."""
    lines = ["version: 1", "project: {name: wide}", "targets: [github]", "tests: {unit: tests/unit}"]
    if branch_only:
        lines += ["environments:", "  prod:", "    branch: main"]
    lines.append("jobs:")
    for stage, count in (("test", test_jobs), ("qa", qa_jobs), ("prod", prod_jobs)):
        lines += [line for index in range(count)
                  for line in (f"  - name: {stage}-{index}", f"    stage: {stage}", f"    run: echo {index}")]
    return "\n".join(lines) + "\n"


def workflow_of(plan: Plan) -> dict:
    return yaml.load(BACKEND.render(plan), Loader=yaml.BaseLoader)["jobs"]


@pytest.fixture(scope="module")
def wide_plan() -> Plan:
    return plan_from_yaml(wide_descriptor(30, 30, 5))


@pytest.fixture(scope="module")
def wide(wide_plan: Plan) -> dict:
    return workflow_of(wide_plan)


def test_wide_stage_entry_jobs_need_one_barrier_job_that_needs_the_previous_stage(wide_plan, wide) -> None:
    qa_entries = [job.id for job in wide_plan.jobs if job.stage == "qa"]
    assert qa_entries and all(wide[job_id]["needs"] == ["start_qa"] for job_id in qa_entries)
    # The barrier job waits for every TEST job, as each QA job did before.
    assert wide["start_qa"]["needs"] == list(wide_plan.barrier("qa"))
    assert set(wide["start_qa"]["needs"]) == {job.id for job in wide_plan.jobs if job.stage == "test"}
    # No QA job lists a TEST job itself.
    test_jobs = {job.id for job in wide_plan.jobs if job.stage == "test"}
    assert not any(test_jobs & set(wide[job_id]["needs"]) for job_id in qa_entries)


def test_the_barrier_job_runs_unless_something_before_it_failed_and_does_nothing_else(wide) -> None:
    barrier = wide["start_qa"]
    assert barrier["if"] == NOTHING_FAILED
    assert barrier["permissions"] == {}  # no token at all
    assert barrier["runs-on"] == wide["unit"]["runs-on"]
    assert [set(step) for step in barrier["steps"]] == [{"name", "run"}]  # no checkout, no Python, no install
    assert barrier["steps"][0]["run"].startswith("echo ")
    assert not {"env", "outputs", "environment", "services"} & set(barrier)


def test_small_stages_keep_their_direct_needs(churn_plan, minimal_plan) -> None:
    for plan in (churn_plan, minimal_plan):
        jobs = workflow_of(plan)
        assert not [job_id for job_id in jobs if stage_order.is_barrier_job(job_id)]
        assert all(jobs[job.id].get("needs", []) == list(plan.all_needs(job)) for job in plan.jobs)


def test_a_barrier_job_only_where_it_makes_the_workflow_shorter() -> None:
    # Seven TEST jobs before QA (pipegen-check, unit and five); each QA job would list all seven.
    few = workflow_of(plan_from_yaml(wide_descriptor(5, 3)))
    many = workflow_of(plan_from_yaml(wide_descriptor(5, 4)))
    # 3 jobs x 6 saved lines = 18: not more than the barrier job's 7 + 13 lines; 4 x 6 = 24 is.
    assert "start_qa" not in few and "start_qa" in many


def test_a_qa_job_that_needs_test_jobs_itself_keeps_them() -> None:
    plan = plan_from_yaml(wide_descriptor(30, 30).replace("  - name: qa-0\n    stage: qa\n",
                                                          "  - name: qa-0\n    stage: qa\n    needs: [test-3]\n"))
    jobs = workflow_of(plan)
    assert jobs["qa-0"]["needs"] == ["test-3", "start_qa"]
    assert jobs["qa-1"]["needs"] == ["start_qa"]


def test_jobs_skipped_on_pull_requests_let_the_next_stage_go_through_the_barrier_job() -> None:
    """PROD is main-only: REPORT's jobs would wait for skipped jobs. The barrier job's condition lets
    them go (nothing failed), and the jobs needing it run on pull requests, read back per event."""
    plan = plan_from_yaml(wide_descriptor(2, 30, 30, branch_only=True) + "report: {comment: true}\n")
    text = BACKEND.render(plan)
    view = reader.read(text)
    assert view.jobs["qa-0"].events == rb.from_plan(plan).jobs["qa-0"].events
    assert rb.PULL_REQUEST in view.jobs["report-comment"].events


def test_the_reader_reads_a_barrier_job_as_stage_order(wide_plan, monkeypatch) -> None:
    """The same plan written with a barrier job and with the direct lists reads back the same:
    `pipegen diff` shows nothing, `pipegen check` compares the same jobs."""
    with_barrier = BACKEND.render(wide_plan)
    monkeypatch.setattr(stage_order, "BARRIER_JOB_LINES", 10 ** 9)
    direct = BACKEND.render(wide_plan)
    assert "start_qa" in with_barrier and "start_qa" not in direct
    numbering = rb.Numbering()
    read_with, read_direct = (reader.read(text, numbering=numbering) for text in (with_barrier, direct))
    assert set(read_with.jobs) == {job.id for job in wide_plan.jobs}
    assert read_with == read_direct
    assert read_with.jobs["qa-0"].after == rb.from_plan(wide_plan).jobs["qa-0"].after


def test_no_descriptor_job_can_take_a_barrier_job_id() -> None:
    text = wide_descriptor(1, 1).replace("name: qa-0", "name: start_qa")
    with pytest.raises(DescriptorError, match=r"pipegen.yaml:9:11: .*'start_qa' is not a job name"):
        parse_descriptor(text, Path("pipegen.yaml"))


def test_no_built_in_job_id_looks_like_a_barrier_job(churn_plan) -> None:
    assert not [job.id for job in churn_plan.jobs if stage_order.is_barrier_job(job.id) or "_" in job.id]
