"""Passes over the built jobs, each one idea: outputs reach the jobs that need their producer, inputs are needs,
run conditions tighten along needs, the model's chain, environments, ordering."""
from __future__ import annotations

import heapq

from pipegen.descriptor.model import Approval, Descriptor, Environment
from pipegen.plan.jobs.common import env_items
from pipegen.plan.model import PLAN_STAGES, EnvKind, EnvValue, Job, RunWhen, Step
from pipegen.records import replace
from pipegen.syntax import shell_command


def with_pipegen_index(job: Job, index_var: str | None) -> Job:
    """Jobs that install pipegen from a private index read its URL from the CI variable."""
    if index_var is None or job.pipegen is None:
        return job
    return replace(job, pipegen_index_var=index_var,
                   env=env_items({**dict(job.env), index_var: EnvValue(EnvKind.VARIABLE, index_var)}))


def with_needed_outputs(jobs: list[Job]) -> list[Job]:
    """A job sees the outputs of the jobs it needs directly as $NAME (its own env entries of the
    same name win); an output of a job further up reaches it when it names it in `inputs:`.
    Each platform shows a job only its direct needs' outputs (GitHub, GitLab, Azure), so every
    output a job sees is one needs entry and one env entry in each file: reaching every job
    downstream would make the files grow with the square of the jobs."""
    by_id = {job.id: job for job in jobs}
    result = []
    for job in jobs:
        env = dict(job.env)
        for need in sorted(set(job.needs)):
            producer = by_id.get(need)
            for name in producer.outputs if producer is not None else ():
                env.setdefault(name, EnvValue(EnvKind.OUTPUT, name, need))
        sorted_env = env_items(env)
        result.append(job if sorted_env == job.env else replace(job, env=sorted_env))
    return result


def with_inputs_as_needs(job: Job) -> Job:
    """A consumer directly needs every producer it reads from: GitHub only exposes the
    outputs of direct needs, and it keeps the graph honest on every platform."""
    needs = tuple(job.needs) + tuple(producer for _, producer in job.inputs if producer not in job.needs)
    return job if needs == job.needs else replace(job, needs=needs)


def propagate_conditions(jobs: list[Job], prod_branch: str) -> list[Job]:
    """A job never runs where one of its needs cannot: conditions tighten downstream."""
    rank = {RunWhen.ALWAYS: 0, RunWhen.NOT_PULL_REQUEST: 1, RunWhen.PULL_REQUEST: 1, RunWhen.BRANCH: 2}
    result: dict[str, Job] = {}
    for job in jobs:  # jobs come in stage order and needs point backwards
        when, branch = job.run_when, job.branch
        for need in job.needs:
            upstream = result.get(need)
            if upstream is not None and rank[upstream.run_when] > rank[when]:
                when, branch = upstream.run_when, upstream.branch
        if job.stage == "prod":
            when, branch = RunWhen.BRANCH, prod_branch
        unchanged = (when, branch) == (job.run_when, job.branch)
        result[job.id] = job if unchanged else replace(job, run_when=when, branch=branch)
    return [result[job.id] for job in jobs]


def ordered(jobs: list[Job]) -> list[Job]:
    """Stage order, then dependency order inside a stage, then the order written: Kahn's
    algorithm, always placing the earliest-written ready job (linear up to a log factor)."""
    placed_jobs: list[Job] = []
    for stage in PLAN_STAGES:
        pending = [job for job in jobs if job.stage == stage]
        position = {job.id: index for index, job in enumerate(pending)}
        waiting_on = [0] * len(pending)  # same-stage needs not placed yet
        dependants: list[list[int]] = [[] for _ in pending]
        for index, job in enumerate(pending):
            for need in dict.fromkeys(job.needs):
                if need in position:
                    waiting_on[index] += 1
                    dependants[position[need]].append(index)
        ready = [index for index, count in enumerate(waiting_on) if count == 0]
        heapq.heapify(ready)
        placed = 0
        while ready:
            index = heapq.heappop(ready)
            placed_jobs.append(pending[index])
            placed += 1
            for dependant in dependants[index]:
                waiting_on[dependant] -= 1
                if waiting_on[dependant] == 0:
                    heapq.heappush(ready, dependant)
        # Cycles are rejected before ordering; keep any leftover in written order regardless.
        if placed < len(pending):
            seen = {job.id for job in placed_jobs}
            placed_jobs += [job for job in pending if job.id not in seen]
    return placed_jobs


def with_output_check(job: Job) -> Job:
    """A job that promised outputs fails itself when its step did not publish them, instead of
    passing and leaving the failure to the first consumer (an unbound $MODEL_VERSION)."""
    if not job.outputs:
        return job
    check = Step("Verify the promised outputs were published", shell_command("pipegen output check", *job.outputs),
                 reads=())
    return replace(job, steps=(*job.steps, check))


def with_model_gate_before_prod(job: Job, ids: set[str]) -> Job:
    """Promotion reads MODEL_VERSION from train, but must also wait for the gate's verdict.
    `ids`: every job's id."""
    if job.id == "promote-model" and "model-gate" in ids:
        return replace(job, needs=tuple(dict.fromkeys((*job.needs, "model-gate"))))
    return job


def with_model_chain(jobs: list[Job]) -> list[Job]:
    """The model's chain (drift, train, model-gate and every non-PROD job needing one of them)
    does not hold the next stage: a failed or kept-out candidate stops the promotion, while the
    image's deployment goes on unless it needs the promotion (`image.serves_model`)."""
    by_id = {job.id: job for job in jobs}
    if "train" not in by_id:
        return jobs
    dependants: dict[str, list[str]] = {}
    for job in jobs:
        for need in set(job.needs):
            dependants.setdefault(need, []).append(job.id)
    chain = {"drift", "train", "model-gate"} & set(by_id)
    pending = list(chain)
    while pending:  # each job joins once, whatever order the jobs are written in
        for dependant in dependants.get(pending.pop(), ()):
            if dependant not in chain and by_id[dependant].stage != "prod":
                chain.add(dependant)
                pending.append(dependant)
    return [replace(job, blocks_later_stages=False) if job.id in chain else job for job in jobs]


def plan_environments(descriptor: Descriptor, jobs: list[Job]) -> dict[str, Environment]:
    """The descriptor's environments, and PROD's when PROD has jobs but the descriptor names no
    prod environment: PROD then waits for an approval too (the safe default; `environments.prod:
    {approval: false}` is the way to say it must not)."""
    environments = {environment.name: environment for environment in descriptor.environments}
    if "prod" not in environments and any(job.stage == "prod" for job in jobs):
        environments["prod"] = Environment(name="prod", approval=Approval())
    return environments


def with_environment(job: Job, environments: dict[str, Environment]) -> Job:
    """Every PROD job runs in the prod environment, so none runs before the approval."""
    environment = environments.get(job.stage)
    if environment is None:
        return job
    if job.stage == "prod" or job.environment == job.stage:
        return replace(job, environment=job.stage, approval=environment.approval)
    return job
