"""build_plan: the descriptor's jobs built, validated and passed over, into the one plan every backend renders."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor, Quality
from pipegen.errors import DescriptorError, UsageError
from pipegen.gates import profiles
from pipegen.plan.jobs.check import check_job
from pipegen.plan.jobs.common import python_too_old, release_branch, source_folders
from pipegen.plan.jobs.custom import custom_job
from pipegen.plan.jobs.image import build_job, deploy_job
from pipegen.plan.jobs.lint import lint_job
from pipegen.plan.jobs.model import drift_job, model_jobs
from pipegen.plan.jobs.report import report_job
from pipegen.plan.jobs.sonar import sonar_job
from pipegen.plan.jobs.tests import pyramid_jobs
from pipegen.plan.model import PLAN_STAGES, STAGE_COMMENTS, STAGE_TITLES, EnvKind, Job, Plan, Stage, Triggers
from pipegen.plan.passes import (
    ordered,
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


def build_plan(descriptor: Descriptor) -> Plan:
    """The one graph all backends render; raises DescriptorError on a broken graph."""
    thresholds = effective_thresholds(descriptor)
    test_jobs = pyramid_jobs(descriptor, thresholds)
    lint = lint_job(descriptor, thresholds)
    sonar = sonar_job(descriptor, test_jobs[-1].id if test_jobs else None)
    qa_model, prod_model = model_jobs(descriptor)
    build = build_job(descriptor)
    check = check_job(descriptor, thresholds["compare_branch"])
    jobs: list[Job] = [job for job in [check, lint, *test_jobs, sonar, drift_job(descriptor), *qa_model, build]
                       if job]
    jobs += [job for job in [deploy_job(descriptor, "test", build), deploy_job(descriptor, "qa", build)] if job]
    jobs += prod_model
    deploy_prod = deploy_job(descriptor, "prod", build)
    if deploy_prod:
        jobs.append(deploy_prod)
    # Every producer is known before any custom job is built: a job may read an output of a
    # job written after it.
    producers = {name: job.id for job in jobs for name in job.outputs}
    for custom in descriptor.jobs:
        producers.update({name: custom.name for name in custom.outputs if name not in producers})
    jobs += [custom_job(custom, producers, descriptor) for custom in descriptor.jobs]
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
    serves_model = descriptor.image is not None and descriptor.image.serves_model
    ids = {job.id for job in jobs}
    jobs = [with_model_gate_before_prod(job, ids, serves_model) for job in jobs]
    jobs = with_model_chain(jobs)
    jobs = ordered(jobs)
    jobs = propagate_conditions(jobs, release_branch(descriptor))  # PROD never runs on any branch
    jobs = [with_environment(job, descriptor) for job in jobs]
    jobs = [with_pipegen_index(job, descriptor.settings.pipegen.index_url_var) for job in jobs]
    if python_too_old(descriptor):
        jobs = [replace(job, pipegen_needs_python=True) if job.pipegen else job for job in jobs]
    jobs = [with_output_check(job) for job in jobs]
    stages = tuple(Stage(stage, STAGE_TITLES[stage], STAGE_COMMENTS[stage],
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
        environments=tuple((env.name, env.approval) for env in descriptor.environments
                           if any(job.environment == env.name for job in jobs)))
