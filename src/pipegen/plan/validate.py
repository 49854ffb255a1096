"""The graph's problems, located in the descriptor: unknown needs, needs on a later stage, cycles,
two producers of one output, inputs nobody produces; and the warnings `validate` prints about
what the plan chose by default (an approval nobody wrote)."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.errors import Problem
from pipegen.plan.model import PLAN_STAGES, Job, Plan


def graph_problems(descriptor: Descriptor, jobs: list[Job]) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Job] = {}
    custom_index = {job.name: index for index, job in enumerate(descriptor.jobs)}
    stage_rank = {stage: rank for rank, stage in enumerate(PLAN_STAGES)}

    def where(job_id: str, *rest) -> tuple:
        return ("jobs", custom_index[job_id], *rest) if job_id in custom_index else ("jobs",)

    for job in jobs:
        if job.id in by_id:
            problems.append(descriptor.problem(where(job.id, "name"), f"job name {job.id!r} is already used "
                                               "by a job pipegen generates; choose another name"))
        by_id.setdefault(job.id, job)
    producers: dict[str, str] = {}
    for job in jobs:
        for name in job.outputs:
            if name in producers and producers[name] != job.id:
                problems.append(descriptor.problem(where(job.id, "outputs"), f"output {name!r} is published by both "
                                                   f"{producers[name]!r} and {job.id!r}; output names must be unique"))
            producers.setdefault(name, job.id)
    for job in jobs:
        for position, need in enumerate(job.needs):
            if need not in by_id:
                problems.append(descriptor.problem(where(job.id, "needs", position), f"job {job.id!r} needs unknown "
                                                   f"job {need!r}; known jobs: {', '.join(sorted(by_id))}"))
            elif stage_rank[by_id[need].stage] > stage_rank[job.stage]:
                problems.append(descriptor.problem(where(job.id, "needs", position), f"job {job.id!r} "
                                                   f"({job.stage}) cannot need {need!r} from the later stage "
                                                   f"{by_id[need].stage}"))
    problems += _cycle_problems(descriptor, jobs, by_id, where)
    for custom in descriptor.jobs:
        for position, name in enumerate(custom.inputs):
            if name not in producers:
                problems.append(descriptor.problem(("jobs", custom_index[custom.name], "inputs", position),
                                                   f"job {custom.name!r} reads output {name!r}, which no job produces"))
            elif producers[name] == custom.name:
                problems.append(descriptor.problem(("jobs", custom_index[custom.name], "inputs", position),
                                                   f"job {custom.name!r} reads its own output {name!r}"))
    return problems


def _cycle_problems(descriptor, jobs: list[Job], by_id: dict[str, Job], where) -> list[Problem]:
    """Depth-first, with an explicit stack: a chain of any length, no recursion limit."""
    done: set[str] = set()
    problems: list[Problem] = []
    for root in jobs:
        if root.id in done:
            continue
        trail: list[str] = [root.id]  # the jobs being visited, outermost first
        on_trail: dict[str, int] = {root.id: 0}  # job id -> its index in `trail`
        cursors: list[int] = [0]  # per trail entry: the next need to look at
        while trail:
            job_id = trail[-1]
            needs = by_id[job_id].needs
            if cursors[-1] == len(needs):
                done.add(job_id)
                del on_trail[job_id]
                trail.pop()
                cursors.pop()
                continue
            need = needs[cursors[-1]]
            cursors[-1] += 1
            if need not in by_id or need in done:
                continue
            if need in on_trail:
                cycle = trail[on_trail[need]:] + [need]
                problems.append(descriptor.problem(where(job_id, "needs"), "jobs form a cycle: " + " -> ".join(cycle)))
                continue
            on_trail[need] = len(trail)
            trail.append(need)
            cursors.append(0)
    return problems


def approval_warnings(descriptor: Descriptor, plan: Plan) -> list[Problem]:
    """PROD waits for an approval unless the descriptor writes `environments.prod.approval:
    false`. When it writes nothing, say so: the approval is real, but who gives it is then the
    platform settings' choice, and a team that meant no approval learns it here, not at release."""
    prod_jobs = [job.id for job in plan.jobs if job.stage == "prod"]
    written = descriptor.positions
    if not prod_jobs or ("environments", "prod", "approval") in written:
        return []
    where = next((path for path in (("environments", "prod"), ("model",), ("jobs",)) if path in written), ())
    return [descriptor.problem(where, (
        f"warning: environments.prod.approval is not written, so PROD ({', '.join(prod_jobs)}) waits for an "
        "approval by anyone the prod environment allows; name who approves with "
        "`approval: {approvers: [...]}`, or write `approval: false` to run PROD without one"))]
