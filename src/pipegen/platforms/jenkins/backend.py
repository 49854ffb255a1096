"""Jenkins: a declarative Jenkinsfile for a multibranch pipeline job.

Jenkins runs a pipeline's stages one after another, so each plan stage becomes a
top-level stage whose job graph is cut into chains (a job that is the only one to need
the job before it follows it in the same chain) and the chains into layers: a layer of
several chains is a `parallel` block whose branches run their chain's jobs as sequential
stages, so a job waits for its own chain and earlier layers, not for a whole level of
unrelated jobs (declarative pipelines allow no `parallel` inside a branch). The pipeline holds
no executor of its own (`agent none`); every job's stage asks for an agent, so the PROD
approval (`input`) waits without one.

This module only shapes the plan into a view model; templates/jenkins/Jenkinsfile.j2
prints it, escaping every descriptor-derived string with the `groovy` filters.
"""
from __future__ import annotations

import functools
import re
import shlex

from pipegen.ci.outputs import LOCAL_LEDGER
from pipegen.plan import OUTPUTS_FILE, REPORT_DIR, REPORT_HOST_ENV, EnvKind, EnvValue, Job, Plan, RunWhen, Stage
from pipegen.plan.install import INSTALLER_UV
from pipegen.plan.projects import native_selection
from pipegen.platforms import PATHS
from pipegen.platforms.base import ChecklistItem, Expected, runner_tool_items, template_environment
from pipegen.records import record, replace
from pipegen.syntax import shell_command

TEMPLATE = "Jenkinsfile.j2"
DOCKER_LABEL = "docker"
VENV = ".venv"
# Label expressions with operators need parentheses before `&& docker` is added.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LABEL_OPERATOR = re.compile(r"[|&!()<>\s-]")


@record
class ShStep:
    """One `sh` step: a label for the log and the final shell script."""

    label: str
    script: str


@record
class Credential:
    """A Secret text credential bound to an environment variable by withCredentials."""

    id: str
    variable: str


@record
class StepGroup:
    """Consecutive plan steps that read the same secrets: one withCredentials around them."""

    credentials: tuple[Credential, ...]
    steps: tuple[ShStep, ...]


@record
class EnvEntry:
    """One withEnv entry: NAME=literal, or NAME set from the environment variable `source`."""

    name: str
    literal: str | None = None
    source: str | None = None


@record
class LeafStage:  # pylint: disable=too-many-instance-attributes  # one field per template directive
    """The stage one plan job becomes: an agent, a timeout, a condition and its steps."""

    name: str
    comment: str
    agent: str | None  # label expression; None: any agent
    timeout_minutes: int
    branch: str | None  # run on this branch only
    not_pull_request: bool  # skip in pull-request builds
    unstash: tuple[str, ...]  # stash names of the jobs whose hand-over files this job needs
    setup: tuple[ShStep, ...]  # workspace cleanup, Python install, variable checks: outside any credentials
    env: tuple[EnvEntry, ...]  # withEnv: literal values, and variables under another name
    credentials: tuple[Credential, ...]
    steps: tuple[ShStep, ...]  # the plan's steps, inside withEnv/withCredentials
    step_groups: tuple[StepGroup, ...]  # the same steps, grouped by the secrets they read
    outputs: tuple[str, ...]  # read back into env.NAME after the steps
    stash: str | None
    stash_includes: str
    junit: str | None
    artifacts: str | None
    report_stash: str | None = None  # the report folder, stashed for the final report job
    # The model's chain: a failure is caught (the build still fails) so later stages go on, and
    # success is recorded in this env variable for the stages that need it.
    passed_var: str | None = None
    requires: tuple[str, ...] = ()  # passed_var of each caught job it needs, also transitively
    # Several projects: the folder its steps run in (`dir`), and the Ant patterns of the paths whose
    # change runs it (the build's changeset; every stage runs when the changeset is unknown).
    folder: str | None = None
    changesets: tuple[str, ...] = ()
    report_includes: str = REPORT_DIR + "/**"


@record
class FinalJob:
    """A job run in the pipeline's `post { always }` (the gate report): after every stage,
    also failed ones, on pull requests only, on its own node; it never changes the result."""

    leaf: LeafStage
    report_stashes: tuple[str, ...]  # unstashed when present (a skipped stage stashed nothing)


@record
class Branch:
    """A chain of jobs run one after another; each needs only the one before it in the
    chain and jobs of earlier layers."""

    name: str  # the branch stage's name (unused for a single job)
    jobs: tuple[LeafStage, ...]


@record
class Layer:
    """Chains that only need chains of earlier layers, run in parallel."""

    name: str  # the parallel block's stage name (unused for a single chain)
    branches: tuple[Branch, ...]


@record
class Approval:
    message: str
    submitter: str  # comma-joined Jenkins user ids / group names; "" lets anyone with Build approve
    timeout_minutes: int  # the approval wait plus the stage's own jobs (the timeout wraps both)


@record
class TopStage:
    title: str
    comment: str
    layers: tuple[Layer, ...]
    changesets: tuple[str, ...]  # watched paths: pushes run the stage only when one changed
    approval: Approval | None
    branch: str | None  # with an approval: decided before the input, so other branches never prompt
    not_pull_request: bool


@record
class PipelineView:
    needs_output_helper: bool
    release_branch: str  # builds of it are never aborted by a newer one
    cron: str | None  # with its TZ=UTC line: the descriptor's schedule is in UTC
    cron_branches: tuple[str, ...]  # exact branch names, or (with globs) empty and `cron_branch_regex` set
    cron_branch_regex: str | None
    timeout_minutes: int
    stages: tuple[TopStage, ...]
    final_jobs: tuple[FinalJob, ...] = ()
    submodules: bool = False  # every stage checks out with the git submodules (no default checkout)


class JenkinsBackend:
    name = "jenkins"
    path = PATHS["jenkins"]
    comment = "//"

    def render(self, plan: Plan) -> str:
        view = pipeline_view(native_selection(plan, self.name))
        return template_environment("jenkins").get_template(TEMPLATE).render(view=view)

    def checklist(self, plan: Plan) -> list[ChecklistItem]:
        return checklist(native_selection(plan, self.name))


# ---------------------------------------------------------------------------- layers


def _direct_needs(plan: Plan, stage: Stage) -> dict[str, tuple[str, ...]]:
    """Each job's same-stage needs without those another of them already waits for
    (functional needs unit and integration; integration needs unit: waiting for integration
    is enough), so a job that follows one other job can join its chain."""
    needs = {job.id: plan.same_stage_needs(job) for job in stage.jobs}
    # What each job waits for, as a bit per earlier job of the stage: one pass in plan order
    # (needs come first), an OR per need, so a long stage stays near linear.
    bit = {job.id: 1 << index for index, job in enumerate(stage.jobs)}
    waits: dict[str, int] = {}
    for job in stage.jobs:
        found = 0
        for need in needs[job.id]:
            found |= waits[need] | bit[need]
        waits[job.id] = found
    direct = {}
    for job_id, own in needs.items():
        if len(own) > 1:
            through_others = 0
            for need in own:
                through_others |= waits[need]
            own = tuple(need for need in own if not through_others & bit[need])
        direct[job_id] = own
    return direct


def chains_of(stage: Stage, needs: dict[str, tuple[str, ...]]) -> list[list[Job]]:
    """A stage's jobs as chains, in plan order: a job joins the chain of its one direct
    same-stage need (`needs`: _direct_needs) when it is the only job needing it and that need
    ends the chain."""
    dependants: dict[str, int] = {}
    for job_needs in needs.values():
        for need in job_needs:
            dependants[need] = dependants.get(need, 0) + 1
    chains: list[list[Job]] = []
    chain_of: dict[str, int] = {}
    for job in stage.jobs:  # the plan orders jobs after their same-stage needs
        own = needs[job.id]
        if len(own) == 1 and dependants[own[0]] == 1 and chains[chain_of[own[0]]][-1].id == own[0]:
            chain_of[job.id] = chain_of[own[0]]
            chains[chain_of[job.id]].append(job)
        else:
            chain_of[job.id] = len(chains)
            chains.append([job])
    return chains


def layers_of(plan: Plan, stage: Stage) -> list[list[list[Job]]]:
    """Chains by topological level: a chain's level is one more than the deepest chain one
    of its jobs needs. Earlier stages are done already."""
    needs = _direct_needs(plan, stage)
    chains = chains_of(stage, needs)
    chain_of = {job.id: index for index, chain in enumerate(chains) for job in chain}
    level: list[int] = []
    for index, chain in enumerate(chains):  # a chain only needs chains started before it
        needed = {chain_of[need] for job in chain for need in needs[job.id]} - {index}
        level.append(1 + max((level[other] for other in needed), default=-1))
    layers: list[list[list[Job]]] = [[] for _ in range(1 + max(level, default=-1))]
    for index, chain in enumerate(chains):
        layers[level[index]].append(chain)
    return layers


def _layers_minutes(layers: list[list[list[Job]]]) -> int:
    """Worst-case wall time of sequential layers of parallel chains."""
    return sum(max(sum(job.timeout_minutes for job in chain) for chain in layer) for layer in layers)


# ---------------------------------------------------------------------------- leaf stages


def agent_label(plan: Plan, job: Job) -> str | None:
    label = plan.settings.jenkins.agent
    if not job.docker:
        return label
    if not label:
        return DOCKER_LABEL
    return f"({label}) && {DOCKER_LABEL}" if _LABEL_OPERATOR.search(label) else f"{label} && {DOCKER_LABEL}"


def _pattern(path: str) -> str:
    """An Ant pattern for a kept path: the report folder means everything in it."""
    return f"{path.rstrip('/')}/**" if path.rstrip("/") == REPORT_DIR or path.endswith("/") else path


def _script(*lines: str) -> str:
    return "\n".join(("set -eu", *lines))


def _outermost(paths: list[str]) -> list[str]:
    """Paths in order, without duplicates or paths inside another listed path."""
    kept: list[str] = []
    for path in dict.fromkeys(path.rstrip("/") for path in paths):
        if not any(path.startswith(other + "/") for other in paths if other != path):
            kept.append(path)
    return kept


# uv's and pip's caches survive the venv: the agent's UV_CACHE_DIR / PIP_CACHE_DIR when its
# administrator set one (a volume on ephemeral agents), else a folder beside the job's workspace,
# which lives as long as the workspace and which no checkout or `rm -rf` of the stage touches.
PIP_CACHE_EXPORT = 'export PIP_CACHE_DIR="${PIP_CACHE_DIR:-${WORKSPACE:-$PWD}@pip-cache}"'
UV_CACHE_EXPORT = 'export UV_CACHE_DIR="${UV_CACHE_DIR:-${WORKSPACE:-$PWD}@uv-cache}"'


def _setup_steps(plan: Plan, job: Job) -> tuple[ShStep, ...]:
    """Remove what an earlier build left in a reused workspace (so no stale report or output
    is published), then a fresh venv per stage: agents keep pip's cache (PIP_CACHE_EXPORT),
    not the venv."""
    outputs = [OUTPUTS_FILE, LOCAL_LEDGER] if job.outputs else []
    stale = _outermost([*job.artifacts, *job.junit, *job.hands_over, *outputs])
    lines = [shell_command("rm -rf", *(shlex.quote(path) for path in stale))] if stale else []
    if job.python:
        lines += [f"python{plan.python_of(job)} -m venv --clear {VENV}", f". {VENV}/bin/activate"]
        if job.install_commands():
            uv = (UV_CACHE_EXPORT,) if job.installer == INSTALLER_UV else ()
            lines += [PIP_CACHE_EXPORT, *uv, *job.install_commands()]
        label = f"Python {plan.python_of(job)} venv and dependencies"
    else:
        label = "Clear reports and outputs of earlier builds"
    return (_sh_step(label, tuple(lines)),) if lines else ()


@functools.lru_cache(maxsize=1024)  # most jobs set up the same
def _sh_step(label: str, lines: tuple[str, ...]) -> ShStep:
    return ShStep(label, _script(*lines))


def _check_step(job: Job) -> tuple[ShStep, ...]:
    """Fail early, with a message that says where a value comes from, when a variable the
    job reads is missing (a global property not configured, a stage restarted alone)."""
    lines = []
    for name, value in job.env:
        if value.kind is EnvKind.VARIABLE:  # checked under the name Jenkins has it; withEnv renames it
            lines.append(f': "${{{value.value}:?is not set: define it as a Jenkins global or folder environment '
                         'property}"')
        elif value.kind is EnvKind.OUTPUT:
            lines.append(f': "${{{name}:?is not set: the {value.producer} stage of this run publishes it}}"')
    return (ShStep("Check the variables this stage reads", _script(*lines)),) if lines else ()


def _plan_steps(job: Job) -> tuple[ShStep, ...]:
    activate = (f". {VENV}/bin/activate",) if job.python else ()
    return tuple(ShStep(step.title, _script(*activate, step.run)) for step in job.steps)


def _step_groups(plan: Plan, job: Job, sh_steps: tuple[ShStep, ...]) -> tuple[StepGroup, ...]:
    """Secrets are bound only around the steps that read them (`sh_steps`: the job's steps as
    _plan_steps writes them)."""
    if not any(value.kind is EnvKind.SECRET for _, value in job.env):
        return (StepGroup((), sh_steps),) if sh_steps else ()
    groups: list[StepGroup] = []
    for step, sh_step in zip(job.steps, sh_steps):
        credentials = tuple(Credential(plan.settings.jenkins.credentials_id(value.value), name)
                            for name, value in job.step_env(step) if value.kind is EnvKind.SECRET)
        if groups and groups[-1].credentials == credentials:
            groups[-1] = StepGroup(credentials, groups[-1].steps + (sh_step,))
        else:
            groups.append(StepGroup(credentials, (sh_step,)))
    return tuple(groups)


def _env_entry(name: str, value: EnvValue) -> EnvEntry:
    if value.kind is EnvKind.LITERAL:
        return EnvEntry(name, literal=value.value)
    if not _IDENTIFIER.match(value.value):  # printed as `env.NAME`; the descriptor schema ensures it
        raise ValueError(f"{value.value!r} is not an environment variable name")
    return EnvEntry(name, source=value.value)


def one_line(comment: str) -> str:
    """Comment text for a `//` line: a line break would end the comment mid-text."""
    return " ".join(comment.split())


def stash_name(job_id: str) -> str:
    return f"{job_id}-handover"


def report_stash(plan: Plan, job: Job) -> str | None:
    """Jobs keeping a report folder stash it for a job that collects every report."""
    # the same jobs as plan.report_sources, asked per job
    collected = plan.collects_reports
    return f"reports-{job.id}" if collected and REPORT_DIR in job.artifacts and not job.collects_reports else None


def passed_var(job_id: str) -> str:
    """The env variable a caught stage (the model's chain) sets when it succeeded."""
    return f"PIPEGEN_{job_id.upper().replace('-', '_')}_PASSED"


def leaf_stage(plan: Plan, job: Job) -> LeafStage:
    jenkins = plan.settings.jenkins
    env = tuple(_env_entry(name, value) for name, value in job.env
                if value.kind is EnvKind.LITERAL or (value.kind is EnvKind.VARIABLE and value.value != name))
    if job.review_host:  # Jenkins has no pull requests of its own: the comment goes through the repository host
        env += (EnvEntry(REPORT_HOST_ENV, literal=job.review_host),)
    credentials = tuple(Credential(jenkins.credentials_id(value.value), name)
                        for name, value in job.env if value.kind is EnvKind.SECRET)
    steps = _plan_steps(job)
    return LeafStage(
        name=job.id, comment=one_line(job.comment + _sidecar_note(job)), agent=agent_label(plan, job),
        timeout_minutes=job.timeout_minutes,
        branch=job.branch if job.run_when is RunWhen.BRANCH else None,
        not_pull_request=job.run_when is not RunWhen.ALWAYS,
        unstash=tuple(stash_name(producer) for producer in job.fetches),
        setup=_setup_steps(plan, job) + _check_step(job), env=env, credentials=credentials,
        steps=steps, step_groups=_step_groups(plan, job, steps), outputs=job.outputs,
        stash=stash_name(job.id) if job.hands_over else None, stash_includes=", ".join(job.hands_over),
        junit=", ".join(map(job.at_root, job.junit)) or None,
        artifacts=", ".join(_pattern(job.at_root(path)) for path in job.artifacts) or None,
        report_stash=report_stash(plan, job), report_includes=job.at_root(REPORT_DIR) + "/**",
        folder=job.folder, changesets=project_changesets(plan, job),
        passed_var=None if job.blocks_later_stages else passed_var(job.id),
        # Every model stage it needs, also through other stages: a stage its `when` skipped does
        # not stop the stages after it, so each tests the successes itself.
        requires=tuple(passed_var(need) for need in plan.model_chain_needs(job)))


def project_changesets(plan: Plan, job: Job) -> tuple[str, ...]:
    """A project's job runs when the build's changeset holds one of its paths (its folder, shared
    paths, the projects it depends on, the descriptor) or the Jenkinsfile."""
    globs = dict(plan.project_paths).get(job.project or "")
    return tuple(dict.fromkeys([*globs, JenkinsBackend.path])) if globs else ()


# ---------------------------------------------------------------------------- top-level stages


def _approval(stage: Stage, layers: list[list[list[Job]]]) -> Approval | None:
    approval = next((job.approval for job in stage.jobs if job.approval is not None), None)
    if approval is None:
        return None
    return Approval(message=f"Deploy {stage.title}?", submitter=",".join(approval.approvers),
                    timeout_minutes=approval.timeout_minutes + _layers_minutes(layers))


def _weakest_condition(stage: Stage) -> tuple[str | None, bool]:
    """(branch, not pull request) under which at least one job of the stage runs."""
    whens = {job.run_when for job in stage.jobs}
    branches = {job.branch for job in stage.jobs}
    if whens == {RunWhen.BRANCH} and len(branches) == 1:
        return branches.pop(), True
    return None, RunWhen.ALWAYS not in whens


def top_stage(plan: Plan, stage: Stage, layers: list[list[list[Job]]]) -> TopStage:
    approval = _approval(stage, layers)
    branch, not_pull_request = _weakest_condition(stage) if approval else (None, False)
    return TopStage(
        title=stage.title, comment=one_line(stage.comment),
        layers=tuple(Layer(f"{stage.title}: {' + '.join(' -> '.join(job.id for job in chain) for chain in layer)}",
                           tuple(Branch(f"{stage.title}: {' -> '.join(job.id for job in chain)}",
                                        tuple(leaf_stage(plan, job) for job in chain)) for chain in layer))
                     for layer in layers),
        changesets=plan.triggers.watched_paths if plan.triggers.data_paths else (),
        approval=approval, branch=branch, not_pull_request=not_pull_request)


def pipeline_minutes(stages: tuple[Stage, ...], layers: dict[str, list[list[list[Job]]]]) -> int:
    """The whole run's bound: every layer's slowest chain plus every approval wait (`layers`
    by stage id, as layers_of gives them)."""
    total = 0
    for stage in stages:
        approval = _approval(stage, layers[stage.id])
        total += approval.timeout_minutes if approval else _layers_minutes(layers[stage.id])
    return total


def glob_regex(glob: str) -> str:
    """A Java regex for a branch glob, matching as Jenkins' `branch` condition does (Ant
    style): `*` stays inside one path segment, `**` crosses them."""
    return "".join(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
                   for part in re.split(r"(\*\*|\*)", glob) if part)


def pipeline_view(plan: Plan) -> PipelineView:
    globbed = any("*" in branch for branch in plan.triggers.branches)
    stashes = tuple(name for other in plan.jobs if (name := report_stash(plan, other)))
    stages = staged(plan).stages
    layers = {stage.id: layers_of(plan, stage) for stage in stages}  # for the stages and the run's timeout
    return PipelineView(
        needs_output_helper=any(job.outputs for job in plan.jobs),
        release_branch=next((job.branch for job in plan.jobs if job.stage == "prod" and job.branch),
                            plan.triggers.branches[0] if plan.triggers.branches else "main"),
        cron=f"TZ=UTC\n{plan.triggers.schedule}" if plan.triggers.schedule else None,
        cron_branches=() if globbed else plan.triggers.branches,
        cron_branch_regex="|".join(map(glob_regex, plan.triggers.branches)) if globbed else None,
        timeout_minutes=pipeline_minutes(stages, layers),
        stages=tuple(top_stage(plan, stage, layers[stage.id]) for stage in stages),
        final_jobs=tuple(FinalJob(leaf_stage(plan, job), stashes) for job in plan.jobs if job.always),
        submodules=plan.submodules)


def staged(plan: Plan) -> Plan:
    """The plan without its `always` jobs: those run in the pipeline's post section, since a
    failed stage skips every stage after it."""
    stages = tuple(replace(stage, jobs=kept) for stage in plan.stages
                   if (kept := tuple(job for job in stage.jobs if not job.always)))
    return replace(plan, stages=stages)


# ---------------------------------------------------------------------------- checklist


def _jobs_reading(plan: Plan, name: str) -> str:
    """Jobs that read the secret or variable `name` (under whatever environment name)."""
    return ", ".join(job.id for job in plan.readers_of(name))


def _credential_items(plan: Plan) -> list[ChecklistItem]:
    jenkins = plan.settings.jenkins
    return [ChecklistItem("credentials", jenkins.credentials_id(secret),
                          f"Jenkins credential of kind 'Secret text' with id '{jenkins.credentials_id(secret)}' "
                          f"holding {secret}; withCredentials binds it as ${secret} only inside the steps of "
                          f"{_jobs_reading(plan, secret)} (store it in the multibranch job's folder to scope it)")
            for secret in plan.secrets]


def _variable_items(plan: Plan) -> list[ChecklistItem]:
    return [ChecklistItem("variable", name,
                          f"environment variable {name} (read by {_jobs_reading(plan, name)}): define it under "
                          "Manage Jenkins > System > Global properties > Environment variables, or as a folder "
                          "property of the multibranch job (Folder Properties plugin)")
            for name in plan.variables]


def _environment_items(plan: Plan) -> list[ChecklistItem]:
    items = []
    for name, approval in plan.environments:
        if approval is None:
            detail = f"{name}: no approval; its stage runs as soon as the stages before it pass"
        elif approval.approvers:
            detail = (f"{name}: the input step waits up to {approval.timeout_minutes} minutes for one of "
                      f"{', '.join(approval.approvers)}; each must be a Jenkins user id or a group of your "
                      "security realm, and needs Job/Read on the multibranch job")
        else:
            detail = (f"{name}: approval without approvers: anyone with Job/Build on the job can approve; "
                      "list approvers in the descriptor to restrict the input's submitter")
        expected = Expected(approval=approval is not None, approvers=approval.approvers if approval else ())
        items.append(ChecklistItem("environment", name, detail, expected))
    return items


def _job_items(plan: Plan) -> list[ChecklistItem]:
    triggers = plan.triggers
    discovery = ("discover pull requests (merging with the target branch); trust forks only as far as "
                 "they may run this Jenkinsfile" if triggers.pull_requests else
                 "do not discover pull requests (the descriptor turns pull-request builds off)")
    items = [ChecklistItem(
        "other", "multibranch job",
        f"a Multibranch Pipeline job (Script Path {JenkinsBackend.path}) with a branch source for this repository: "
        f"discover branches, filtered to {', '.join(triggers.branches)}; {discovery}; a webhook or periodic "
        "scan so pushes start builds", Expected(branches=triggers.branches))]
    if triggers.schedule:
        items.append(ChecklistItem(
            "schedule", triggers.schedule,
            f"cron '{triggers.schedule}' in UTC (the trigger's first line, TZ=UTC, overrides the controller's "
            f"time zone) is registered on "
            f"{', '.join(triggers.branches)} by that branch's first build; other branches get no timer"))
    if triggers.data_paths:
        items.append(ChecklistItem(
            "other", "watched paths",
            "pushes run the stages only when a watched path changed since the branch's previous build "
            "(Jenkins changesets), so a failed build's changes are not retried by the next push: "
            "start a build by hand (always runs) to retrain"))
    if plan.project_paths:
        items.append(ChecklistItem(
            "other", "projects' changesets",
            "each project's stages run only when the build's changeset (the commits since the branch's or pull "
            "request's previous build) touched one of its paths, so a failed build's project is not retried by a "
            "next push that changes another project: start a build by hand (every project runs). The schedule and "
            "a build whose changeset is empty (a branch's first build, a rebuild) run every project"))
    if plan.submodules:
        items.append(ChecklistItem(
            "other", "git submodules",
            "every stage checks out the branch source's revision and its git submodules, recursively, fetching the "
            "submodules with the branch source's own credentials (git plugin 5 or later, for scmGit): each "
            "submodule's repository must accept them, over the same protocol as the repository's URL (HTTPS with "
            "HTTPS, SSH with SSH); a submodule those credentials do not reach must be readable without any"))
    history_jobs = [job for job in plan.jobs if job.full_history]
    if history_jobs:
        compare = sorted({job.compare_branch for job in history_jobs if job.compare_branch})
        needs = f"and the compare branch {', '.join(compare)} " if compare else ""
        items.append(ChecklistItem(
            "other", "full history",
            f"{', '.join(job.id for job in history_jobs)} need the full history {needs}in the workspace: in the "
            "branch source's behaviours, no shallow clone, and a refspec that also fetches the target branch "
            "(for example +refs/heads/*:refs/remotes/origin/*)"))
    return items


def _agent_items(plan: Plan) -> list[ChecklistItem]:
    label = plan.settings.jenkins.agent
    where = f"agents labelled '{label}'" if label else "any agent (set settings.jenkins.agent to pin a label)"
    items = [ChecklistItem("other", "agents",
                           f"{where}: a POSIX shell, git, and python{plan.python} with the venv module on "
                           "PATH; uv's and pip's caches persist beside the workspace (UV_CACHE_DIR, PIP_CACHE_DIR)")]
    docker_jobs = [job for job in plan.jobs if job.docker]
    if docker_jobs:
        items.append(ChecklistItem(
            "other", "docker agents",
            f"agents matching '{agent_label(plan, docker_jobs[0])}' (for {', '.join(job.id for job in docker_jobs)}) "
            "with the docker CLI and a daemon the agent user may use"
            + ("" if any(job.secrets for job in docker_jobs) else ", already logged in to the image registry")))
    return items


def _sidecar_note(job: Job) -> str:
    """Declarative Pipeline has no services: the stage says where its containers come from."""
    if not job.services:
        return ""
    names = ", ".join(f"{service.name} ({service.image})" for service in job.services)
    return (f" Needs {names} running beside the agent (a sidecar container or a service on its host, see the "
            "set-up checklist), reached at $<NAME>_HOST and $<NAME>_PORT.")


def _service_items(plan: Plan) -> list[ChecklistItem]:
    """One item per service the tests need: on the agents' host or as a sidecar of the agent pod, at
    localhost and the port the other platforms use, so the tests find it the same way."""
    items: dict[str, ChecklistItem] = {}
    for job in plan.jobs:
        for service in job.services:
            users = ", ".join(other.id for other in plan.jobs if service in other.services)
            env = ", ".join(f"{key}={value}" for key, value in service.env)
            ports = ", ".join(str(port) for port in service.ports) or "its default port"
            items.setdefault(service.name, ChecklistItem(
                "other", f"service {service.name}",
                f"{service.image} reachable from the agents of {users} at localhost:{ports} (a sidecar container "
                f"in the agent's pod, or `docker run -d -p {ports.split(', ')[0]}:{ports.split(', ')[0]}` on the "
                f"agent host){'; started with ' + env if env else ''}; the stages read "
                f"{service.env_prefix}_HOST and {service.env_prefix}_PORT"))
    return list(items.values())


def _plugin_item() -> ChecklistItem:
    return ChecklistItem(
        "other", "plugins",
        "Pipeline (workflow-aggregator: Declarative, Basic Steps, stash), Pipeline: Multibranch with a Git/GitHub/"
        "GitLab/Bitbucket branch source, Credentials Binding, JUnit, Timestamper")


def _report_items(plan: Plan) -> list[ChecklistItem]:
    jenkins = plan.settings.jenkins
    return [ChecklistItem("credentials", jenkins.credentials_id(value.value),
                          f"Jenkins credential of kind 'Secret text' with id '{jenkins.credentials_id(value.value)}': "
                          "a token of the repository host (GitHub: fine-grained, Pull requests read/write; GitLab: "
                          "project access token, api scope; Bitbucket: repository access token, Pull requests "
                          f"write) that {job.id} uses, in the pipeline's post section on pull requests, to keep one "
                          "gate report comment up to date")
            for job in plan.jobs if job.review_comment for _, value in job.env if value.kind is EnvKind.SECRET]


def checklist(plan: Plan) -> list[ChecklistItem]:
    return [*_credential_items(plan), *_report_items(plan), *_variable_items(plan), *_environment_items(plan),
            *_job_items(plan), *_agent_items(plan), *_service_items(plan),
            *runner_tool_items(plan, "the agents that run them"), *_identity_items(plan), _plugin_item()]


def _identity_items(plan: Plan) -> list[ChecklistItem]:
    """Jenkins issues builds no OIDC token: a job with a cloud identity logs in as the agent can."""
    found: dict[str, list[str]] = {}
    for job in plan.jobs:
        if job.identity is not None:
            found.setdefault(job.identity.principal, []).append(job.id)
    return [ChecklistItem("other", f"cloud credentials: {principal}", (
        f"Jenkins gives builds no short-lived OIDC token: {', '.join(jobs)} log in as {principal} only if the "
        "agents that run them can (the agent's own cloud identity: an instance profile, a managed identity, a "
        "GKE workload identity), or through Jenkins credentials your deploy command reads; see the platform "
        "differences.")) for principal, jobs in found.items()]
