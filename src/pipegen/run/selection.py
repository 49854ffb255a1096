"""Which jobs run: the event and branch decide as the CI would (the plan's RunWhen and
branch), then --stage/--job pick the part of the pipeline to run now."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pipegen.errors import UsageError
from pipegen.plan import Job, Plan, RunWhen


class Event(str, Enum):
    PUSH = "push"
    PULL_REQUEST = "pull_request"
    SCHEDULE = "schedule"
    MANUAL = "manual"


def runs_on(job: Job, event: Event, branch: str) -> bool:
    """True when the CI would run `job` for this event on this branch."""
    if job.run_when is RunWhen.ALWAYS:
        return True
    if job.run_when is RunWhen.PULL_REQUEST:  # the gate report comment
        return event is Event.PULL_REQUEST
    if event is Event.PULL_REQUEST:
        return False
    return job.run_when is RunWhen.NOT_PULL_REQUEST or job.branch == branch


def why_not(job: Job, event: Event) -> str:
    """Why the CI would not run `job` (only meaningful when `runs_on` is False)."""
    if job.run_when is RunWhen.PULL_REQUEST:
        return "only on pull requests"
    if event is Event.PULL_REQUEST:
        return "not on pull requests"
    return f"only on branch {job.branch}"


def trigger_notes(plan: Plan, event: Event, branch: str) -> list[str]:
    """What the CI would do differently: this event would not start a pipeline at all."""
    triggers = plan.triggers
    if event is Event.PULL_REQUEST and not triggers.pull_requests:
        return ["the descriptor does not run pipelines for pull requests (triggers.pull_requests: false); "
                "running anyway"]
    if event is Event.SCHEDULE and not triggers.schedule:
        return ["the descriptor has no schedule (triggers.schedule); running anyway"]
    if event is Event.PUSH and triggers.branches and not any(_matches(branch, pattern)
                                                             for pattern in triggers.branches):
        return [f"a push to {branch} does not start the pipeline on CI (triggers.branches: "
                f"{', '.join(triggers.branches)}); running anyway"]
    return []


def _matches(branch: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase  # pylint: disable=import-outside-toplevel
    return fnmatchcase(branch, pattern)


@dataclass(frozen=True)
class Selection:
    run: tuple[Job, ...]  # in plan order
    not_for_event: tuple[tuple[Job, str], ...]  # selected but the event/branch skips them, with why
    left_out: tuple[Job, ...]  # not selected by --stage/--job


def project_jobs(plan: Plan, projects: tuple[str, ...]) -> set[str]:
    """The jobs of `projects` (several projects in one repository) and every job they need,
    directly or not (the change selection, a library's tests)."""
    known = [name for name, _ in plan.project_paths]
    unknown = [name for name in projects if name not in known]
    if unknown:
        raise UsageError(f"--project {', '.join(unknown)}: " + (f"this descriptor's projects are {', '.join(known)}"
                                                                if known else "this descriptor declares no projects"))
    wanted = {job.id for job in plan.jobs if job.project in projects}
    for job in reversed(plan.jobs):  # a job's needs come before it
        if job.id in wanted:
            wanted.update(job.needs)
    return wanted


def select(plan: Plan, event: Event, branch: str, stages: tuple[str, ...] = (),
           job_ids: tuple[str, ...] = (), projects: tuple[str, ...] = ()) -> Selection:
    """The jobs to run now. --stage, --job and --project add up (a job is selected when its stage,
    its id or its project is named); with none of them, every job is selected."""
    known_stages = [stage.id for stage in plan.stages]
    unknown = [stage for stage in stages if stage not in known_stages]
    if unknown:
        raise UsageError(f"--stage {', '.join(unknown)}: this plan's stages are {', '.join(known_stages)}")
    known_jobs = [job.id for job in plan.jobs]
    unknown = [job for job in job_ids if job not in known_jobs]
    if unknown:
        raise UsageError(f"--job {', '.join(unknown)}: this plan's jobs are {', '.join(known_jobs)}")
    of_projects = project_jobs(plan, projects) if projects else set()
    chosen = [job for job in plan.jobs if (not stages and not job_ids and not projects) or job.stage in stages
              or job.id in job_ids or job.id in of_projects]
    left_out = tuple(job for job in plan.jobs if job not in chosen)
    run = tuple(job for job in chosen if runs_on(job, event, branch))
    skipped = tuple((job, why_not(job, event)) for job in chosen if not runs_on(job, event, branch))
    return Selection(run, skipped, left_out)
