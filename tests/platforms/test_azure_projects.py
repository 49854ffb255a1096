"""Azure Pipelines with several projects: the generated file parsed, each project's jobs and stages gated on the
`changes` job's CHANGED_<PROJECT> output variable through the reference Azure resolves where it is read, never
stopped by a skipped job of an unchanged project, and run in the project's folder."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipegen.plan import Plan
from pipegen.plan.projects import changed_output
from pipegen.platforms.azure.backend import AzureBackend
from projects_descriptor import projects_plan

# dependencies.JOB.outputs['STEP.NAME'] (same stage) or stageDependencies.STAGE.JOB.outputs['STEP.NAME']
JOB_REFERENCE = re.compile(r"eq\((?:stageDependencies\.(\w+)\.(\w+)|dependencies\.(\w+))\.outputs\['(\w+)\.(\w+)'\], "
                           r"'true'\)")
# a stage condition: dependencies.STAGE.outputs['JOB.STEP.NAME']
STAGE_REFERENCE = re.compile(r"eq\(dependencies\.(\w+)\.outputs\['(\w+)\.(\w+)\.(\w+)'\], 'true'\)")


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return projects_plan(tmp_path_factory.mktemp("projects"))


@pytest.fixture(scope="module")
def document(plan: Plan) -> dict:
    return yaml.safe_load(AzureBackend().render(plan))


def _jobs(document: dict) -> dict[str, tuple[dict, dict]]:
    """Azure job name -> (its stage, the job)."""
    return {job.get("job") or job["deployment"]: (stage, job) for stage in document["stages"] for job in stage["jobs"]}


def _steps(job: dict) -> list[dict]:
    return job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]


def _output_step(job: dict, name: str) -> bool:
    """The job has a step named `name` (output variables are addressed by step name)."""
    return any(step.get("name") == name for step in _steps(job))


def test_each_project_job_reads_its_own_change_output_where_azure_resolves_it(plan: Plan, document: dict) -> None:
    jobs = _jobs(document)
    changes_stage, changes = jobs["changes"]
    assert "pipegen changes" in _steps(changes)[-1]["bash"] and _output_step(changes, "changes")
    assert _steps(changes)[0]["fetchDepth"] == "0"  # the range's history
    for job in plan.jobs:
        if job.project is None:
            continue
        stage, azure_job = jobs[job.id.replace("-", "_")]
        condition = azure_job["condition"]
        assert condition.startswith("and(not(failed()), not(canceled()), "), job.id  # a skipped need never stops it
        [(other_stage, other_job, same_stage_job, step, output)] = JOB_REFERENCE.findall(condition)
        assert output == changed_output(job.project) and step == "changes", job.id
        if stage is changes_stage:
            assert same_stage_job == "changes" and "changes" in azure_job["dependsOn"], job.id
        else:  # a later stage, a deployment job too: stageDependencies, its stage depending on the selector's
            assert (other_stage, other_job) == (changes_stage["stage"], "changes"), job.id
            assert changes_stage["stage"] in stage["dependsOn"], job.id


def test_a_stage_of_projects_runs_when_one_of_its_projects_changed(plan: Plan, document: dict) -> None:
    for stage in document["stages"][1:]:
        references = STAGE_REFERENCE.findall(stage["condition"])
        projects = {job.project for plan_stage in plan.stages if plan_stage.title == stage["stage"]
                    for job in plan_stage.jobs}
        assert {output for *_, output in references} == {changed_output(project) for project in projects}
        assert {(source, job, step) for source, job, step, _ in references} == {("TEST", "changes", "changes")}
        assert stage["condition"].startswith("and(not(failed()), not(canceled()), ") and "TEST" in stage["dependsOn"]


def test_project_jobs_work_in_their_folder_and_keep_files_at_the_root(plan: Plan, document: dict) -> None:
    jobs = _jobs(document)
    for job in plan.jobs:
        azure_job = jobs[job.id.replace("-", "_")][1]
        own = [step for step in _steps(azure_job) if "bash" in step and step["displayName"] != "Stage files for "
               "later jobs"]
        folders = {step.get("workingDirectory") for step in own}
        assert folders == ({f"$(Build.SourcesDirectory)/{job.folder}"} if job.folder else {None}), job.id
        kept = [step["inputs"]["targetPath"] for step in _steps(azure_job)
                if step.get("task", "").startswith("PublishPipelineArtifact") and "handover" not in
                step["inputs"]["artifact"]]
        assert kept == [job.at_root(path) for path in job.artifacts], job.id
        python = [step["inputs"]["versionSpec"] for step in _steps(azure_job)
                  if step.get("task") == "UsePythonVersion@0"]
        assert python == ([plan.python_of(job)] if job.python else []), job.id


def test_the_committed_monorepo_example_holds_every_project() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "monorepo"
    document = yaml.safe_load((root / "azure-pipelines.yml").read_text(encoding="utf-8"))
    prefixes = {name.split("_")[0] for name in _jobs(document)} - {"pipegen", "changes"}
    assert prefixes == {"features", "churn", "fraud", "scoring"}


CLIENT, TENANT = "11111111-2222-3333-4444-555555555555", "66666666-7777-8888-9999-000000000000"
LOGGING_IN = f"""\
targets: [azure]
tests: {{unit: tests/unit}}
projects:
  api:
    folder: services/api
    environments:
      prod:
        deploy: ./deploy.sh prod
        identity: {{cloud: azure, client_id: {CLIENT}, tenant_id: {TENANT}}}
"""


def test_a_projects_azure_cli_step_works_in_its_folder(tmp_path: Path) -> None:
    plan = projects_plan(tmp_path, LOGGING_IN)
    _, deploy = _jobs(yaml.safe_load(AzureBackend().render(plan)))["api_deploy_prod"]
    [task] = [step for step in _steps(deploy) if step.get("task") == "AzureCLI@2"]
    assert task["inputs"]["workingDirectory"] == "$(Build.SourcesDirectory)/services/api"
    assert task["env"]["PIPEGEN_PROJECT"] == "api"
