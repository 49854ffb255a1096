"""Several projects, one plan: each project's plan built as for a lone descriptor, its job ids
prefixed with the project's name, its jobs run in the project's folder; one `pipegen-check` for
the repository, and one `changes` job saying which projects a run concerns.

A project's jobs run when its folder, one of its shared `paths`, a project it depends on, or
pipegen's own files changed (every project on schedules, manual runs and a branch's first push).
A project that depends on another also waits for that project's tests: a service is built
against a library whose tests passed (or did not need to run)."""
from __future__ import annotations

from pipegen.ci import PROJECT_VARIABLE
from pipegen.descriptor.projects import ProjectEntry, ProjectSet
from pipegen.plan.build import build_plan
from pipegen.plan.jobs.check import check_job
from pipegen.plan.jobs.common import pipegen_for, quote
from pipegen.plan.model import PLAN_STAGES, EnvKind, EnvValue, Job, Plan, Stage, Step
from pipegen.records import replace

SELECTOR_JOB = "changes"
# Platforms that select each project's jobs with their own job-level rules (GitLab `rules:changes`,
# Jenkins `when { changeset }`), so their files hold no `changes` job. On Jenkins a project's jobs wait
# for `pipegen-check` instead: the build knows its changeset only once a stage has checked out.
NATIVE_PROJECT_SELECTION = {"gitlab": None, "jenkins": "pipegen-check"}
CHECK_JOB = "pipegen-check"


def changed_output(project: str) -> str:
    """The output saying whether `project`'s jobs run: CHANGED_<NAME> (a valid name on every platform)."""
    return "CHANGED_" + project.upper().replace("-", "_")


def project_paths(project_set: ProjectSet) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(project, the path globs whose change concerns it) for every project, in declared order."""
    return tuple((entry.name, _paths_of(project_set, entry)) for entry in project_set.projects)


def _paths_of(project_set: ProjectSet, entry: ProjectEntry) -> tuple[str, ...]:
    """The path globs whose change concerns `entry`: its folder and shared paths, and those of
    every project it depends on (directly or not), and the descriptor."""
    seen: list[str] = []
    queue = [entry.name]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.append(name)
        queue += list(project_set.project(name).depends_on)
    globs = []
    for name in seen:
        other = project_set.project(name)
        globs += [f"{other.folder}/**/*", *other.paths]
    return tuple(dict.fromkeys([*globs, project_set.path.name]))


def _prefixed(job: Job, entry: ProjectEntry, ids: dict[str, str]) -> Job:
    env = dict(job.env)
    for name, value in job.env:
        if value.kind is EnvKind.OUTPUT and value.producer:
            env[name] = replace(value, producer=ids[value.producer])
    env[PROJECT_VARIABLE] = EnvValue(EnvKind.LITERAL, entry.name)
    python = entry.descriptor.project.python
    return replace(job, id=ids[job.id], needs=tuple(ids[need] for need in job.needs),
                   fetches=tuple(ids[producer] for producer in job.fetches), env=tuple(sorted(env.items())),
                   project=entry.name, folder=entry.folder, python_version=python,
                   title=f"{entry.name}: {job.title}")


def _final_tests(jobs: list[Job]) -> tuple[str, ...]:
    """A project's TEST jobs that no other of its TEST jobs waits for: its tests are done when these are."""
    tests = [job for job in jobs if job.stage == "test"]
    needed = {need for job in tests for need in job.needs}
    return tuple(job.id for job in tests if job.id not in needed)


def _selector_job(project_set: ProjectSet) -> Job:
    first = project_set.first
    outputs = tuple(changed_output(name) for name in project_set.names)
    return Job(
        id=SELECTOR_JOB, title="Which projects changed", stage="test",
        comment="Compares the commit range of this run (a push: before..after; a pull request: from the merge "
                "base) with each project's folder and shared paths, and publishes CHANGED_<PROJECT> (true or "
                "false) for each; every project runs on schedules, manual runs, a branch's first push, and when "
                "pipegen's own files change.",
        steps=(Step("Select the projects", f"pipegen changes --descriptor {quote(first.path.name)}",
                    id="changes", reads=()),),
        outputs=outputs, output_step="changes", pipegen=pipegen_for(first),
        install_note="pipegen (core) only: it compares file names; not the projects.",
        timeout_minutes=5, full_history=True)


def build_projects_plan(project_set: ProjectSet) -> Plan:
    """The one plan holding every project's jobs (see the module's docstring)."""
    first = project_set.first
    root = replace(first, folder=None, quality=replace(first.quality, pipeline_diff=False))
    jobs_by_stage: dict[str, list[Job]] = {stage: [] for stage in PLAN_STAGES}
    jobs_by_stage["test"] += [check_job(root, "origin/main"), _selector_job(project_set)]
    final_tests: dict[str, tuple[str, ...]] = {}
    plans = []
    for entry in project_set.projects:
        plan = build_plan(entry.descriptor)
        plans.append(plan)
        jobs = [job for job in plan.jobs if job.id != CHECK_JOB]
        ids = {job.id: f"{entry.name}-{job.id}" for job in jobs}
        project_jobs = [_prefixed(job, entry, ids) for job in jobs]
        waits_for = tuple(need for other in entry.depends_on for need in final_tests.get(other, ()))
        for job in project_jobs:
            extra = (SELECTOR_JOB,) + (waits_for if not job.needs else ())
            job = replace(job, needs=tuple(dict.fromkeys((*extra, *job.needs))))
            jobs_by_stage[job.stage].append(job)
        final_tests[entry.name] = _final_tests(project_jobs)
    stages = tuple(Stage(stage, plan_stage.title, plan_stage.comment, tuple(jobs_by_stage[stage]))
                   for stage in PLAN_STAGES if jobs_by_stage[stage]
                   for plan_stage in [_first_stage(plans, stage)])
    return Plan(
        project=", ".join(project_set.names), python=first.project.python,
        descriptor_path=project_set.path.name, targets=first.targets, triggers=plans[0].triggers,
        stages=stages, settings=first.settings,
        variables=tuple(sorted({name for plan in plans for name in plan.variables})),
        secrets=tuple(sorted({name for plan in plans for name in plan.secrets})),
        environments=_environments(plans), notes=tuple(note for plan in plans for note in plan.notes),
        submodules=any(plan.submodules for plan in plans),
        project_paths=project_paths(project_set),
        selector=SELECTOR_JOB)


def _first_stage(plans: list[Plan], stage_id: str) -> Stage:
    return next(stage for plan in plans for stage in plan.stages if stage.id == stage_id)


def _environments(plans: list[Plan]) -> tuple:
    found: dict[str, object] = {}
    for plan in plans:
        for name, approval in plan.environments:
            found.setdefault(name, approval)
    return tuple(found.items())


def without_selector(plan: Plan, instead: str | None = None) -> Plan:
    """The plan for a platform that selects each project's jobs natively (GitLab's job-level
    `rules:changes`, Jenkins' `changeset`): no `changes` job; the jobs that waited for it wait for
    `instead` (when given) or for nothing."""
    if plan.selector is None:
        return plan
    selector = plan.selector

    def needs_of(job: Job) -> tuple[str, ...]:
        return tuple(dict.fromkeys(instead if need == selector and instead else need for need in job.needs
                                   if need != selector or instead))

    stages = tuple(replace(stage, jobs=tuple(replace(job, needs=needs_of(job))
                                             for job in stage.jobs if job.id != selector))
                   for stage in plan.stages)
    return replace(plan, stages=stages, selector=None)


def native_selection(plan: Plan, platform: str) -> Plan:
    """The plan as `platform` renders it (see NATIVE_PROJECT_SELECTION)."""
    if platform not in NATIVE_PROJECT_SELECTION:
        return plan
    return without_selector(plan, NATIVE_PROJECT_SELECTION[platform])
