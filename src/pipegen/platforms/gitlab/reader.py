"""What the GitLab backend writes, read back into the neutral `PipelineView`: `workflow:rules`
and each job's `rules:` evaluated per event (first match wins, as GitLab does), stages and
`needs:`, the manual approval job folded into the jobs that wait for it, dotenv outputs and
which jobs receive them (`needs: artifacts:` / `dependencies:`), timeouts and the auto-cancel
policy. GitLab exposes every CI/CD variable to every job (scoping lives in the project
settings), so secrets are not per job here (`None`)."""
from __future__ import annotations

import re


from pipegen.platforms import readback as rb, yaml_document

_TOKEN = re.compile(r'(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\')|(?P<re>/(?:[^/\\]|\\.)*/)'
                    r"|(?P<op>&&|\|\||==|!=|=~|!~|!|\(|\))|(?P<word>\$?[A-Za-z_]\w*)")
_KEYWORDS = {"stages", "variables", "workflow", "default", "include", "image", "services", "cache", "before_script",
             "after_script"}
_OUTPUT_SET = re.compile(r"pipegen output set ([A-Za-z_]\w*)")
_DURATION = re.compile(r"(\d+)\s*(h|m|min|minutes?|hours?)")
_DECLARED_INPUT = re.compile(r"^# Reads ([A-Za-z_]\w*) from ([\w.-]+) \(dotenv report\)\.")
_JOB_KEY = re.compile(r"^([\w.-]+):\s*$")


def declared_inputs(text: str) -> dict[str, set[tuple[str, str]]]:
    """The outputs each job says (in the comment above its key) it reads, and from whom: a
    dotenv file names its variables only at run time, so the generator states the wiring."""
    declared: dict[str, set[tuple[str, str]]] = {}
    pending: set[tuple[str, str]] = set()
    for line in text.splitlines():
        if line[:1] in ("", " "):  # neither a comment nor a job's key (most lines: the jobs' bodies)
            if pending:
                pending = set()
            continue
        if match := _DECLARED_INPUT.match(line):
            pending.add((match.group(1), match.group(2)))
        elif match := _JOB_KEY.match(line):
            declared[match.group(1)] = pending
            pending = set()
        elif not line.startswith("#"):
            pending = set()
    return declared


def _variables(event: str, release: str) -> dict[str, str]:
    branch = rb.event_branch(event, release)
    source = "merge_request_event" if event in rb.PULL_REQUESTS else "schedule" if event == rb.SCHEDULE else (
        "web" if event.startswith("manual") else "push")
    values = {"CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": release}
    if branch:
        values.update(CI_COMMIT_BRANCH=branch, CI_COMMIT_REF_NAME=branch)
    else:
        target = rb.OTHER_BRANCH if event == rb.PULL_REQUEST_OTHER else release
        values.update(CI_MERGE_REQUEST_TARGET_BRANCH_NAME=target, CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=rb.OTHER_BRANCH,
                      CI_COMMIT_REF_NAME=rb.OTHER_BRANCH)
    if event in (rb.PUSH_RELEASE, rb.PUSH_OTHER):
        values["CI_COMMIT_BEFORE_SHA"] = "1" * 40  # a push with a known previous commit
    return values


def _matches(rule: dict, variables: dict[str, str], known: dict[str, bool] | None = None) -> bool:
    """Whether the rule's `if:` holds; `known`: conditions already evaluated with these variables
    (a pipeline repeats a few conditions over every job)."""
    condition = rule.get("if")
    if condition is None:
        return True
    if known is not None and isinstance(condition, str):
        found = known.get(condition)
        if found is None:
            found = known[condition] = _holds(condition, variables)
        return found
    return _holds(condition, variables)


def _holds(condition: str, variables: dict[str, str]) -> bool:
    def lookup(word: str) -> object:
        if not word.startswith("$"):
            raise rb.ConditionError(f"cannot read a GitLab rule: unexpected {word!r}")
        return variables.get(word[1:]) or None

    return bool(rb.Expression(condition, lookup, _TOKEN).value())


def decide(rules: list[dict] | None, variables: dict[str, str], known: dict[str, bool] | None = None) -> str:
    """`never`, `manual`, or `on_success` for one pipeline; the first matching rule decides."""
    if rules is None:
        return "on_success"
    for rule in rules:
        if _matches(rule, variables, known):
            return rule.get("when", "on_success")
    return "never"


def _minutes(text: str | None) -> int | None:
    if not text:
        return None
    return sum(int(number) * (60 if unit.startswith("h") else 1) for number, unit in _DURATION.findall(str(text)))


def _needs(job: dict) -> list[tuple[str, bool]] | None:
    if "needs" not in job:
        return None
    # `artifacts: false` loads as a bool; a hand-edited file may quote it
    return [(need, True) if isinstance(need, str) else (need["job"],
                                                        str(need.get("artifacts", True)).lower() != "false")
            for need in job["needs"]]


def _script(job: dict) -> str:
    return "\n".join(str(line) for key in ("before_script", "script") for line in job.get(key) or [])


def _script_parts(job: dict) -> tuple[tuple[rb.GateView, ...], frozenset[str]]:
    """The gates the job's script runs and what it applies."""
    script = _script(job)
    return rb.gates_in(script), rb.applies_in(script)


def _is_approval(job: dict) -> bool:
    environment = job.get("environment")
    return isinstance(environment, dict) and environment.get("action") == "prepare" and any(
        rule.get("when") == "manual" for rule in job.get("rules") or [])


def read(text: str, release: str = "main", numbering: rb.Numbering | None = None,
         pieces: yaml_document.Pieces | None = None) -> rb.PipelineView:
    document = yaml_document.load(text, typed=True, pieces=pieces) or {}
    stages = document.get("stages") or ["build", "test", "deploy"]
    jobs = {name: body for name, body in document.items()
            if name not in _KEYWORDS and not name.startswith(".") and isinstance(body, dict)}
    workflow_rules = (document.get("workflow") or {}).get("rules")
    events = frozenset(event for event in rb.EVENTS
                       if decide(workflow_rules, _variables(event, release)) != "never")
    rank = {stage: index for index, stage in enumerate(stages)}
    # A job without `needs:` waits for every job of the earlier stages: one node per stage stands
    # for them (the stage before's jobs and node), so the graph stays as large as the file.
    stage_nodes = [f"\0{stage}" for stage in stages]
    direct: dict[str, list[str]] = {node: [] if index == 0 else [stage_nodes[index - 1]]
                                    for index, node in enumerate(stage_nodes)}
    needs_of: dict[str, list[tuple[str, bool]] | None] = {}
    for name, job in jobs.items():
        needs = needs_of[name] = _needs(job)
        stage_rank = rank[job.get("stage", "test")]
        if stage_rank + 1 < len(stage_nodes):
            direct[stage_nodes[stage_rank + 1]].append(name)
        direct[name] = [need for need, _ in needs] if needs is not None else [stage_nodes[stage_rank]]
    numbering = numbering or rb.Numbering()
    nodes = numbering.reach(stage_nodes)
    after = {name: reach - nodes for name, reach in rb.closure(direct, numbering).items()}
    runs: dict[str, frozenset[str]] = {}
    variables = {event: _variables(event, release) for event in events}  # the same for every job
    known: dict[str, dict[str, bool]] = {event: {} for event in events}
    for name in sorted(jobs, key=lambda job: (rank[jobs[job].get("stage", "test")], len(after[job]))):
        runs[name] = frozenset(
            event for event in events
            if decide(jobs[name].get("rules"), variables[event], known[event]) != "never"
            and all(event in runs.get(need, events) for need, _ in (needs_of[name] or [])))
    declared = declared_inputs(text)
    outputs = {name: frozenset(_OUTPUT_SET.findall(_script(job))) | {
        output for wanted in declared.values() for output, producer in wanted if producer == name}
        for name, job in jobs.items() if ((job.get("artifacts") or {}).get("reports") or {}).get("dotenv")}
    approvals = numbering.reach(name for name, job in jobs.items() if _is_approval(job))
    # The jobs that wait for an approval: a job asks for it when none of those comes before it.
    approved = numbering.reach(name for name in jobs if approvals & after[name])
    views = {}
    for name, job in jobs.items():
        if name in approvals:
            continue
        visible = frozenset((output, producer) for producer in _artifact_sources(name, job, jobs, rank)
                            for output in outputs.get(producer, ()))
        gates, applies = yaml_document.derived(pieces, job, _script_parts)
        environment = job.get("environment")
        views[name] = rb.JobView(
            id=name, stage=job.get("stage", "test"), after=after[name] - approvals,
            events=runs[name], environment=environment.get("name") if isinstance(environment, dict) else environment,
            approval=bool(approvals & after[name]),
            # One manual job approves the run; a job "asks" when it is the first to wait for it.
            asks_approval=bool(approvals & set(direct[name])) and not (after[name] - approvals) & approved,
            outputs=outputs.get(name, frozenset()),
            inputs=frozenset(declared.get(name, ())),
            visible_outputs=visible, secrets=None, timeout_minutes=_minutes(job.get("timeout")),
            gates=gates, applies=applies, submodules=_submodules(document, job),
            project=rb.project_of(job.get("variables")), oidc=_oidc(job, _script(job)))
    auto_cancel = ((document.get("workflow") or {}).get("auto_cancel") or {}).get("on_new_commit", "conservative")
    cancel = frozenset() if auto_cancel == "none" else frozenset({rb.PUSH_RELEASE, rb.PUSH_OTHER, *rb.PULL_REQUESTS})
    return rb.PipelineView(platform="gitlab", approvers=None, jobs=views, events=events, release_branch=release,
                           schedule=None,
                           cancel_superseded=cancel & events, release_runs="parallel")


# What each cloud's SDK reads the job's token through (pipegen.platforms.gitlab.identity).
_CLOUD_MARKERS = {"azure": "AZURE_FEDERATED_TOKEN_FILE=", "aws": "AWS_WEB_IDENTITY_TOKEN_FILE=",
                  "gcp": "GOOGLE_APPLICATION_CREDENTIALS="}


def _oidc(job: dict, script: str) -> frozenset[str]:
    """Only a job with `id_tokens:` gets an OIDC token; the clouds its script hands it to."""
    if not job.get("id_tokens"):
        return frozenset()
    return frozenset(cloud for cloud, marker in _CLOUD_MARKERS.items() if marker in script) \
        or frozenset({rb.TOKEN_UNUSED})


_SUBMODULE_STRATEGIES = {"recursive": rb.SUBMODULES_RECURSIVE, "normal": rb.SUBMODULES_TOP_LEVEL}


def _submodules(document: dict, job: dict) -> str | None:
    """GIT_SUBMODULE_STRATEGY as the job sees it: its own variables over the pipeline's (no checkout with
    GIT_STRATEGY none)."""
    values = {**_mapping(document.get("variables")), **_mapping(job.get("variables"))}

    def value(name: str) -> str:
        found = values.get(name)
        return str(found.get("value", "") if isinstance(found, dict) else found or "")
    if value("GIT_STRATEGY") == "none":
        return None
    return _SUBMODULE_STRATEGIES.get(value("GIT_SUBMODULE_STRATEGY"))


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _artifact_sources(name: str, job: dict, jobs: dict, rank: dict) -> list[str]:
    """The jobs whose artifacts (and so dotenv outputs) this job receives."""
    needs = _needs(job)
    if needs is not None:
        return [need for need, artifacts in needs if artifacts]
    if "dependencies" in job:
        return list(job["dependencies"] or [])
    return [other for other, body in jobs.items() if other != name
            and rank[body.get("stage", "test")] < rank[job.get("stage", "test")]]
