"""Stage order on GitHub, which has no stages: a stage's entry jobs (those with no need in their
own stage) wait for the previous stage's barrier (`Plan.barrier`) through `needs:`.

Listed on every entry job, the barrier makes the workflow grow with entry jobs × barrier jobs
(two stages of 1,000 independent jobs: a million `needs` lines). Where that list, repeated, costs
more lines than one job standing for it, GitHub gets that job (a stage-barrier job, `start_qa`
for QA): it needs the barrier, runs `if: !cancelled() && !failure()` (the barrier's jobs
succeeded or were skipped, as a job skipped on pull requests lets the next stage go; a failure
anywhere before it stops the stage), and the entry jobs need it instead. Small pipelines keep the
direct lists, which read better in a pull request: one more job pays off only for long lists.

The reader (`reader.py`) reads a stage-barrier job back as stage order, not as a project job.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the plan's modules stay off the path of the reader (`pipegen diff`)
    from pipegen.plan import Job, Plan

# pipegen's job ids are lowercase letters, digits and '-' (the descriptor's job names, and the
# built-in jobs): an id with '_' can never be one of them.
_BARRIER_PREFIX = "start_"
_BARRIER_ID = re.compile(rf"^{_BARRIER_PREFIX}[a-z]+$")

# What a stage-barrier job costs besides its `needs:` entries, in lines of the workflow: the
# blank line and comment before it, its key, name, `needs:`, if, runs-on, timeout-minutes,
# permissions, steps, the step's name and run.
BARRIER_JOB_LINES = 13


def barrier_job_id(stage_id: str) -> str:
    return f"{_BARRIER_PREFIX}{stage_id}"


def is_barrier_job(job_id: str) -> bool:
    """Whether a workflow's job id is a stage-barrier job pipegen wrote (never a project job)."""
    return bool(_BARRIER_ID.match(job_id))


class StageOrder:
    """Per stage of one plan, whether its entry jobs need a stage-barrier job (decided once:
    the backend asks per job)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.barrier_jobs = frozenset(stage.id for stage in plan.stages if self._pays_off(stage.id))

    def _pays_off(self, stage_id: str) -> bool:
        """Only when the barrier job makes the workflow shorter: each entry job saves the barrier's
        jobs it would list (those it does not already need) but one; the barrier job costs its own."""
        barrier = self.plan.barrier(stage_id)
        if not barrier:
            return False
        members = set(barrier)
        stage = next(stage for stage in self.plan.stages if stage.id == stage_id)
        saved = sum(len(barrier) - sum(1 for need in job.needs if need in members) - 1
                    for job in stage.jobs if self.plan.is_stage_entry(job))
        return saved > len(barrier) + BARRIER_JOB_LINES

    def needs(self, job: Job) -> tuple[str, ...]:
        """`job`'s `needs:` on GitHub: its own needs, and for an entry job the previous stage's
        barrier, or the stage-barrier job standing for it."""
        if job.stage in self.barrier_jobs and self.plan.is_stage_entry(job):
            return (*job.needs, barrier_job_id(job.stage))
        return self.plan.all_needs(job)

    def order_needs(self, job: Job) -> tuple[str, ...]:
        """The plan jobs `job` waits for only to keep the stage order (none when a stage-barrier
        job stands for them: it runs unless something before it failed)."""
        if job.stage in self.barrier_jobs:
            return ()
        return tuple(need for need in self.plan.all_needs(job) if need not in job.needs)
