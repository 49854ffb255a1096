"""What the Jenkins backend writes, read back into the neutral `PipelineView` with
tree-sitter-groovy (an optional dependency: `pip install 'pipegen-ci[diff]'`). Stages run in
the order written (a parallel block's branches side by side), `when` conditions are evaluated
per event along the stage path, the PROD `input` is the approval, outputs read into `env.NAME`
are visible to every later stage, `withCredentials` scopes secrets to the steps inside it,
and the options give the timeout, the concurrency policy and whether an UNSTABLE result (a
dry-run gate's JUnit failures) stops the stages after it. The scripted stages of the pipeline's
`post { always }` (the gate report) are jobs of the last stage, run after every other one."""
from __future__ import annotations

import fnmatch
import re
from typing import Iterator

from pipegen.platforms import readback as rb, yaml_document
from pipegen.platforms.approvals import ANYONE
from pipegen.platforms.jenkins import structure as js

_REQUIRED_OUTPUT = re.compile(r'\$\{([A-Za-z_]\w*):\?is not set: the ([\w.-]+) stage of this run publishes it\}')
_RELEASE_ONLY = re.compile(r"^env\.BRANCH_NAME\s*([!=]=)\s*'([^']*)'$")
# A caught stage (the model's chain) records its success; a stage testing it waits for that success.
_PASSED = re.compile(r"^env\.(PIPEGEN_\w+_PASSED)\s*==\s*'true'$")


def _changeset_unknown(item) -> bool:
    """`currentBuild.changeSets.isEmpty()`: a project's stage (several projects) also runs when the build's
    changeset is unknown. The view is of a run in which every project changed, as on a schedule, so its
    selection lets it run."""
    return (isinstance(item, js.Call) and item.name == "isEmpty" and isinstance(item.target, js.Ref)
            and item.target.path == "currentBuild.changeSets")


def passed_checks(stage: js.Stage) -> list[str]:
    """The success variables a stage's `when { expression { ... } }` tests."""
    found = []
    for item in stage.when:
        if isinstance(item, js.Call) and item.name == "expression":
            for inner in item.body or []:
                if isinstance(inner, js.Expr) and (match := _PASSED.match(inner.text.strip())):
                    found.append(match.group(1))
    return found


def catches_failure(stage: js.Stage) -> bool:
    return any(isinstance(item, js.Call) and item.name == "catchError" for item in stage.steps or [])


# The pipeline's `post { always }` jobs (the gate report) run after every stage: the plan's last stage.
POST_STAGE = "report"
# Scripted wrappers around a post job's steps: its node, its failure guard, its timeout, its folder.
_POST_WRAPPERS = ("node", "catchError", "timeout", "dir")


def _branch_of(event: str, release: str) -> str:
    return rb.event_branch(event, release) or "PR-1"


def _condition(item, event: str, release: str) -> bool:  # pylint: disable=too-many-return-statements
    if isinstance(item, js.Call):
        name, body = item.name, item.body or []
        if name == "anyOf":
            return any(_condition(inner, event, release) for inner in body)
        if name == "allOf":
            return all(_condition(inner, event, release) for inner in body)
        if name == "not":
            return not all(_condition(inner, event, release) for inner in body)
        if name == "branch":
            pattern = item.args[0] if item.args else item.kwargs.get("pattern", "")
            return event not in rb.PULL_REQUESTS and fnmatch.fnmatchcase(_branch_of(event, release), pattern)
        if name == "changeRequest":
            target = item.kwargs.get("target")
            wanted = rb.OTHER_BRANCH if event == rb.PULL_REQUEST_OTHER else release
            return event in rb.PULL_REQUESTS and (target is None or fnmatch.fnmatchcase(wanted, target))
        if name == "changeset":
            return event in (rb.PUSH_RELEASE, rb.PUSH_OTHER)  # a watched path changed
        if name == "triggeredBy":
            cause = item.args[0] if item.args else item.kwargs.get("cause")
            return (cause == "TimerTrigger" and event == rb.SCHEDULE) or (
                cause == "UserIdCause" and event.startswith("manual"))
        if name == "expression":
            # A model stage's success (see passed_checks), a project's changeset unknown (every project
            # changed), else `currentBuild.previousBuild == null`: a branch's first build only.
            if any(_changeset_unknown(inner) for inner in body):
                return True
            return all(isinstance(inner, js.Expr) and _PASSED.match(inner.text.strip()) for inner in item.body or [])
        if name in ("beforeAgent", "beforeInput", "beforeOptions"):
            return True
    raise rb.ConditionError(f"cannot read the Jenkins `when` condition {item!r}")


def _runs(path: list[js.Stage], events: frozenset[str], release: str,
          known: dict[tuple[int, ...], frozenset[str]]) -> frozenset[str]:
    """The events for which every `when` along the stage path holds; `known`: by the ids of a path's
    stages, the events that pass it, decided once during this read (the outer stages are on the path
    of every stage inside them). Each stage's conditions are tested only for the events that passed
    the stages around it, as a walk of the path per event would."""
    key = tuple(id(stage) for stage in path)
    passed = known.get(key)
    if passed is None:
        outer = _runs(path[:-1], events, release, known) if len(path) > 1 else events
        passed = known[key] = frozenset(event for event in outer
                                        if all(_condition(item, event, release) for item in path[-1].when))
    return passed


def _walk(stage: js.Stage, before: rb.Reach, path: list[js.Stage], found: dict) -> rb.Reach:
    """Records (path, after) for every leaf; returns the leaves inside `stage`."""
    path = [*path, stage]
    numbering = before.numbering
    if stage.steps:
        found[stage.name] = (path, before)
        return rb.Reach(numbering.bit(stage.name), numbering)
    inside = rb.Reach(0, numbering)
    if stage.parallel:
        for child in stage.parallel:
            inside |= _walk(child, before, path, found)
    for child in stage.stages:
        inside |= _walk(child, before | inside, path, found)
    return inside


def aborts_previous(options: list[js.Call], branch: str) -> bool | None:
    """Whether a new build of `branch` aborts the running one (None: builds run side by side)."""
    for option in options:
        if option.name != "disableConcurrentBuilds":
            continue
        abort = option.kwargs.get("abortPrevious", False)
        if isinstance(abort, js.Expr) and (match := _RELEASE_ONLY.match(abort.text.strip())):
            equal = branch == match.group(2)
            abort = equal if match.group(1) == "==" else not equal
        if not isinstance(abort, bool):
            raise rb.ConditionError(f"cannot read disableConcurrentBuilds(abortPrevious: {abort!r})")
        return abort
    return None


def _schedule(triggers: list[js.Call], release: str) -> str | None:
    for trigger in triggers:
        if trigger.name != "cron":
            continue
        spec = trigger.args[0]
        if isinstance(spec, js.Ternary):
            spec = spec.then
        if not isinstance(spec, str) or not spec.strip():
            return None
        lines = [line.strip() for line in spec.strip().splitlines()]
        if lines[0] == "TZ=UTC" or lines[0] == "TZ=Etc/UTC":
            return " ".join(lines[1:])
        return f"{' '.join(lines)} (controller time zone)"
    del release
    return None


def read(text: str, release: str = "main", numbering: rb.Numbering | None = None,
         pieces: yaml_document.Pieces | None = None) -> rb.PipelineView:
    """`pieces`: shared with the read of the other version, so that what a stage says from its own
    text is worked out once for a stage whose text both have (its `Stage` is the same object)."""
    pipeline = js.read_pipeline(text)
    found: dict[str, tuple[list[js.Stage], rb.Reach]] = {}
    before = rb.Reach(0, numbering or rb.Numbering())
    for stage in pipeline.stages:
        before = before | _walk(stage, before, [], found)
    found = _waits(found)
    events = frozenset(rb.EVENTS)  # a multibranch job builds every branch and pull request it discovers
    skips_after_unstable = any(option.name == "skipStagesAfterUnstable" for option in pipeline.options)
    approvals = before.numbering.reach(name for name, (path, _) in found.items()
                                       if any(stage.input is not None for stage in path))
    produced: dict[str, frozenset[str]] = {}
    producers = rb.Reach(0, before.numbering)  # the jobs that publish outputs, so far
    views: dict[str, rb.JobView] = {}
    unstable: dict[str, frozenset[str]] = {}  # leaf -> events in which it may leave the build UNSTABLE
    known: dict[tuple[int, ...], frozenset[str]] = {}  # the events that pass a stage path, decided once
    for name, (path, after) in found.items():
        leaf = path[-1]
        yaml_document.derived(pieces, leaf, js.sh_calls)  # its errors first, as before the conditions'
        job_events = _runs(path, events, release, known)
        job_events -= {event for other, others_events in unstable.items() if other in after for event in others_events}
        local = yaml_document.derived(pieces, leaf, _leaf_parts)
        gates = local["gates"]
        if skips_after_unstable and local["marks_unstable"]:
            unstable[name] = frozenset(event for gate in gates for event in job_events
                                       if gate.mode == "dry-run" or (gate.mode == "auto" and event in rb.PULL_REQUESTS))
        produced[name] = local["outputs"]
        if produced[name]:
            producers |= {name}
        views[name] = rb.JobView(
            id=name, stage=path[0].name.lower(), after=after, events=job_events, environment=None,
            approval=name in approvals, asks_approval=name in approvals and not approvals & after,
            outputs=produced[name], inputs=local["inputs"],
            visible_outputs=frozenset((output, producer) for producer in after & producers
                                      for output in produced[producer]),
            secrets=local["secrets"], steps=local["steps"], timeout_minutes=local["timeout_minutes"], gates=gates,
            applies=local["applies"], submodules=_submodules(leaf, pipeline),
            project=local["project"])
    approvers = tuple(sorted((stage.name.lower(), ", ".join(str(stage.input.get("submitter", "")).split(",")).strip()
                              or ANYONE) for stage in pipeline.stages if stage.input is not None))
    views.update(_post_views(pipeline, views, events, produced))
    return rb.PipelineView(
        platform="jenkins", approvers=approvers, jobs=views, events=events, release_branch=release,
        schedule=_schedule(pipeline.triggers, release),
        cancel_superseded=frozenset(event for event in events
                                    if aborts_previous(pipeline.options, _branch_of(event, release))),
        release_runs={None: "parallel", True: "abort", False: "queue"}[aborts_previous(pipeline.options, release)])


def _project(sh: list[js.ShCall]) -> str | None:
    """The project a stage works for (several projects): the PIPEGEN_PROJECT its withEnv sets."""
    prefix = rb.PROJECT_VARIABLE + "="
    return next((entry.removeprefix(prefix) for call in sh for entry in call.env
                 if isinstance(entry, str) and entry.startswith(prefix)), None)


def _leaf_parts(leaf: js.Stage) -> dict:
    """What a stage that runs steps says from its own text."""
    sh = js.sh_calls(leaf)
    script = "\n".join(call.script for call in sh)
    return {"gates": rb.gates_in(script), "marks_unstable": _marks_unstable(leaf),
            "outputs": frozenset(variable for variable in js.env_assignments(leaf)
                                 if not _PASSED.match(f"env.{variable} == 'true'")),  # success marks are no outputs
            "secrets": frozenset(variable for call in sh for variable in call.credentials),
            "inputs": frozenset((output, producer) for output, producer in _REQUIRED_OUTPUT.findall(script)),
            "steps": tuple(rb.StepView(call.label, frozenset(call.credentials), frozenset(call.credentials))
                           for call in sh),
            "timeout_minutes": leaf.timeout_minutes, "applies": rb.applies_in(script), "project": _project(sh)}


def _waits(found: dict[str, tuple[list[js.Stage], rb.Reach]]) -> dict[str, tuple[list[js.Stage], rb.Reach]]:
    """A stage whose failure is caught (`catchError`) does not stop the stages after it: they
    wait for its success only when their `when` tests it. A stage skipped by its `when` does not
    stop them either, so what an earlier stage tests is not passed on."""
    caught = {name for name, (path, _) in found.items() if catches_failure(path[-1])}
    by_variable = {f"PIPEGEN_{name.upper().replace('-', '_')}_PASSED": name for name in found}
    after: dict[str, rb.Reach] = {}
    for name, (path, before) in found.items():  # in the order the stages run
        required = {by_variable[variable] for variable in passed_checks(path[-1]) if variable in by_variable}
        waits = before - caught
        for other in required:
            waits = waits | {other} | after.get(other, frozenset())
        after[name] = waits
    return {name: (path, after[name]) for name, (path, _) in found.items()}


def _post_condition(condition, event: str) -> bool:
    if isinstance(condition, js.Ref) and condition.path == "env.CHANGE_ID":
        return event in rb.PULL_REQUESTS  # multibranch sets CHANGE_ID on pull request builds only
    raise rb.ConditionError(f"cannot read the Jenkins post condition {condition!r}")


def post_jobs(pipeline: js.Pipeline) -> list[tuple[js.Stage, list]]:
    """The scripted `stage('id') { node { catchError { timeout { steps } } } }` blocks of the
    pipeline's `post { always { script { ... } } }`, as leaf stages, with the `if` conditions
    around each. Such a job runs after every stage, whatever their result."""
    found: list[tuple[js.Stage, list]] = []

    def walk(items: list, conditions: list) -> None:
        for item in items or []:
            if isinstance(item, js.If):
                walk(item.body, [*conditions, item.condition])
            elif isinstance(item, js.Call) and item.name == "script":
                walk(item.body, conditions)
            elif isinstance(item, js.Call) and item.name == "stage" and item.args:
                stage = js.Stage(item.args[0])
                body = item.body or []
                while len(wrappers := [inner for inner in body if isinstance(inner, js.Call)
                                       and inner.name in _POST_WRAPPERS]) == 1 and len(body) == 1:
                    if wrappers[0].name == "timeout":
                        stage.options = [wrappers[0]]
                    body = wrappers[0].body or []
                stage.steps = body
                found.append((stage, conditions))

    walk(pipeline.post.get("always", []), [])
    return found


def _post_views(pipeline: js.Pipeline, views: dict[str, rb.JobView], events: frozenset[str],
                produced: dict[str, frozenset[str]]) -> dict[str, rb.JobView]:
    every = frozenset(views)
    approvals = {name for name, view in views.items() if view.asks_approval}
    found = {}
    for leaf, conditions in post_jobs(pipeline):
        sh = js.sh_calls(leaf)
        found[leaf.name] = rb.JobView(
            id=leaf.name, stage=POST_STAGE, after=every,
            events=frozenset(event for event in events if all(_post_condition(item, event) for item in conditions)),
            approval=bool(approvals), outputs=frozenset(js.env_assignments(leaf)),
            visible_outputs=frozenset((output, producer) for producer in every
                                      for output in produced.get(producer, ())),
            secrets=frozenset(variable for call in sh for variable in call.credentials),
            steps=tuple(rb.StepView(call.label, frozenset(call.credentials), frozenset(call.credentials))
                        for call in sh),
            timeout_minutes=leaf.timeout_minutes, gates=rb.gates_in("\n".join(call.script for call in sh)),
            submodules=_submodules(leaf, pipeline), project=_project(sh))
    return found


def _nested_calls(value) -> Iterator[js.Call]:
    """`value` and every call in its arguments, at any depth."""
    if isinstance(value, js.Call):
        yield value
        for item in [*value.args, *value.kwargs.values()]:
            yield from _nested_calls(item)
    elif isinstance(value, js.Concat):
        for item in value.parts:
            yield from _nested_calls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_calls(item)


def _submodules(leaf: js.Stage, pipeline: js.Pipeline) -> str | None:
    """What the stage's own `checkout` step fetches of the git submodules (its `submodule(...)` extension),
    also through a method of the file that checks out. The implicit checkout of a stage says nothing: the
    branch source's behaviours, outside the file, decide."""
    methods = {method.name: method.invocations for method in pipeline.methods}
    for item, _, _ in js.step_calls(leaf.steps):
        if not isinstance(item, js.Call):
            continue
        calls = methods.get(item.name) or (list(_nested_calls(item)) if item.name == "checkout" else [])
        if not any(call.name == "checkout" for call in calls):
            continue
        for call in calls:
            if call.name == "submodule" and call.kwargs.get("disableSubmodules") is not True:
                return rb.SUBMODULES_RECURSIVE if call.kwargs.get("recursiveSubmodules") is True \
                    else rb.SUBMODULES_TOP_LEVEL
        return None
    return None


def _marks_unstable(leaf: js.Stage) -> bool:
    """A JUnit report with failures marks the build UNSTABLE unless the step opts out."""
    for items in leaf.post.values():
        for item in items or []:
            if isinstance(item, js.Call) and item.name == "junit" and item.kwargs.get(
                    "skipMarkingBuildUnstable") is not True:
                return True
    return False
