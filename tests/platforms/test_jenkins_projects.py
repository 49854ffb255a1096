"""Jenkins with several projects: the generated Jenkinsfile parsed, each project's stage run only when the build's
changeset holds one of the project's paths (every project on the schedule, a manual build, and when the changeset
is unknown), decided before an agent is taken, after `pipegen-check`'s checkout recorded the changeset, with its
steps in the project's folder and its reports kept at their paths from the root."""
from __future__ import annotations

from pathlib import Path

import pytest

from jenkins_structure import Call, Ref, Stage, read_pipeline, sh_calls
from pipegen.plan import Plan
from pipegen.platforms.jenkins.backend import JenkinsBackend
from pipegen.platforms.jenkins.reader import post_jobs
from projects_descriptor import REPORTED, projects_plan


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return projects_plan(tmp_path_factory.mktemp("projects"), REPORTED)


@pytest.fixture(scope="module")
def leaves(plan: Plan) -> dict[str, tuple[int, Stage]]:
    """Each job's stage, with its position in the order Jenkins starts them (a layer's branches in parallel)."""
    found: dict[str, tuple[int, Stage]] = {}

    def walk(stage: Stage) -> None:
        if stage.steps:
            found[stage.name] = (len(found), stage)
        for child in [*stage.parallel, *stage.stages]:
            walk(child)

    for stage in read_pipeline(JenkinsBackend().render(plan)).stages:
        walk(stage)
    return found


def _call(items: list, name: str) -> Call:
    [found] = [item for item in items if isinstance(item, Call) and item.name == name]
    return found


def test_a_project_stage_runs_when_its_paths_changed_or_the_range_is_unknown(plan: Plan, leaves) -> None:
    paths = dict(plan.project_paths)
    for job in plan.jobs:
        if job.project is None or job.always:
            continue
        _, stage = leaves[job.id]
        assert _call(stage.when, "beforeAgent").args == [True], job.id
        conditions = _call(stage.when, "anyOf").body
        patterns = [item.kwargs["pattern"] for item in conditions if item.name == "changeset"]
        assert patterns == [*paths[job.project], "Jenkinsfile"], job.id
        assert all(item.kwargs["caseSensitive"] is True for item in conditions if item.name == "changeset")
        triggers = [item.args[0] if item.args else item.kwargs["cause"] for item in conditions
                    if item.name == "triggeredBy"]
        assert triggers == ["TimerTrigger", "UserIdCause"], job.id
        [unknown] = _call(conditions, "expression").body
        assert (unknown.name, unknown.target) == ("isEmpty", Ref("currentBuild.changeSets")), job.id


def test_project_stages_start_after_the_checkout_that_records_the_changeset(plan: Plan, leaves) -> None:
    first, check = leaves["pipegen-check"]
    assert first == 0 and not any(isinstance(item, Call) and item.name == "anyOf" for item in check.when)
    assert "changes" not in leaves  # Jenkins selects natively: no `pipegen changes` stage
    assert all(leaves[job.id][0] > first for job in plan.jobs if job.project and not job.always)


def test_project_steps_run_in_its_folder_and_reports_are_kept_from_the_root(plan: Plan, leaves) -> None:
    for job in plan.jobs:
        if job.project is None or job.always:
            continue
        _, stage = leaves[job.id]
        [folder] = [call for call in _calls(stage.steps) if call.name == "dir"]  # (in the model's catchError)
        assert folder.args == [job.folder], job.id
        assert [call.label for call in sh_calls(stage)] == [call.label for call in sh_calls(Stage(
            "inside", steps=folder.body))], job.id  # every sh step is inside dir()
        venv = f"python{plan.python_of(job)} -m venv"
        assert any(venv in call.script for call in sh_calls(stage)) is job.python, job.id
        if job.junit:
            junit = _call(stage.post["always"], "junit")
            assert junit.kwargs["testResults"] == ", ".join(job.at_root(path) for path in job.junit), job.id
        if "pipegen-reports" in job.artifacts:
            stash = _call(stage.post["always"], "stash")
            assert stash.kwargs["includes"] == f"{job.folder}/pipegen-reports/**", job.id


def test_each_projects_gate_report_runs_in_its_folder(plan: Plan) -> None:
    pipeline = read_pipeline(JenkinsBackend().render(plan))
    reports = {leaf.name: leaf for leaf, _ in post_jobs(pipeline)}
    assert set(reports) == {job.id for job in plan.jobs if job.always}
    for name, leaf in reports.items():
        assert any(call.name == "dir" and call.args == [plan.job(name).folder] for call in _calls(leaf.steps)), name


def _calls(items: list):
    for item in items or []:
        if isinstance(item, Call):
            yield item
            yield from _calls(item.body)


def test_the_committed_monorepo_example_works_in_every_projects_folder() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "monorepo"
    pipeline = read_pipeline((root / "Jenkinsfile").read_text(encoding="utf-8"))
    found: list[Stage] = []

    def walk(stage: Stage) -> None:
        found.extend([stage] if stage.steps else [])
        for child in [*stage.parallel, *stage.stages]:
            walk(child)

    for stage in pipeline.stages:
        walk(stage)
    folders = {call.args[0] for stage in found for call in _calls(stage.steps) if call.name == "dir"}
    assert folders == {"libs/features", "models/churn", "models/fraud", "services/scoring"}
