"""Azure Pipelines backend: one stage per plan stage, jobs with explicit `dependsOn`,
deployment jobs for environments (approvals are checks on the environment), and job
outputs wired natively through `dependencies` / `stageDependencies` (DESIGN §3).

Python shapes the plan into a small view model; templates/azure/ prints it. Every
descriptor-derived string is escaped by the template filters. Script text never carries
`$(...)` macros or expressions: values reach scripts through `env:`. The descriptor
validator already rejects `$(name)`, `${{` and `$[` in descriptor text for azure targets,
so plain YAML escaping is all literal env values and scripts need.
"""
from __future__ import annotations

import functools
import re
import shlex

from pipegen.plan import REPORT_DIR, REPORT_TOKEN_ENV, EnvKind, EnvValue, Job, Plan, RunWhen, Stage
from pipegen.plan.projects import changed_output
from pipegen.platforms import PATHS, approvals
from pipegen.platforms.base import ChecklistItem, Expected, runner_tool_items, template_environment
from pipegen.records import record
from pipegen.syntax import yaml_block, yaml_expression, yaml_scalar

TEMPLATE = "azure-pipelines.yml.j2"
SCRIPT_PREAMBLE = "set -euo pipefail"
# Azure names for stages, jobs and steps: letters, digits, '_'; not starting with a digit.
_AZURE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_RESERVED_JOB_NAMES = {"deploy"}  # "deploy" is a keyword Azure rejects as a deployment job name
# Cache@2 key segments: a segment containing '.' or '/' is hashed as a file; keep only simple ones.
_CACHE_SEGMENT_SAFE = re.compile(r"^[A-Za-z0-9_./-]+$")
_ARTIFACT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
HANDOVER_DIR = "$(Pipeline.Workspace)/pipegen-handover"
SOURCES_DIR = "$(Build.SourcesDirectory)"
NOT_PULL_REQUEST = "ne(variables['Build.Reason'], 'PullRequest')"
PULL_REQUEST = "eq(variables['Build.Reason'], 'PullRequest')"
_RUN_WHEN_RANK = {RunWhen.ALWAYS: 0, RunWhen.NOT_PULL_REQUEST: 1, RunWhen.PULL_REQUEST: 1, RunWhen.BRANCH: 2}


# ---------------------------------------------------------------------------- view model


@record
class StepView:  # pylint: disable=too-many-instance-attributes  # a flat record the template prints
    """One entry of a job's `steps:`; `kind` picks the template branch."""

    kind: str  # checkout | download-none | bash | task
    display_name: str = ""
    script: str = ""  # bash
    name: str | None = None  # bash: the step name output variables are addressed by
    env: tuple[tuple[str, str], ...] = ()  # bash
    task: str = ""  # task: "Name@major"
    inputs: tuple[tuple[str, str | bool], ...] = ()  # task
    condition: str | None = None
    fetch_depth: int = 1  # checkout
    working_directory: str | None = None  # bash: several projects: the project's folder
    submodules: bool = False  # checkout: the git submodules too, recursively


@record
class JobView:  # pylint: disable=too-many-instance-attributes  # a flat record the template prints
    kind: str  # job | deployment
    id: str
    display_name: str
    comment: str
    timeout_minutes: int
    steps: tuple[StepView, ...]
    depends_on: tuple[str, ...] = ()
    condition: str | None = None
    variables: tuple[tuple[str, str], ...] = ()
    environment: str | None = None
    services: tuple[str, ...] = ()  # container resources started beside the job
    continue_on_error: bool = False  # the model's chain: a failure shows as a warning, later stages go on


@record
class StageView:
    id: str
    display_name: str
    comment: str
    depends_on: tuple[str, ...]
    jobs: tuple[JobView, ...]
    condition: str | None = None


@record
class ContainerView:
    """A `resources.containers` entry a job starts as a service, its ports published on the
    agent: tests reach it at localhost, as on every platform."""

    name: str
    image: str
    ports: tuple[str, ...]
    env: tuple[tuple[str, str], ...]


@record
class PipelineView:
    stages: tuple[StageView, ...]
    pool: tuple[str, str]  # ("vmImage" | "name", value)
    push_branches: tuple[str, ...]
    push_paths: tuple[str, ...] = ()
    pr_branches: tuple[str, ...] = ()  # empty: `pr: none`
    schedule: str | None = None
    variables: tuple[tuple[str, str], ...] = ()
    containers: tuple[ContainerView, ...] = ()


# ---------------------------------------------------------------------------- naming


@functools.lru_cache(maxsize=16384)  # every job id, asked per job, need and step
def azure_id(plan_id: str) -> str:
    """A plan id (lowercase, digits, '-') as an Azure stage/job/step name."""
    name = _AZURE_ID_UNSAFE.sub("_", plan_id)
    if not re.match(r"[A-Za-z_]", name):
        name = "j_" + name
    return name


def job_ids(plan: Plan) -> dict[str, str]:
    """Plan job id -> unique Azure job name (job names are unique per pipeline here)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for job in plan.jobs:
        name = azure_id(job.id)
        if name.lower() in _RESERVED_JOB_NAMES:
            name += "_job"
        while name in used:
            name += "_"
        names[job.id] = name
        used.add(name)
    return names


def stage_id(stage: Stage) -> str:
    return azure_id(stage.title)


def _artifact_name(*parts: str) -> str:
    return "-".join(_ARTIFACT_NAME_UNSAFE.sub("-", part).strip("-") for part in parts)


def handover_artifact(job_id: str) -> str:
    return _artifact_name(job_id, "handover")


# ---------------------------------------------------------------------------- expressions


def _expression_string(text: str) -> str:
    """An Azure expression string literal ('' escapes a quote)."""
    return "'" + text.replace("'", "''") + "'"


def _branch_clause(branch: str) -> str:
    """Build.SourceBranch matches `branch`; a trailing '*' glob becomes a prefix test."""
    if "*" in branch:
        prefix = branch.split("*", 1)[0]
        return f"startsWith(variables['Build.SourceBranch'], {_expression_string('refs/heads/' + prefix)})"
    return f"eq(variables['Build.SourceBranch'], {_expression_string('refs/heads/' + branch)})"


def run_clause(when: RunWhen, branch: str | None) -> str | None:
    """The test of the run (not of the jobs before) a run_when makes; None: every run."""
    if when is RunWhen.ALWAYS:
        return None
    if when is RunWhen.PULL_REQUEST:
        return PULL_REQUEST
    if when is RunWhen.BRANCH and branch:
        # A pull request's SourceBranch is refs/pull/..., so the branch test also excludes PRs.
        return _branch_clause(branch)
    return NOT_PULL_REQUEST


def run_condition(when: RunWhen, branch: str | None, always: bool = False) -> str | None:
    """The `condition:` for a run_when; None keeps Azure's default `succeeded()`; `always`
    also runs after failures (the gate report)."""
    clause = run_clause(when, branch)
    if clause is None:
        return None
    return f"and({'always()' if always and when is RunWhen.PULL_REQUEST else 'succeeded()'}, {clause})"


# Several projects: a project's jobs run when nothing before them failed, so a skipped job of an
# unchanged project (the library a service depends on) does not stop them; `succeeded()` would.
NOTHING_FAILED = ("not(failed())", "not(canceled())")


def changed_reference(plan: Plan, job: Job, ids: dict[str, str]) -> str:
    """The selector's CHANGED_<PROJECT> output for `job`'s project, as a job condition reads it: same
    stage `dependencies.JOB.outputs['STEP.NAME']`, a later stage
    `stageDependencies.STAGE.JOB.outputs['STEP.NAME']` (also in a deployment job's condition)."""
    selector = plan.job(plan.selector or "")
    key = _expression_string(f"{azure_id(selector.output_step or '')}.{changed_output(job.project or '')}")
    if selector.stage == job.stage:
        return f"dependencies.{ids[selector.id]}.outputs[{key}]"
    return f"stageDependencies.{stage_id(plan.stage_of(selector.id))}.{ids[selector.id]}.outputs[{key}]"


def stage_changed_reference(plan: Plan, project: str, ids: dict[str, str]) -> str:
    """The selector's CHANGED_<PROJECT> output as a later stage's condition reads it:
    `dependencies.STAGE.outputs['JOB.STEP.NAME']`."""
    selector = plan.job(plan.selector or "")
    key = _expression_string(f"{ids[selector.id]}.{azure_id(selector.output_step or '')}.{changed_output(project)}")
    return f"dependencies.{stage_id(plan.stage_of(selector.id))}.outputs[{key}]"


def _loosest(jobs: tuple[Job, ...]) -> Job:
    return min(jobs, key=lambda job: _RUN_WHEN_RANK[job.run_when])


def output_reference(plan: Plan, consumer: Job, name: str, producer_id: str, ids: dict[str, str]) -> str:
    """The runtime expression that reads output `name` of `producer_id` in `consumer`'s job variables.

    Same stage: dependencies.JOB.outputs['STEP.NAME']; another stage:
    stageDependencies.STAGE.JOB.outputs['STEP.NAME']. A runOnce deployment job prefixes the
    key with its own job name: outputs['JOB.STEP.NAME'].
    """
    producer = plan.job(producer_id)
    job_name = ids[producer_id]
    key = f"{azure_id(producer.output_step or '')}.{name}"
    if producer.environment:
        key = f"{job_name}.{key}"
    if producer.stage == consumer.stage:
        source = f"dependencies.{job_name}"
    else:
        source = f"stageDependencies.{stage_id(plan.stage_of(producer_id))}.{job_name}"
    return f"$[ {source}.outputs[{_expression_string(key)}] ]"


def env_value(value: EnvValue) -> str:
    """An `env:` value: literals as text, everything else through a variable macro (secret
    variables reach scripts only this way; `$(...)` in env values, never in script text)."""
    if value.kind is EnvKind.LITERAL:
        return value.value
    return f"$({value.value})"


# ---------------------------------------------------------------------------- steps


def _script(text: str) -> str:
    return f"{SCRIPT_PREAMBLE}\n{text.rstrip(chr(10))}\n"


def install_command(job: Job) -> str | None:
    return job.install_script() or None


def _cache_key(plan: Plan, job: Job, uv: bool) -> tuple[str, str]:
    """(key, restoreKeys) for Cache@2: quoted literals, then the files that decide what the job
    installs (hashed): uv's cache keyed on its lock/requirements files, pip's on the requirements."""
    paths = tuple(map(job.at_root, job.cache_files if uv else job.requirements))
    prefix, files = _cache_key_parts(uv, plan.python_of(job), paths)
    job_literal = f'"{job.id}"'
    return f"{prefix} | {job_literal}{files}", f"{prefix} | {job_literal}\n{prefix}"


@functools.lru_cache(maxsize=256)  # jobs share their Python and requirement files
def _cache_key_parts(uv: bool, python: str, paths: tuple[str, ...]) -> tuple[str, str]:
    """The cache key's literals before the job's id, and its files after it (` | file` each)."""
    literals = ["uv" if uv else "pip", '"$(Agent.OS)"', f'"python-{python}"']
    return " | ".join(literals), "".join(f" | {path}" for path in paths if _CACHE_SEGMENT_SAFE.match(path))


def python_steps(plan: Plan, job: Job) -> list[StepView]:
    if not job.python:
        return []
    command = install_command(job)
    uv = job.installs_with_uv()
    key, restore_keys = _cache_key(plan, job, uv)
    cache = ("uv cache", "$(UV_CACHE_DIR)") if uv else ("pip cache", "$(PIP_CACHE_DIR)")
    steps = [
        _use_python(plan.python_of(job)),
        StepView("task", cache[0], task="Cache@2",
                 inputs=(("key", key), ("restoreKeys", restore_keys), ("path", cache[1]))),
    ]
    if command:
        steps.append(_install_step(command, working_directory(job)))
    return steps


@functools.lru_cache(maxsize=64)  # one view per Python version
def _use_python(python: str) -> StepView:
    return StepView("task", f"Python {python}", task="UsePythonVersion@0", inputs=(("versionSpec", python),))


@functools.lru_cache(maxsize=256)  # most jobs install the same
def _install_step(command: str, folder: str | None) -> StepView:
    return StepView("bash", "Install dependencies", script=_script(command), working_directory=folder)


def working_directory(job: Job) -> str | None:
    """Where a job's own commands run: its project's folder (several projects), else the default."""
    return f"{SOURCES_DIR}/{job.folder}" if job.folder else None


def fetch_steps(job: Job) -> list[StepView]:
    if job.collects_reports:
        # Every job keeps its report folder as an artifact (also when it fails): all of their Markdown.
        return [StepView("task", "Fetch every job's reports", task="DownloadPipelineArtifact@2",
                         inputs=(("buildType", "current"), ("itemPattern", "**/*.md"),
                                 ("targetPath", f"{SOURCES_DIR}/{job.at_root(REPORT_DIR)}")))]
    return [StepView("task", f"Fetch files handed over by {producer}", task="DownloadPipelineArtifact@2",
                     inputs=(("buildType", "current"), ("artifactName", handover_artifact(producer)),
                             ("targetPath", SOURCES_DIR)))
            for producer in job.fetches]


def plan_steps(job: Job) -> list[StepView]:
    """Each step maps in only the secrets and variables it reads (plus outputs and literals);
    the report step maps in the build's own token instead."""
    views = []
    for step in job.steps:
        env = tuple((name, env_value(value)) for name, value in job.step_env(step))
        if job.review_comment:
            # The build's own token, mapped into this step only; the build service needs
            # "Contribute to pull requests" (see the checklist). Literals (the project) stay.
            env = (*((name, value) for name, value in env if not value.startswith("$(")),
                   (REPORT_TOKEN_ENV, "$(System.AccessToken)"))
        name = azure_id(step.id) if step.id and step.id == job.output_step else None
        if job.identity is not None and job.identity.cloud == "azure":
            # The task logs in through the workload-identity service connection (a short-lived
            # token, no stored secret) for the length of this script, then logs out.
            folder = (("workingDirectory", working_directory(job) or ""),) if job.folder else ()
            views.append(StepView("task", step.title, task="AzureCLI@2", env=env, name=name, inputs=(
                ("azureSubscription", service_connection(job)), ("scriptType", "bash"),
                ("scriptLocation", "inlineScript"), ("inlineScript", _script(step.run)), *folder)))
        else:
            views.append(StepView("bash", step.title, script=_script(step.run), env=env, name=name,
                                  working_directory=working_directory(job)))
    return views


def service_connection(job: Job) -> str:
    """The workload identity federation service connection a job with an Azure identity uses."""
    identity = job.identity
    return (identity.service_connection if identity and identity.service_connection
            else f"pipegen-{job.environment or job.id}")


def identity_items(plan: Plan) -> list[ChecklistItem]:
    """The service connection (and its federated credential) each Azure identity needs; a job
    with another cloud's identity has no first-party OIDC login here (platform differences)."""
    items: dict[str, ChecklistItem] = {}
    for job in plan.jobs:
        identity = job.identity
        if identity is None:
            continue
        if identity.cloud != "azure":
            items[f"{job.id}-{identity.cloud}"] = ChecklistItem("other", f"{identity.cloud} credentials for {job.id}", (
                f"Azure Pipelines has no first-party {identity.cloud} OIDC login: {job.id} runs without one. Give "
                f"its agents {identity.principal} another way (an agent identity) or log in inside the deploy "
                "command; see the platform differences."))
            continue
        name = service_connection(job)
        users = [other.id for other in plan.jobs if other.identity is not None and service_connection(other) == name]
        items[name] = ChecklistItem("other", f"service connection {name}", (
            f"Project settings > Service connections > New > Azure Resource Manager > Workload identity federation: "
            f"name it {name!r}, for {identity.principal}"
            + (f", subscription {identity.subscription_id}" if identity.subscription_id else "")
            + f"; used by {', '.join(users)} (AzureCLI@2). Its federated credential trusts issuer "
            "https://vstoken.dev.azure.com/<organization id> with subject sc://<organization>/<project>/" + name
            + ". Restrict it: Security > Pipeline permissions, this pipeline only; Approvals and checks as the "
            "environment's."))
    return list(items.values())


def report_steps(job: Job) -> list[StepView]:
    """Test results and reports are kept even when a gate fails the job."""
    steps = []
    if job.junit:
        steps.append(StepView("task", "Publish test results", task="PublishTestResults@2",
                              condition="succeededOrFailed()",
                              inputs=(("testResultsFormat", "JUnit"),
                                      ("testResultsFiles", "\n".join(map(job.at_root, job.junit))),
                                      ("testRunTitle", job.title), ("failTaskOnMissingResultsFile", False))))
    for path in job.artifacts:
        # The attempt number keeps a re-run of a failed job from colliding with its first upload.
        name = _artifact_name(job.id, path) + "-$(System.JobAttempt)"
        steps.append(StepView("task", f"Keep {path}", task="PublishPipelineArtifact@1",
                              condition="succeededOrFailed()",
                              inputs=(("targetPath", job.at_root(path)), ("artifact", name),
                                      ("publishLocation", "pipeline"))))
    return steps


def handover_steps(job: Job) -> list[StepView]:
    """Files later jobs fetch: staged with their relative paths, published as one artifact."""
    if not job.hands_over:
        return []
    # From the repository root, so the fetching job's download (into the root) puts them back in place.
    copies = [f'cp -R --parents {shlex.quote(job.at_root(path))} "$HANDOVER_DIR"/' for path in job.hands_over]
    script = _script("\n".join(['mkdir -p "$HANDOVER_DIR"', *copies]))
    return [
        StepView("bash", "Stage files for later jobs", script=script, env=(("HANDOVER_DIR", HANDOVER_DIR),)),
        StepView("task", "Hand over files to later jobs", task="PublishPipelineArtifact@1",
                 inputs=(("targetPath", HANDOVER_DIR), ("artifact", handover_artifact(job.id)),
                         ("publishLocation", "pipeline"))),
    ]


_DOWNLOAD_NONE = StepView("download-none")


@functools.lru_cache(maxsize=None)  # one view per kind of checkout, shared by every job
def _checkout(full_history: bool, submodules: bool) -> StepView:
    return StepView("checkout", fetch_depth=0 if full_history else 1, submodules=submodules)


def job_steps(plan: Plan, job: Job) -> tuple[StepView, ...]:
    steps = [_checkout(job.full_history, plan.submodules)]
    if job.environment:
        # Deployment jobs download every artifact of the run unless told not to.
        steps.append(_DOWNLOAD_NONE)
    steps += fetch_steps(job) + python_steps(plan, job) + plan_steps(job) + report_steps(job) + handover_steps(job)
    return tuple(steps)


# ---------------------------------------------------------------------------- jobs and stages


def _result_checks(plan: Plan, job: Job, ids: dict[str, str]) -> list[str]:
    """A job needing a job of the model's chain (which continues on error) runs only when that
    job really succeeded: `succeeded()` also accepts SucceededWithIssues."""
    checks = []
    for need in job.needs:
        upstream = plan.job(need)
        if upstream.blocks_later_stages:
            continue
        source = (f"dependencies.{ids[need]}" if upstream.stage == job.stage
                  else f"stageDependencies.{stage_id(plan.stage_of(need))}.{ids[need]}")
        checks.append(f"eq({source}.result, 'Succeeded')")
    return checks


def _with_results(condition: str | None, plan: Plan, job: Job, ids: dict[str, str]) -> str | None:
    checks = _result_checks(plan, job, ids)
    if not checks:
        return condition
    base = condition or "succeeded()"
    inner = base[len("and("):-1] if base.startswith("and(") else base
    return f"and({inner}, {', '.join(checks)})"


def project_condition(plan: Plan, job: Job, ids: dict[str, str], stricter: bool) -> str:
    """A project's job (several projects): only when its project changed, nothing before it failed
    (a skipped job of an unchanged project does not count), and its own run test."""
    parts = ["not(canceled())"] if job.always else list(NOTHING_FAILED)
    parts.append(f"eq({changed_reference(plan, job, ids)}, 'true')")
    clause = run_clause(job.run_when, job.branch) if stricter else None
    parts += ([clause] if clause else []) + _result_checks(plan, job, ids)
    return f"and({', '.join(parts)})"


def job_view(plan: Plan, job: Job, stage_condition_job: Job, ids: dict[str, str]) -> JobView:
    stricter = _RUN_WHEN_RANK[job.run_when] > _RUN_WHEN_RANK[stage_condition_job.run_when]
    if job.project is not None and plan.selector is not None:
        condition = project_condition(plan, job, ids, stricter)
    else:
        condition = _with_results(run_condition(job.run_when, job.branch, job.always) if stricter else None,
                                  plan, job, ids)
    variables = tuple((name, output_reference(plan, job, name, producer, ids)) for name, producer in job.inputs)
    return JobView(
        kind="deployment" if job.environment else "job", id=ids[job.id], display_name=job.title,
        comment=_comment(job.comment), timeout_minutes=job.timeout_minutes, steps=job_steps(plan, job),
        depends_on=tuple(ids[need] for need in plan.same_stage_needs(job)),
        condition=condition, variables=variables, environment=job.environment,
        services=tuple(service.name for service in job.services),
        continue_on_error=not job.blocks_later_stages)


def containers(plan: Plan) -> tuple[ContainerView, ...]:
    """Every service any job starts, once (the levels that need one share its definition)."""
    found: dict[str, ContainerView] = {}
    for job in plan.jobs:
        for service in job.services:
            found.setdefault(service.name, ContainerView(service.name, service.image,
                                                         tuple(f"{port}:{port}" for port in service.ports),
                                                         service.env))
    return tuple(found.values())


def stage_depends_on(plan: Plan, stage: Stage) -> tuple[str, ...]:
    """The previous stage, plus every earlier stage a job reads from or needs: stageDependencies
    only sees stages listed in the consumer stage's dependsOn."""
    # (a project's jobs need the selector: its stage is listed, for the stage's and jobs' conditions)
    needed = {plan.stage_of(need).id for job in stage.jobs for need in plan.earlier_stage_needs(job)}
    previous = plan.previous_stage(stage.id)
    if previous is not None:
        needed.add(previous.id)
    return tuple(stage_id(other) for other in plan.stages if other.id in needed)


def stage_view(plan: Plan, stage: Stage, ids: dict[str, str]) -> StageView:
    # The stage carries the loosest condition of its jobs; a false stage condition skips the
    # stage before its environments' approvals are requested.
    loosest = _loosest(stage.jobs)
    always = all(job.always for job in stage.jobs)
    projects = list(dict.fromkeys(job.project for job in stage.jobs if job.project))
    if plan.selector is not None and projects and all(job.project for job in stage.jobs):
        condition = projects_stage_condition(plan, projects, run_clause(loosest.run_when, loosest.branch), always,
                                             ids)
    else:
        condition = run_condition(loosest.run_when, loosest.branch, always)
    return StageView(
        id=stage_id(stage), display_name=stage.title, comment=_comment(stage.comment),
        depends_on=stage_depends_on(plan, stage), condition=condition,
        jobs=tuple(job_view(plan, job, loosest, ids) for job in stage.jobs))


def projects_stage_condition(plan: Plan, projects: list[str], clause: str | None, always: bool,
                             ids: dict[str, str]) -> str:
    """A stage holding only projects' jobs runs when one of its projects changed: an unchanged
    project's stage is skipped before its environments' checks ask for an approval. A stage whose
    jobs were all skipped (unchanged) does not stop the stages after it."""
    changed = [f"eq({stage_changed_reference(plan, project, ids)}, 'true')" for project in projects]
    parts = ["not(canceled())"] if always else list(NOTHING_FAILED)
    parts += ([clause] if clause else []) + [changed[0] if len(changed) == 1 else f"or({', '.join(changed)})"]
    return f"and({', '.join(parts)})"


def pool_of(plan: Plan) -> tuple[str, str]:
    settings = plan.settings.azure  # type: ignore[attr-defined]
    if settings.pool:
        return ("name", settings.pool)
    return ("vmImage", settings.vm_image or "ubuntu-latest")


def pipeline_view(plan: Plan) -> PipelineView:
    ids = job_ids(plan)
    triggers = plan.triggers
    variables: tuple[tuple[str, str], ...] = ()
    if any(job.python for job in plan.jobs):
        variables = (("PIP_CACHE_DIR", "$(Pipeline.Workspace)/.pip"),)
    if any(job.installs_with_uv() for job in plan.jobs):
        variables = (*variables, ("UV_CACHE_DIR", "$(Pipeline.Workspace)/.uv-cache"))
    return PipelineView(
        stages=tuple(stage_view(plan, stage, ids) for stage in plan.stages), pool=pool_of(plan),
        push_branches=triggers.branches, push_paths=triggers.watched_paths if triggers.data_paths else (),
        pr_branches=triggers.branches if triggers.pull_requests else (), schedule=triggers.schedule,
        variables=variables, containers=containers(plan))


def _comment(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=16384, typed=True)  # filters: asked per value of every job
def yaml_value(value: str | bool) -> str:
    """A block-mapping value: plain when it reads back unchanged (expressions like
    `$[ dependencies.a.outputs['s.X'] ]` stay readable), else quoted."""
    return yaml_expression(value) if isinstance(value, str) else yaml_scalar(value)


@functools.lru_cache(maxsize=16384, typed=True)
def yaml_input(value: str | bool, indent: int) -> str:
    """A task input: multi-line values (file lists, restore keys) as a literal block."""
    if isinstance(value, str) and "\n" in value:
        return yaml_block(value, indent)
    return yaml_value(value)


# ---------------------------------------------------------------------------- backend


def _approval_asked_for_skipped_jobs(plan: Plan, environment_jobs: list[Job]) -> bool:
    """True when an environment's job runs less often than its stage (only the stage
    condition keeps Azure from requesting the environment's approval)."""
    loosest: dict[str, int] = {}  # stage id -> rank of its loosest job, once per stage
    for job in environment_jobs:
        stage = plan.stage_of(job.id)
        if stage.id not in loosest:
            loosest[stage.id] = _RUN_WHEN_RANK[_loosest(stage.jobs).run_when]
        if _RUN_WHEN_RANK[job.run_when] > loosest[stage.id]:
            return True
    return False


def _checklist_environment(plan: Plan, name: str, approval) -> ChecklistItem:
    jobs = [job for job in plan.jobs if job.environment == name]
    branches = sorted({job.branch for job in jobs if job.run_when is RunWhen.BRANCH and job.branch})
    detail = [f"Create the environment {name!r} under Pipelines > Environments and allow this pipeline to use it."]
    if approval is not None:
        approvers = ", ".join(approval.approvers) or "(none named in the descriptor)"
        detail.append(f"Add an 'Approvals' check with approvers: {approvers}; timeout {approval.timeout_minutes} "
                      "minutes. The YAML cannot carry approvals: without this check the deployment runs unapproved.")
        if _approval_asked_for_skipped_jobs(plan, jobs):
            detail.append("Azure evaluates checks before job conditions: runs that reach this stage but skip "
                          f"its {name!r} jobs (pull requests) still wait for this approval.")
    if branches:
        refs = ", ".join(f"refs/heads/{branch}" for branch in branches)
        detail.append(f"Add a 'Branch control' check allowing only {refs} (the stage condition alone is editable "
                      "by anyone who can push YAML).")
    expected = Expected(approval=approval is not None, approvers=approval.approvers if approval else (),
                        branches=tuple(branches))
    return ChecklistItem("environment", name, " ".join(detail), expected)


class AzureBackend:
    name = "azure"
    path = PATHS["azure"]
    comment = "#"

    def render(self, plan: Plan) -> str:
        environment = template_environment("azure")
        environment.filters.update(yaml_value=yaml_value, yaml_input=yaml_input)
        # Approvals checks live on the environments: the file says which environments need them.
        return approvals.comment_block(plan) + "\n" + environment.get_template(TEMPLATE).render(
            pipeline=pipeline_view(plan), plan=plan)

    def checklist(self, plan: Plan) -> list[ChecklistItem]:
        items = [ChecklistItem("secret", name, "Add as a secret pipeline variable (Pipelines > Edit > Variables, "
                                               "'Keep this value secret'). Azure never exposes secrets to scripts "
                                               "by itself; the file maps it into the steps' env by name. (A variable "
                                               "group would need a `variables: - group:` entry pipegen does not "
                                               "emit.)")
                 for name in plan.secrets]
        items += [ChecklistItem("variable", name, "Add as a pipeline variable (not secret). If it is missing, "
                                                  f"scripts receive the literal text $({name}).")
                  for name in plan.variables]
        items += [_checklist_environment(plan, name, approval) for name, approval in plan.environments]
        items += identity_items(plan)
        if plan.triggers.schedule:
            items.append(ChecklistItem("schedule", plan.triggers.schedule,
                                       "The schedule lives in the YAML (cron in UTC). Leave the pipeline's UI "
                                       "triggers without schedules: UI schedules override the YAML ones."))
        if plan.triggers.pull_requests:
            items.append(ChecklistItem("other", "pull request validation",
                                       "`pr:` applies to GitHub and Bitbucket Cloud repositories. For Azure Repos "
                                       "Git, add a 'Build validation' branch policy on "
                                       f"{', '.join(plan.triggers.branches)} that runs this pipeline."))
        if any(job.review_comment for job in plan.jobs):
            items.append(ChecklistItem(
                "other", "Contribute to pull requests",
                "Project settings > Repositories > (the repository) > Security: allow '<project> Build Service "
                "(<organization>)' to 'Contribute to pull requests', so the report-comment job's "
                "System.AccessToken can create and update its pull request thread (without it the report goes "
                "to the run's summary tab). The token is mapped into that one step only."))
        if plan.submodules:
            items.append(ChecklistItem(
                "other", "git submodules",
                "every job's checkout fetches the git submodules, recursively, with the pipeline's access token "
                "(persistCredentials is false). It reads the Azure Repos repositories of this organization that "
                "'<project> Build Service (<organization>)' may read: give it Read on the submodules' repositories "
                "(with 'Limit job authorization scope to current project' on, only this project's repositories "
                "qualify). A submodule on another host must be readable without credentials."))
        items += self._agent_items(plan)
        azure = plan.settings.azure
        items += runner_tool_items(plan, "the agents of " + (f"pool {azure.pool!r}" if azure.pool
                                                             else f"vmImage {azure.vm_image!r}"))
        return items

    @staticmethod
    def _agent_items(plan: Plan) -> list[ChecklistItem]:
        items = []
        for job in plan.jobs:
            if job.docker and any("docker login" in step.run for step in job.steps):
                items.append(ChecklistItem("other", f"Docker for {job.id}",
                                           f"Job {job.id} runs docker login/build/push: the agent needs a Docker "
                                           "daemon (Microsoft-hosted Ubuntu images have one); the job logs in to the "
                                           "registry with the username and password secrets listed above."))
            elif job.docker:
                items.append(ChecklistItem("other", f"Docker for {job.id}",
                                           f"Job {job.id} runs docker build/push: the agent needs a Docker daemon "
                                           "(Microsoft-hosted Ubuntu images have one) and must already be logged in "
                                           "to the registry, because the generated file has no login step: use a "
                                           "self-hosted pool (settings.azure.pool) whose agents are logged in."))
        if any(job.gate == "sonar" for job in plan.jobs):
            items.append(ChecklistItem("other", "Sonar",
                                       "No SonarQube service connection is needed: the scanner and `pipegen gate "
                                       "sonar` read the host URL variable and the token secret listed above."))
        return items
