"""What the Azure backend writes, read back into the neutral `PipelineView`: the `trigger`,
`pr` and `schedules` sections, stage and job `dependsOn` and `condition` evaluated per event
(a skipped dependency fails `succeeded()`, as in Azure), deployment jobs and their
environments (checks run once per stage), outputs wired through `dependencies` /
`stageDependencies`, the values each step's `env:` maps in, timeouts and batching.
Azure macros do not say whether a variable is secret, so steps list both (`reads`) and
`secrets` is `None`."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import replace
from typing import Any


from pipegen.platforms import readback as rb, yaml_document

_MACRO = re.compile(r"^\$\(([A-Za-z_][\w.]*)\)$")
_OUTPUT = re.compile(r"(?:stageDependencies\.(\w+)\.(\w+)|dependencies\.(\w+))\.outputs\['([^']+)'\]")
_OUTPUT_SET = re.compile(r"pipegen output set ([A-Za-z_]\w*)")
_CALL = re.compile(r"\s*([A-Za-z]+)\s*\(")
_LITERAL = re.compile(r"\s*'((?:[^']|'')*)'")
_VARIABLE = re.compile(r"\s*variables\[\s*'([^']+)'\s*\]")
# A project's change selection (several projects): the view is of a run in which every project
# changed, as on a schedule, so the selection lets every project's jobs run.
_PROJECT_CHANGED = re.compile(
    r"\s*(?:stageDependencies\.\w+\.\w+|dependencies\.\w+)\.outputs\['[\w.]*\.CHANGED_[A-Z0-9_]+'\]")
_RESULT = re.compile(r"\s*(?:stageDependencies\.\w+\.(\w+)|dependencies\.(\w+))\.result\b")


def plan_id(azure_id: str) -> str:
    """Azure ids are plan ids with '-' spelled '_' (plan ids never hold '_')."""
    return azure_id.removeprefix("j_").replace("_", "-")


class _Condition:
    """Azure's condition functions: and, or, not, eq, ne, in, startsWith, succeeded,
    succeededOrFailed, always, failed, over 'literals' and variables['Name']."""

    def __init__(self, text: str, variables: dict[str, str], dependencies_ran: bool, ran=lambda job: True):
        self.text, self.position = text, 0
        self.variables, self.dependencies_ran, self.ran = variables, dependencies_ran, ran

    def value(self) -> object:
        result = self._term()
        if self.text[self.position:].strip():
            raise rb.ConditionError(f"cannot read the Azure condition {self.text!r}")
        return result

    def _term(self) -> object:
        rest = self.text[self.position:]
        for pattern, convert in ((_LITERAL, lambda m: m.group(1).replace("''", "'")),
                                 (_PROJECT_CHANGED, lambda m: "true"),
                                 (_VARIABLE, lambda m: self.variables.get(m.group(1), "")),
                                 # a job that ran is read as succeeded: the question is which jobs it waits for
                                 (_RESULT, lambda m: "Succeeded" if self.ran(plan_id(m.group(1) or m.group(2)))
                                  else "Skipped")):
            match = pattern.match(rest)
            if match:
                self.position += match.end()
                return convert(match)
        match = _CALL.match(rest)
        if not match:
            raise rb.ConditionError(f"cannot read the Azure condition {self.text!r}")
        self.position += match.end()
        arguments = []
        while not self.text[self.position:].lstrip().startswith(")"):
            arguments.append(self._term())
            stripped = self.text[self.position:].lstrip()
            if stripped.startswith(","):
                self.position = len(self.text) - len(stripped) + 1
        self.position = self.text.index(")", self.position) + 1
        return self._apply(match.group(1).lower(), arguments)

    def _apply(self, name: str, arguments: list) -> object:  # pylint: disable=too-many-return-statements
        if name == "and":
            return all(arguments)
        if name == "or":
            return any(arguments)
        if name == "not":
            return not arguments[0]
        if name in ("eq", "ne"):
            equal = str(arguments[0]).lower() == str(arguments[1]).lower()
            return equal if name == "eq" else not equal
        if name == "in":
            return str(arguments[0]).lower() in [str(argument).lower() for argument in arguments[1:]]
        if name == "startswith":
            return str(arguments[0]).lower().startswith(str(arguments[1]).lower())
        if name in ("succeeded",):
            return self.dependencies_ran
        if name in ("succeededorfailed", "always"):
            return True
        if name in ("failed", "canceled"):
            return False
        raise rb.ConditionError(f"cannot read the Azure condition function {name!r}")


def _variables(event: str, release: str) -> dict[str, str]:
    branch = rb.event_branch(event, release)
    reason = "PullRequest" if event in rb.PULL_REQUESTS else "Schedule" if event == rb.SCHEDULE else (
        "Manual" if event.startswith("manual") else "IndividualCI")
    values = {"Build.Reason": reason, "Build.SourceBranch": f"refs/heads/{branch}" if branch else "refs/pull/1/merge",
              "Build.SourceBranchName": branch or "merge"}
    if not branch:
        values["System.PullRequest.TargetBranch"] = (
            f"refs/heads/{rb.OTHER_BRANCH if event == rb.PULL_REQUEST_OTHER else release}")
    return values


def runs(condition: str | None, event: str, release: str, dependencies_ran: bool, ran=lambda job: True) -> bool:
    if not condition:
        return dependencies_ran
    return bool(_Condition(str(condition), _variables(event, release), dependencies_ran, ran).value())


def checked_results(condition: str | None) -> list[str]:
    """The jobs whose result a condition tests (they must succeed first)."""
    return [plan_id(match.group(1) or match.group(2)) for match in _RESULT.finditer(str(condition or ""))]


def _includes(section, branch: str) -> bool:
    if section in ("none", None):
        return section is None
    branches = section.get("branches") if isinstance(section, dict) else section
    if isinstance(branches, dict):
        include, exclude = branches.get("include") or ["*"], branches.get("exclude") or []
    else:
        include, exclude = branches or ["*"], []
    return (any(fnmatch.fnmatchcase(branch, pattern) for pattern in include)
            and not any(fnmatch.fnmatchcase(branch, pattern) for pattern in exclude))


def _pipeline_events(document: dict, release: str) -> frozenset[str]:
    events = {rb.MANUAL_RELEASE, rb.MANUAL_OTHER}
    trigger, pr = document.get("trigger"), document.get("pr")
    events |= {event for event, branch in ((rb.PUSH_RELEASE, release), (rb.PUSH_OTHER, rb.OTHER_BRANCH))
               if _includes(trigger, branch)}
    events |= {event for event, branch in ((rb.PULL_REQUEST, release), (rb.PULL_REQUEST_OTHER, rb.OTHER_BRANCH))
               if _includes(pr, branch)}
    if document.get("schedules"):
        events.add(rb.SCHEDULE)
    return frozenset(events)


def _submodules(job: dict) -> str | None:
    """What the job's `checkout: self` step fetches of the git submodules (`submodules: true | recursive`)."""
    for step in _steps(job):
        if step.get("checkout") == "self":
            return rb.checkout_submodules(step.get("submodules"))
    return None


def _steps(job: dict) -> list[dict]:
    if "steps" in job:
        return job["steps"] or []
    strategy = (job.get("strategy") or {}).get("runOnce") or {}
    return [step for phase in strategy.values() for step in (phase or {}).get("steps") or []]


def _condition_outputs(condition: object, stage_ids: list[str]) -> set[tuple[str, str]]:
    """(output, producer) a job or stage condition reads: `dependencies.JOB.outputs['STEP.NAME']`,
    `stageDependencies.STAGE.JOB.outputs[...]`, a stage's `dependencies.STAGE.outputs['JOB.STEP.NAME']`."""
    found = set()
    for match in _OUTPUT.finditer(str(condition or "")):
        key = match.group(4).split(".")
        producer = key[0] if match.group(3) in stage_ids else match.group(2) or match.group(3)
        found.add((key[-1], plan_id(producer)))
    return found


def _with_wired_outputs(views: dict[str, rb.JobView], conditions: list, stage_ids: list[str]) -> dict[str, rb.JobView]:
    """Each producer's outputs, with those whose name is spelled where a consumer maps or tests them."""
    wired: dict[str, set[str]] = {}
    for output, producer in {pair for view in views.values() for pair in view.inputs} | {
            pair for condition in conditions for pair in _condition_outputs(condition, stage_ids)}:
        wired.setdefault(producer, set()).add(output)
    return {job_id: replace(view, outputs=view.outputs | wired[job_id]) if job_id in wired else view
            for job_id, view in views.items()}


def _project(job: dict) -> str | None:
    """The project a job works for (several projects): the PIPEGEN_PROJECT its steps map in."""
    for step in _steps(job):
        project = rb.project_of(step.get("env"))
        if project is not None:
            return project
    return None


def _job_parts(job: dict) -> dict[str, Any]:
    """What the job's view says from the job's own text."""
    inputs = set()
    for value in (job.get("variables") or {}).values() if isinstance(job.get("variables"), dict) else []:
        for match in _OUTPUT.finditer(str(value)):
            producer = plan_id(match.group(2) or match.group(3))
            inputs.add((match.group(4).split(".")[-1], producer))
    steps = []
    for step in _steps(job):
        if "bash" in step or "script" in step or _azure_cli(step):
            steps.append(rb.StepView(step.get("displayName", ""), frozenset(
                name for name, value in (step.get("env") or {}).items()
                if (macro := _MACRO.match(str(value))) and macro.group(1) not in {
                    variable for variable in (job.get("variables") or {})})))
    script = "\n".join(_step_script(step) for step in _steps(job))
    environment = job.get("environment")
    return {"environment": environment.get("name") if isinstance(environment, dict) else environment,
            "outputs": frozenset(_OUTPUT_SET.findall(script)), "inputs": frozenset(inputs),
            "visible_outputs": frozenset(inputs), "secrets": None, "steps": tuple(steps),
            "timeout_minutes": int(job["timeoutInMinutes"]) if "timeoutInMinutes" in job else None,
            "gates": rb.gates_in(script), "applies": rb.applies_in(script), "submodules": _submodules(job),
            "oidc": frozenset({"azure"}) if any(_azure_cli(step) for step in _steps(job)) else frozenset(),
            "project": _project(job)}


def read(text: str, protected: frozenset[str] = frozenset({"prod"}), release: str = "main",
         numbering: rb.Numbering | None = None,
         pieces: yaml_document.Pieces | None = None) -> rb.PipelineView:
    document = yaml_document.load(text, typed=True, pieces=pieces) or {}
    events = _pipeline_events(document, release)
    stages = document.get("stages") or []
    stage_ids = [stage["stage"] for stage in stages]
    stage_needs = {}
    for index, stage in enumerate(stages):
        depends = stage.get("dependsOn", [stage_ids[index - 1]] if index else [])
        stage_needs[stage["stage"]] = [depends] if isinstance(depends, str) else list(depends or [])
    jobs: dict[str, tuple[str, dict]] = {}
    for stage in stages:
        for job in stage.get("jobs") or []:
            jobs[plan_id(job.get("job") or job.get("deployment"))] = (stage["stage"], job)
    # continueOnError: the job's failure leaves the run going; only a job testing its result waits for its success.
    soft = {job_id for job_id, (_, job) in jobs.items() if str(job.get("continueOnError", "false")).lower() == "true"}
    # A job waits for every job (but those that continue on error) of the stages its stage depends
    # on: one node per stage stands for them and for the stages before it, so the graph stays as
    # large as the file.
    stage_nodes = {stage_id: f"\0{stage_id}" for stage_id in stage_ids}
    direct: dict[str, list[str]] = {stage_nodes[stage_id]: [stage_nodes[need] for need in needs if need in stage_nodes]
                                    for stage_id, needs in stage_needs.items()}
    for job_id, (stage_id, job) in jobs.items():
        depends = job.get("dependsOn") or []
        if job_id not in soft:
            direct[stage_nodes[stage_id]].append(job_id)
        depends = [depends] if isinstance(depends, str) else depends
        direct[job_id] = [need for need in map(plan_id, depends) if need not in soft]
        direct[job_id] += [stage_nodes[need] for need in stage_needs[stage_id] if need in stage_nodes]
        direct[job_id] += checked_results(job.get("condition"))
    numbering = numbering or rb.Numbering()
    nodes = numbering.reach(stage_nodes.values())
    after = {name: reach - nodes for name, reach in rb.closure(direct, numbering).items()}
    stage_runs: dict[str, frozenset[str]] = {}
    for stage in stages:
        needs = stage_needs[stage["stage"]]
        stage_runs[stage["stage"]] = frozenset(event for event in events if runs(
            stage.get("condition"), event, release, all(event in stage_runs.get(need, frozenset()) for need in needs)))
    job_runs: dict[str, frozenset[str]] = {}
    for job_id, (stage_id, job) in jobs.items():  # written in dependency order
        same_stage = [need for need in direct[job_id] if jobs.get(need, ("",))[0] == stage_id]
        job_runs[job_id] = frozenset(event for event in stage_runs[stage_id] if runs(
            job.get("condition"), event, release, all(event in job_runs.get(need, frozenset()) for need in same_stage),
            lambda other, event=event: event in job_runs.get(other, frozenset())))
    asking = numbering.reach(job_id for job_id, (stage_id, job) in jobs.items() if job.get("environment") in protected)
    views = {}
    for job_id, (stage_id, job) in jobs.items():
        views[job_id] = rb.JobView(
            id=job_id, stage=stage_id.lower(), after=after[job_id], events=job_runs[job_id],
            approval=job_id in asking or bool(asking & after[job_id]),
            asks_approval=job_id in asking and not asking & after[job_id],
            **yaml_document.derived(pieces, job, _job_parts))
    conditions = [job.get("condition") for _, job in jobs.values()] + [stage.get("condition") for stage in stages]
    views = _with_wired_outputs(views, conditions, stage_ids)
    trigger = document.get("trigger")
    batch = isinstance(trigger, dict) and str(trigger.get("batch", "false")).lower() == "true"
    pr = document.get("pr")
    cancel = {rb.PULL_REQUEST, rb.PULL_REQUEST_OTHER} if isinstance(pr, dict) and str(
        pr.get("autoCancel", "true")).lower() == "true" else set()
    schedule = (document.get("schedules") or [{}])[0].get("cron")
    return rb.PipelineView(platform="azure", jobs=views, events=events, release_branch=release, schedule=schedule,
                           cancel_superseded=frozenset(cancel) & events, release_runs="queue" if batch else "parallel")


def _azure_cli(step: dict) -> bool:
    """An AzureCLI task: its script runs logged in through the task's service connection."""
    return str(step.get("task", "")).startswith("AzureCLI@")


def _step_script(step: dict) -> str:
    if _azure_cli(step):
        return str((step.get("inputs") or {}).get("inlineScript") or "")
    return str(step.get("bash") or step.get("script") or "")
