"""build_plan: the descriptor's jobs built, validated and passed over, into the one plan every backend renders."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor, Quality
from pipegen.errors import DescriptorError, UsageError
from pipegen.gates import profiles
from pipegen.plan.identity import with_identity
from pipegen.plan.provenance import with_provenance
from pipegen.plan.jobs.check import check_job
from pipegen.plan.jobs.common import python_too_old, release_branch, source_folders
from pipegen.plan.jobs.custom import custom_jobs
from pipegen.plan.deploy import DeployContext, check_jobs, environment_jobs, kind_problems
from pipegen.plan.jobs.image import build_job, serving_image_job
from pipegen.plan.jobs.lint import lint_job
from pipegen.plan.jobs.model import drift_job, model_jobs
from pipegen.plan.jobs.report import report_job
from pipegen.plan.jobs.sonar import sonar_job
from pipegen.plan.jobs.tests import pyramid_jobs
from pipegen.plan.model import (
    PLAN_STAGES,
    STAGE_COMMENTS,
    STAGE_TITLES,
    UNAPPROVED_PROD_COMMENT,
    EnvKind,
    Job,
    Plan,
    Stage,
    Triggers,
)
from pipegen.plan.passes import (
    ordered,
    plan_environments,
    propagate_conditions,
    with_environment,
    with_inputs_as_needs,
    with_model_chain,
    with_model_gate_before_prod,
    with_needed_outputs,
    with_output_check,
    with_pipegen_index,
)
from pipegen.plan.validate import graph_problems
from pipegen.records import replace

# Paths besides the data paths that must also start a run when data paths filter pushes.
CODE_PATHS = ("**/*.py", "**/*.sh", "pyproject.toml", "setup.cfg", "requirements*.txt", "Dockerfile",
              "pipegen.yaml")


def _watched_paths(descriptor: Descriptor) -> tuple[str, ...]:
    if not descriptor.triggers.data_paths:
        return ()
    paths = list(descriptor.triggers.data_paths)
    extra = [descriptor.path.name, *CODE_PATHS]
    extra += [f"{path.rstrip('/')}/**" for _, path in descriptor.tests.levels()]
    extra += [f"{source.rstrip('/')}/**" for source in source_folders(descriptor)]
    return tuple(dict.fromkeys(paths + extra))


def effective_thresholds(descriptor: Descriptor) -> dict:
    """Descriptor values win; the named shipped profile fills the gaps. No `quality:`
    section means no gates at all (a library that only wants its tests run)."""
    values: dict = {"pylint": None, "flake8": None, "ruff": None, "coverage_min": None, "coverage_diff_min": None,
                    "compare_branch": "origin/main"}
    if ("quality",) not in descriptor.positions and descriptor.quality == Quality():
        return values
    try:
        coverage = profiles.resolve("coverage", {}, descriptor)
        pylint = profiles.resolve("pylint", {}, descriptor)
        flake8 = profiles.resolve("flake8", {}, descriptor)
        ruff = profiles.resolve("ruff", {}, descriptor)
    except UsageError as exc:
        raise DescriptorError([descriptor.problem(("quality", "profile"), f"quality.profile: {exc}")]) from None
    lint_tools = descriptor.quality.lint.tools
    values.update(pylint=pylint.get("min_score"), flake8=flake8.get("max_issues"),
                  # ruff has a bar when it runs: the repository configures it or the descriptor asks for it
                  ruff=ruff.get("max_issues") if descriptor.quality.ruff is not None
                  or (lint_tools is not None and "ruff" in lint_tools) else None,
                  coverage_min=coverage.get("min"), coverage_diff_min=coverage.get("diff_min"),
                  compare_branch=coverage.get("compare_branch", "origin/main"))
    return values


def _stage_comment(stage: str, jobs: list[Job], prod_without_approval: bool = False) -> str:
    """The stage's comment, saying what its jobs do (a pipeline without a model or an image is
    not told it trains or builds one, nor a PROD without an approval that it waits for one)."""
    ids = {job.id for job in jobs if job.stage == stage}
    if stage == "qa":
        parts = [part for wanted, part in (("train", "train and gate the candidate model"),
                                           ("build", "build the image once")) if wanted in ids]
        if any(job.environment == "qa" for job in jobs):
            parts.append("deploy it to QA" if "build" in ids else "deploy to QA")
        if "terraform-plan-prod" in ids:
            parts.append("plan PROD's Terraform change before the PROD approval")
        return f"QA: {', '.join(parts)}." if parts else STAGE_COMMENTS[stage]
    if stage == "prod":
        parts = ["promote the gated model"] if "promote-model" in ids else []
        if any(job.environment == "prod" and job.id != "promote-model" for job in jobs):
            parts.append("deploy the same image digest" if any(job.id == "build" for job in jobs) else "deploy")
        if prod_without_approval:
            lead = "PROD (no approval: environments.prod.approval is false): "
            return f"{lead}{' and '.join(parts)}." if parts else UNAPPROVED_PROD_COMMENT
        return f"PROD: after approval, {' and '.join(parts)}." if parts else STAGE_COMMENTS[stage]
    return STAGE_COMMENTS[stage]


def _deploy_jobs(descriptor: Descriptor, build: Job | None, prod_model: list[Job]) -> list[Job]:
    """Each environment's deploy jobs in stage order, PROD's after the model's promotion (and,
    for a model-serving image, the job selecting the champion's image)."""
    problems = kind_problems(descriptor)
    if problems:
        raise DescriptorError(problems)
    jobs: list[Job] = []
    serving = serving_image_job(descriptor, prod_model)
    for environment in descriptor.environments:
        image = DeployContext(descriptor, build.id, image_source=f"the image digest built once in "
                              f"{STAGE_TITLES[build.stage]}") if build else DeployContext(descriptor)
        if environment.name == "prod":
            jobs += prod_model
            if serving is not None:
                jobs.append(serving)
                image = DeployContext(descriptor, serving.id, serving.outputs[0],
                                      "the image built for the champion model version (SERVING_IMAGE_REF)")
        jobs += [with_identity(job, environment.identity) for job in environment_jobs(environment, image)]
    if not any(environment.name == "prod" for environment in descriptor.environments):
        jobs += prod_model
    return jobs


def build_plan(descriptor: Descriptor) -> Plan:
    """The one graph all backends render; raises DescriptorError on a broken graph."""
    thresholds = effective_thresholds(descriptor)
    test_jobs = pyramid_jobs(descriptor, thresholds)
    lint = lint_job(descriptor, thresholds)
    sonar = sonar_job(descriptor, test_jobs[-1].id if test_jobs else None)
    qa_model, prod_model = model_jobs(descriptor)
    build = build_job(descriptor)
    check = check_job(descriptor, thresholds["compare_branch"])
    jobs: list[Job] = [job for job in [check, lint, *test_jobs, sonar, *check_jobs(descriptor),
                                       drift_job(descriptor), *qa_model, build] if job]
    jobs += _deploy_jobs(descriptor, build, prod_model)
    # Every producer is known before any custom job is built: a job may read an output of a
    # job written after it.
    producers = {name: job.id for job in jobs for name in job.outputs}
    for custom in descriptor.jobs:
        producers.update({name: custom.name for name in custom.outputs if name not in producers})
    jobs += custom_jobs(descriptor, producers)
    report = report_job(descriptor)
    if report:
        jobs.append(report)
    # Reading an output is needing its producer: validated as a need (cycles, later stages).
    jobs = [with_inputs_as_needs(job) for job in jobs]
    problems = graph_problems(descriptor, jobs)
    if problems:
        raise DescriptorError(problems)
    jobs = with_needed_outputs(jobs)
    jobs = [with_inputs_as_needs(job) for job in jobs]
    ids = {job.id for job in jobs}
    jobs = [with_model_gate_before_prod(job, ids) for job in jobs]
    jobs = with_model_chain(jobs)
    jobs = ordered(jobs)
    jobs = propagate_conditions(jobs, release_branch(descriptor))  # PROD never runs on any branch
    environments = plan_environments(descriptor, jobs)
    jobs = [with_environment(job, environments) for job in jobs]
    jobs = [with_pipegen_index(job, descriptor.settings.pipegen.index_url_var) for job in jobs]
    installer = descriptor.settings.installer
    jobs = [job if job.installer == installer else replace(job, installer=installer) for job in jobs]
    if python_too_old(descriptor):
        jobs = [replace(job, pipegen_needs_python=True) if job.pipegen else job for job in jobs]
    jobs = [with_output_check(job) for job in jobs]
    jobs = with_provenance(jobs, descriptor)
    stages = tuple(Stage(stage, STAGE_TITLES[stage], _stage_comment(stage, jobs, descriptor.prod_without_approval),
                         tuple(job for job in jobs if job.stage == stage))
                   for stage in PLAN_STAGES if any(job.stage == stage for job in jobs))
    secrets = sorted({name for job in jobs for name in job.secrets})
    variables = sorted({value.value for job in jobs for _, value in job.env if value.kind is EnvKind.VARIABLE})
    triggers = descriptor.triggers
    return Plan(
        project=descriptor.project.name, python=descriptor.project.python, descriptor_path=descriptor.path.name,
        targets=descriptor.targets,
        triggers=Triggers(triggers.branches, triggers.pull_requests, triggers.schedule, triggers.data_paths,
                          _watched_paths(descriptor)),
        stages=stages, settings=descriptor.settings, variables=tuple(variables), secrets=tuple(secrets),
        environments=tuple((env.name, env.approval) for env in environments.values()
                           if any(job.environment == env.name for job in jobs)),
        submodules=descriptor.project.submodules)
