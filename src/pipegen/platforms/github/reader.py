"""What the GitHub backend writes, read back into the neutral `PipelineView`: the workflow's
triggers, each job's `if:` evaluated per event (a skipped need skips the job unless the
condition says otherwise, as GitHub does), environments, outputs wired from `needs.*.outputs`,
the secrets and variables each step's `env:` can read, timeouts and the concurrency policy."""
from __future__ import annotations

import fnmatch
import functools
import heapq
import re
from typing import Any


from pipegen.platforms import readback as rb, yaml_document
from pipegen.platforms.github.stage_order import is_barrier_job

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\))|(?P<word>[A-Za-z_][\w.-]*(?:\(\))?))")
_REF = re.compile(r"\$\{\{\s*(secrets|vars|needs)\.([A-Za-z0-9_.-]+)\s*\}\}")


@functools.lru_cache(maxsize=4096)  # asked per job and event; a workflow has a few distinct conditions
def evaluate(condition: str, event: str, release: str, needs_ran: bool) -> bool:
    """Whether a job with `if: condition` runs for `event` (its needs ran, or were skipped)."""
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    branch = rb.event_branch(event, release)
    context = {
        "github.event_name": "pull_request" if event in rb.PULL_REQUESTS else "schedule" if event == rb.SCHEDULE
        else "workflow_dispatch" if event.startswith("manual") else "push",
        "github.ref": f"refs/heads/{branch}" if branch else "refs/pull/1/merge",
        "success()": needs_ran, "failure()": False, "cancelled()": False, "always()": True,
    }
    status_checked = any(name in text for name in ("success()", "failure()", "cancelled()", "always()"))
    result = bool(rb.Expression(text, lambda word: _lookup(context, word), _TOKEN).value()) if text else True
    return result if status_checked else (result and needs_ran)


# A project's change selection (several projects in one repository): the view is of a run in which
# every project changed, as on a schedule, so the selection lets every project's jobs run.
_PROJECT_CHANGED = re.compile(r"needs\.[A-Za-z0-9_-]+\.outputs\.CHANGED_[A-Z0-9_]+")


def _lookup(context: dict[str, object], word: str) -> object:
    if _PROJECT_CHANGED.fullmatch(word):
        return "true"
    if word not in context:
        raise rb.ConditionError(f"cannot read a GitHub condition: unknown {word!r}")
    return context[word]


def _branch_matches(patterns: list[str] | None, branch: str) -> bool:
    return patterns is None or any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)


def _pipeline_events(on: dict, release: str) -> frozenset[str]:
    events = set()
    if "push" in on:
        branches = (on["push"] or {}).get("branches")
        if _branch_matches(branches, release):
            events.add(rb.PUSH_RELEASE)
        if _branch_matches(branches, rb.OTHER_BRANCH):
            events.add(rb.PUSH_OTHER)
    if "pull_request" in on:
        targets = (on["pull_request"] or {}).get("branches")
        events |= {event for event, target in ((rb.PULL_REQUEST, release), (rb.PULL_REQUEST_OTHER, rb.OTHER_BRANCH))
                   if _branch_matches(targets, target)}
    if on.get("schedule"):
        events.add(rb.SCHEDULE)
    if "workflow_dispatch" in on:
        events |= {rb.MANUAL_RELEASE, rb.MANUAL_OTHER}
    return frozenset(events)


def _refs(env: dict | None) -> dict[str, tuple[str, str]]:
    found = {}
    for name, value in (env or {}).items():
        match = _REF.search(str(value))
        if match:
            found[name] = (match.group(1), match.group(2))
    return found


def _environment(job: dict) -> str | None:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def read(text: str, protected: frozenset[str] = frozenset({"prod"}), release: str = "main",
         numbering: rb.Numbering | None = None,
         pieces: yaml_document.Pieces | None = None) -> rb.PipelineView:
    """`protected`: environments whose approvals are configured in the repository settings."""
    document = yaml_document.load(text, typed=False, pieces=pieces)  # `on` stays a string key
    on = document.get("on") or {}
    events = _pipeline_events(on if isinstance(on, dict) else {name: {} for name in on}, release)
    jobs: dict = document.get("jobs") or {}
    needs = {job_id: tuple([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs") or ())
             for job_id, job in jobs.items()}
    numbering = numbering or rb.Numbering()
    after = _after(needs, numbering)
    stages = _stages(text)
    runs: dict[str, frozenset[str]] = {}
    decided: dict[tuple[object, frozenset[str]], frozenset[str]] = {}  # (if:, events its needs ran on)
    for job_id in _topological(needs):
        condition = jobs[job_id].get("if", "")
        needs_ran = events.intersection(*(runs.get(need, frozenset()) for need in needs[job_id]))
        key = (condition, needs_ran) if isinstance(condition, str) else None
        found = decided.get(key) if key is not None else None
        if found is None:
            found = frozenset(event for event in events if evaluate(condition, event, release, event in needs_ran))
            if key is not None:
                decided[key] = found
        runs[job_id] = found
    asks = numbering.reach(job_id for job_id, job in jobs.items() if _environment(job) in protected)
    views = {}
    for job_id, job in jobs.items():
        if is_barrier_job(job_id):
            continue
        views[job_id] = rb.JobView(
            id=job_id, stage=stages.get(job_id, ""), after=after[job_id], events=runs[job_id],
            approval=job_id in asks or bool(asks & after[job_id]), asks_approval=job_id in asks,
            **yaml_document.derived(pieces, job, _job_parts))
    concurrency = document.get("concurrency") or {}
    cancel = frozenset(event for event in events if isinstance(concurrency, dict) and evaluate(
        str(concurrency.get("cancel-in-progress", "false")), event, release, True))
    schedule = (on.get("schedule") or [{}])[0].get("cron") if isinstance(on, dict) else None
    return rb.PipelineView(platform="github", jobs=views, events=events, release_branch=release, schedule=schedule,
                           cancel_superseded=cancel, release_runs="queue" if concurrency else "parallel")


def _job_parts(job: dict) -> dict[str, Any]:
    """What the job's view says from the job's own text."""
    job_env = _refs(job.get("env"))
    steps, secrets = [], set()
    for step in job.get("steps") or []:
        refs = {**job_env, **_refs(step.get("env"))}
        secrets |= {name for name, (kind, _) in refs.items() if kind == "secrets"}
        if "run" in step:
            steps.append(rb.StepView(step.get("name", ""), frozenset(
                name for name, (kind, _) in refs.items() if kind in ("secrets", "vars")), frozenset(
                name for name, (kind, _) in refs.items() if kind == "secrets")))
    inputs = frozenset((path.split(".")[2], path.split(".")[0]) for kind, path in job_env.values()
                       if kind == "needs" and path.count(".") == 2)
    return {"environment": _environment(job), "outputs": frozenset(job.get("outputs") or {}), "inputs": inputs,
            "visible_outputs": inputs, "secrets": frozenset(secrets), "steps": tuple(steps),
            "timeout_minutes": int(job["timeout-minutes"]) if "timeout-minutes" in job else None,
            "gates": tuple(gate for step in job.get("steps") or [] for gate in rb.gates_in(step.get("run", ""))),
            "applies": rb.applies_in("\n".join(step.get("run", "") for step in job.get("steps") or [])),
            "submodules": _submodules(job), "project": rb.project_of(job.get("env")),
            "oidc": _oidc(job), "attests": _attests(job),
            "verifies": any("gh attestation verify" in str(step.get("run", "")) for step in job.get("steps") or [])}


ATTEST_ACTION = "actions/attest-build-provenance"
_LOGIN_ACTIONS = {"azure/login": "azure", "aws-actions/configure-aws-credentials": "aws",
                  "google-github-actions/auth": "gcp"}


def _oidc(job: dict) -> frozenset[str]:
    """The clouds a job logs in to with its OIDC token: only a job granted `id-token: write` can
    request one; a grant without a known login action is reported as such."""
    permissions = job.get("permissions")
    if not isinstance(permissions, dict) or permissions.get("id-token") != "write":
        return frozenset()
    clouds = {_LOGIN_ACTIONS.get(str(step.get("uses", "")).split("@")[0].lower())
              for step in job.get("steps") or []}
    found = frozenset(cloud for cloud in clouds if cloud)
    # The attestation's token only signs the provenance (a Sigstore certificate for this job).
    return found or (frozenset() if _attests(job) else frozenset({rb.TOKEN_UNUSED}))


def _attests(job: dict) -> bool:
    return any(str(step.get("uses", "")).split("@")[0].lower() == ATTEST_ACTION for step in job.get("steps") or [])


def _submodules(job: dict) -> str | None:
    """What actions/checkout's `submodules` input fetches (the first checkout of the job's)."""
    for step in job.get("steps") or []:
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            return rb.checkout_submodules((step.get("with") or {}).get("submodules"))
    return None


def _after(needs: dict[str, tuple[str, ...]], numbering: rb.Numbering) -> dict[str, rb.Reach]:
    """What each job waits for, transitively. A stage-barrier job is stage order, not a project
    job: what waits for it waits for its needs, and it is in no job's set."""
    after = rb.closure(needs, numbering)
    barrier_jobs = numbering.bits(job_id for job_id in needs if is_barrier_job(job_id))
    if not barrier_jobs:
        return after
    return {job_id: rb.Reach(reach.bits & ~barrier_jobs, numbering) for job_id, reach in after.items()}


def _topological(needs: dict[str, tuple[str, ...]]) -> list[str]:
    """Jobs after their needs (Kahn's order; the first job written among the ready ones); jobs
    left in a cycle follow in the order written."""
    waiting = {job: len({need for need in job_needs if need in needs}) for job, job_needs in needs.items()}
    dependants: dict[str, list[str]] = {job: [] for job in needs}
    for job, job_needs in needs.items():
        for need in set(job_needs):
            if need in needs:
                dependants[need].append(job)
    position = {job: index for index, job in enumerate(needs)}
    ready = [position[job] for job, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    names = list(needs)
    ordered: list[str] = []
    while ready:
        job = names[heapq.heappop(ready)]
        ordered.append(job)
        for dependant in dependants[job]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, position[dependant])
    placed = set(ordered)
    return ordered + [job for job in needs if job not in placed]


_BANNER = re.compile(r"\s*# ==== (\w+) ====")
_JOB_KEY = re.compile(r"  ([A-Za-z0-9_-]+):\s*$")
_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _stages(text: str) -> dict[str, str]:
    """Each job's stage: the banner (`# ==== QA ====`) it is written under, in one pass."""
    stage, found = "", {}
    for line in text.splitlines():
        if line[2:3] not in _KEY_CHARACTERS and "# ====" not in line:  # most lines: inside a job
            continue
        banner = _BANNER.match(line)
        if banner:
            stage = banner.group(1).lower()
        elif (key := _JOB_KEY.match(line)) and key.group(1) not in found:
            found[key.group(1)] = stage
    return found
