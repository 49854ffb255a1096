"""GitLab CI backend: the plan as `.gitlab-ci.yml`.

Python shapes the plan into a view model (dataclasses below); templates/gitlab/ prints it.
GitLab facts this module encodes (DESIGN §3):
- a job with `needs:` starts as soon as its needs finish and ignores stage order, so stage
  entry jobs keep stage ordering (`dependencies:` only selects artifacts), and jobs behind an
  approval need the manual approval job, which itself waits for the earlier stages;
- outputs travel as dotenv reports to jobs that need (or, by stage order, depend on) the producer;
- `rules:` expressions have no escape sequences: strings are quoted with a quote they do not
  contain, globs become RE2 regexes;
- `rules:changes` globs use Ruby's fnmatch, where a trailing `**` matches one level only.
"""
from __future__ import annotations

import functools
import re
import shlex
import textwrap

from pipegen.ci.outputs import OUTPUTS_FILE
from pipegen.descriptor.model import Approval, GitlabSettings
from pipegen.gates.compare_branch import branch_name
from pipegen.plan import EnvKind, Job, Plan, RunWhen
from pipegen.platforms.identity import job_branches, trust_items
from pipegen.platforms.gitlab.identity import TOKEN_VARIABLE, login_script
from pipegen.pins.images import is_pinned, pinned, python_image
from pipegen.plan.install import INSTALLER_UV
from pipegen.plan.projects import without_selector
from pipegen.platforms import PATHS
from pipegen.platforms.base import ChecklistItem, Expected, runner_tool_items, template_environment
from pipegen.records import record, replace

TEMPLATE = "gitlab-ci.yml.j2"
# Docker-in-Docker for the image build; pinned by digest (images/catalog.yaml, pipegen.pins.images)
# so neither a runner upgrade nor a moved tag changes the build.
DOCKER_VERSION = "27.5.1"
DOCKER_IMAGE = pinned(f"docker:{DOCKER_VERSION}-cli")
DIND_SERVICE = pinned(f"docker:{DOCKER_VERSION}-dind")
PIP_CACHE_PATH = ".cache/pip"
UV_CACHE_PATH = ".cache/uv"
ARTIFACTS_EXPIRE = "30 days"  # outlives an approval that waits a few days (dotenv outputs are artifacts)
APPROVAL_TIMEOUT = "10m"
MR_PIPELINE = '$CI_PIPELINE_SOURCE == "merge_request_event"'
# Top-level keys GitLab reads as configuration, not jobs ("pages" would publish GitLab Pages).
RESERVED_KEYS = frozenset({"image", "services", "stages", "types", "before_script", "after_script", "variables",
                           "cache", "include", "default", "workflow", "spec", "pages"})
DEPLOYMENT_TIERS = {"test": "testing", "qa": "staging", "prod": "production"}
RUN_WHEN_RANK = {RunWhen.ALWAYS: 0, RunWhen.NOT_PULL_REQUEST: 1, RunWhen.PULL_REQUEST: 1, RunWhen.BRANCH: 2}
_REGEX_SPECIAL = set(r"\.^$|?*+()[]{}/" + "\"'")


# ---------------------------------------------------------------------------- view model


@record
class Rule:
    """One `rules:` / `workflow:rules:` entry; `condition` is a GitLab `if:` expression."""

    comment: str
    condition: str | None = None
    changes: tuple[str, ...] = ()
    when: str | None = None
    allow_failure: bool | None = None


@record
class Need:
    job: str
    artifacts: bool  # true only for producers whose dotenv outputs or handed-over files this job reads
    optional: bool = False  # the needed job may be absent where this one runs


@record
class Variable:
    name: str
    value: str
    expand: bool = True


@record
class ServiceView:
    """A `services:` entry: an image alone (the dind daemon), or with the alias the job reaches
    it by and the variables the container starts with."""

    image: str
    alias: str | None = None
    variables: tuple[tuple[str, str], ...] = ()


@record
class Command:
    title: str  # one line, printed as a comment above the command
    run: str  # final shell


@record
class Artifacts:
    paths: tuple[str, ...]
    junit: tuple[str, ...]
    dotenv: str | None
    when: str | None  # "always": keep reports of a failed gate
    cyclonedx: tuple[str, ...] = ()  # CycloneDX SBOMs: GitLab's dependency list reads them


@record
class Environment:
    name: str
    action: str | None  # None: start (a deployment)
    tier: str | None


@record
class InstallCache:
    """A job's installer cache (uv's, and pip's, which installs uv): one key per install set,
    filled by the one job (`owner`) that installs it and read by jobs whose installs it covers
    (`policy: pull`)."""

    prefix: str
    files: tuple[str, ...]  # GitLab hashes at most two files into the key
    owner: str  # job key of the job that pushes this cache
    pull_only: bool
    paths: tuple[str, ...] = (PIP_CACHE_PATH,)


@record
class JobView:  # pylint: disable=too-many-instance-attributes
    """Everything the template prints for one job, in the order it prints it."""

    key: str
    stage: str
    comment: tuple[str, ...]
    timeout: str
    image: str | None = None
    services: tuple[ServiceView, ...] = ()
    interruptible: bool | None = None  # None: inherit `default: interruptible: true`
    rules: tuple[Rule, ...] = ()
    needs: tuple[Need, ...] | None = None  # None: stage ordering
    dependencies: tuple[str, ...] | None = None  # artifacts to download under stage ordering
    environment: Environment | None = None
    resource_group: str | None = None
    variables: tuple[Variable, ...] = ()
    cache: InstallCache | None = None  # None: no cache (the job installs nothing)
    before_script: tuple[Command, ...] = ()
    script: tuple[Command, ...] = ()
    artifacts: Artifacts | None = None
    id_tokens: tuple[tuple[str, str], ...] = ()  # (variable, audience): the job's OIDC token


@record
class StageView:
    id: str
    title: str
    comment: str
    jobs: list[JobView]


# ---------------------------------------------------------------------------- expressions and paths


def expression_string(value: str) -> str:
    """A string literal for a `rules:if` expression. GitLab's lexer has no escapes, so use a
    quote the value does not contain; with both, fall back to an anchored regex."""
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return "/^" + "".join("\\" + char if char in _REGEX_SPECIAL else char for char in value) + "$/"


def glob_regex(pattern: str) -> str:
    """An RE2 literal for a branch glob: `*` within one path segment, `**` across segments."""
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join({"**": ".*", "*": "[^\\/]*"}.get(part) or
                   "".join("\\" + char if char in _REGEX_SPECIAL else char for char in part) for part in parts)
    return f"/^{body}$/"


def branch_condition(branch: str, variable: str = "$CI_COMMIT_BRANCH") -> str:
    if "*" in branch:
        return f"{variable} =~ {glob_regex(branch)}"
    literal = expression_string(branch)
    operator = "=~" if literal.startswith("/") else "=="
    return f"{variable} {operator} {literal}"


def changes_path(path: str) -> str:
    """GitLab matches `rules:changes` with Ruby fnmatch: `dir/**` is one level, `dir/**/*` is all."""
    return path + "/*" if path.endswith("**") else path


def one_line(text: str) -> str:
    return " ".join(text.split())


@functools.lru_cache(maxsize=4096)  # jobs share their install and set-up commands
def command(title: str, run: str) -> Command:
    """A script entry. Multi-line scripts stop at the first failing line and on unset variables."""
    return Command(one_line(title), "set -eu\n" + run if "\n" in run.strip("\n") else run)


@functools.lru_cache(maxsize=1024)  # jobs share comments; wrapping is a tenth of rendering
def comment_lines(text: str) -> tuple[str, ...]:
    """A comment wrapped for PR diffs (YAML comments end at the line break)."""
    return tuple(textwrap.wrap(one_line(text), width=100)) or ("",)


# ---------------------------------------------------------------------------- workflow


ZERO_SHA = "0" * 40
KNOWN_BEFORE_SHA = f'$CI_COMMIT_BEFORE_SHA && $CI_COMMIT_BEFORE_SHA != "{ZERO_SHA}"'
UNKNOWN_BEFORE_SHA = f'($CI_COMMIT_BEFORE_SHA == null || $CI_COMMIT_BEFORE_SHA == "{ZERO_SHA}")'


def workflow_rules(plan: Plan) -> list[Rule]:
    triggers = plan.triggers
    rules = []
    if triggers.pull_requests:
        targets = " || ".join(branch_condition(branch, "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
                              for branch in triggers.branches)
        rules.append(Rule(f"Merge request pipelines into {', '.join(triggers.branches)} always run (as GitHub and "
                          "Azure run pull requests into the trigger branches only).",
                          f"{MR_PIPELINE} && ({targets})" if targets else MR_PIPELINE))
    if triggers.schedule:
        rules.append(Rule(f"Scheduled runs (cron {triggers.schedule} lives in Build > Pipeline schedules).",
                          '$CI_PIPELINE_SOURCE == "schedule"'))
    rules.append(Rule("Manual runs (Build > Pipelines > Run pipeline).", '$CI_PIPELINE_SOURCE == "web"'))
    if triggers.pull_requests:
        rules.append(Rule("A branch with an open merge request runs the merge request pipeline only (no duplicate).",
                          "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", when="never"))
    changes = tuple(dict.fromkeys(changes_path(path) for path in triggers.watched_paths))
    for branch in triggers.branches:
        push = f'$CI_PIPELINE_SOURCE == "push" && {branch_condition(branch)}'
        if not changes:
            rules.append(Rule(f"Pushes to {branch}.", push))
            continue
        rules.append(Rule(f"Pushes to {branch} whose previous commit GitLab knows: only when a watched path changed.",
                          f"{push} && {KNOWN_BEFORE_SHA}", changes))
        # GitLab itself treats every path as changed when it has no previous commit to compare
        # with (a branch's first push); saying so explicitly keeps the rule set readable and
        # lets tools that cannot diff (gitlab-ci-local) evaluate it.
        rules.append(Rule(f"The first push to {branch} (nothing to compare with) runs.",
                          f"{push} && {UNKNOWN_BEFORE_SHA}"))
    return rules


def install_caches(plan: Plan, keys: dict[str, str]) -> dict[str, InstallCache]:
    """Plan id -> installer cache, for jobs that install something. Each job reads the cache of
    the first job (in plan order) that installs all it installs, maybe itself; only that job
    pushes it. uv's and pip's caches are content-addressed, so reading a larger cache is safe,
    and every cache has exactly one writer (no jobs racing to upload the same key). The key's
    files: the requirements files the owner installs, else the lock or manifest it is keyed on."""
    # A project's files are its folder's (several projects in one repository): never another folder's cache.
    installs = {job.id: frozenset((*job.requirements, *job.pip_packages, *job.project_install, job.editable,
                                   ("folder", job.folder),
                                   *((job.pipegen, job.pipegen_needs_python) if job.pipegen else ())))
                for job in plan.jobs if job.python and job.install_commands()}
    # Compared per distinct install set (a few, however many jobs): a set's first job in plan order.
    first_of: dict[frozenset, str] = {}
    for job_id, installed in installs.items():
        first_of.setdefault(installed, job_id)
    owner_of = {installed: next(first for other, first in first_of.items() if other >= installed)
                for installed in first_of}
    caches: dict[str, InstallCache] = {}
    readers: dict[str, InstallCache] = {}  # the cache its readers share, by owner
    for job in plan.jobs:
        if job.id not in installs:
            continue
        owner_id = owner_of[installs[job.id]]
        if owner_id != job.id and owner_id in readers:
            caches[job.id] = readers[owner_id]
            continue
        owner = plan.job(owner_id)
        uses_uv = owner.installer == INSTALLER_UV
        caches[job.id] = InstallCache(
            prefix=f"{'uv' if uses_uv else 'pip'}-{keys[owner.id]}",
            files=tuple(owner.at_root(path) for path in (owner.requirements or owner.cache_files)[:2]),
            owner=keys[owner.id],
            pull_only=owner.id != job.id, paths=(UV_CACHE_PATH, PIP_CACHE_PATH) if uses_uv else (PIP_CACHE_PATH,))
        if owner_id != job.id:
            readers[owner_id] = caches[job.id]
    return caches


# ---------------------------------------------------------------------------- jobs


def job_keys(plan: Plan) -> dict[str, str]:
    """Job key per plan id: the id itself, unless GitLab reads it as a top-level keyword."""
    return {job.id: f"{job.id}-job" if job.id in RESERVED_KEYS else job.id for job in plan.jobs}


@functools.lru_cache(maxsize=256)  # asked per job; a handful of distinct answers
def run_rules(run_when: RunWhen, branch: str | None, manual: bool = False, always: bool = False
              ) -> tuple[Rule, ...]:
    """Rules for a run condition; `manual` makes the matching rule a blocking manual job;
    `always` runs it also after a failed job (the gate report)."""
    extra = {"when": "manual", "allow_failure": False} if manual else {}
    if run_when is RunWhen.PULL_REQUEST:
        return (Rule("Merge request pipelines only" + (", also when a job before failed." if always else "."),
                     MR_PIPELINE, when="always" if always else "on_success", allow_failure=always or None),)
    if run_when is RunWhen.BRANCH and branch:
        return (Rule(f"Only on {branch}.", branch_condition(branch), **extra),)
    if run_when in (RunWhen.BRANCH, RunWhen.NOT_PULL_REQUEST):
        return (Rule("Not in merge request pipelines.", MR_PIPELINE, when="never"),
                Rule("Pushes, schedules and manual runs.", when=extra.get("when", "on_success"),
                     allow_failure=extra.get("allow_failure")))
    return (Rule("Every pipeline.", when="manual", allow_failure=False),) if manual else ()


# A pipeline GitLab can compare with something: a push whose previous commit it knows, or a merge request.
COMPARABLE = f'($CI_PIPELINE_SOURCE == "push" && {KNOWN_BEFORE_SHA}) || {MR_PIPELINE}'


def project_rules(job: Job, plan: Plan, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """A project's jobs (several projects in one repository) run only when a path of the project
    changed, through GitLab's job-level `rules:changes`, where a pipeline has something to compare
    with (a push with a known previous commit, a merge request: its target branch). Schedules, manual
    runs and a branch's first push run every project, as the rules say explicitly."""
    paths = dict(plan.project_paths).get(job.project or "")
    if not paths:
        return rules
    changes = tuple(dict.fromkeys([*(changes_path(path) for path in paths), GitlabBackend.path]))
    never = tuple(rule for rule in rules if rule.when == "never")
    running = tuple(rule for rule in rules if rule.when != "never") or (Rule("Every pipeline.", when="on_success"),)
    changed = tuple(replace(rule, comment=f"{rule.comment.rstrip('.')}, when {job.project} changed (its folder, "
                                          "shared paths, a project it depends on, pipegen's files).",
                            condition=f"({rule.condition}) && ({COMPARABLE})" if rule.condition else COMPARABLE,
                            changes=changes, when=rule.when or "on_success")
                    for rule in running)
    unchanged = Rule(f"A push or merge request that changed none of {job.project}'s paths: not created.",
                     COMPARABLE, when="never")
    rest = tuple(replace(rule, comment=f"{rule.comment.rstrip('.')} (schedules, manual runs, a first push: "
                                       "every project).") for rule in running)
    return (*never, *changed, unchanged, *rest)


def compare_branch(job: Job) -> str | None:
    """The branch of origin the changed-lines gates diff against: `origin/X` and a bare `X` both
    name origin's X in a CI checkout (which has no local X; see pipegen.gates.compare_branch)."""
    value = job.compare_branch
    if not value:
        return None
    name = branch_name(value)
    return None if name.startswith("refs/") else name


GIT_FOR_SLIM_IMAGES = ("command -v git >/dev/null 2>&1 || "
                       "{ apt-get update -qq && apt-get install -y -qq --no-install-recommends git >/dev/null; }")
UNSHALLOW = ('if [ "$(git rev-parse --is-shallow-repository)" = true ]; then '
             "git fetch --quiet --no-tags --unshallow origin; fi")


def history_commands(job: Job, settings: GitlabSettings) -> tuple[Command, ...]:
    """Diff coverage needs the compare branch: GitLab clones only the pipeline's own ref, and
    a reused working copy may still be shallow despite GIT_DEPTH=0."""
    branch = compare_branch(job)
    if branch is None:
        return ()
    refspec = shlex.quote(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    commands = [] if settings.shell else [command("git for diff coverage (slim images ship without it)",
                                                  GIT_FOR_SLIM_IMAGES)]
    commands.append(command(f"Full history and origin/{branch}, the diff coverage base",
                            f"{UNSHALLOW}\ngit fetch --quiet --no-tags origin {refspec}"))
    return tuple(commands)


def install_commands(job: Job, plan: Plan) -> tuple[Command, ...]:
    settings: GitlabSettings = plan.settings.gitlab
    if not job.python or not job.install_commands():
        return ()
    title = "Install the Python dependencies"
    if settings.shell:
        # A shell runner shares its Python between projects: install into a job-local venv.
        python = plan.python_of(job)
        venv = command(f"Python {python} virtual environment on the shell runner",
                       f'python{python} -m venv "$CI_PROJECT_DIR/.venv"\n. "$CI_PROJECT_DIR/.venv/bin/activate"')
        return venv, command(title, job.install_script())
    if job.docker:
        # docker:cli is Alpine: its system Python is externally managed (PEP 668).
        pip = "python3 -m pip install --break-system-packages"
        return (command("Python, pip and git for `pipegen output set`", "apk add --no-cache git python3 py3-pip"),
                command(title, job.install_script(pip)))
    return (command(title, job.install_script()),)


def job_variables(job: Job, settings: GitlabSettings) -> tuple[Variable, ...]:
    variables = []
    if job.full_history:
        variables.append(Variable("GIT_DEPTH", "0"))  # full history for diff coverage and Sonar's blame
    if job.docker and not settings.shell:
        variables.append(Variable("DOCKER_TLS_CERTDIR", "/certs"))  # TLS to the dind service
    if job.attests:
        # GitLab's own provenance: the runner writes a SLSA provenance statement of the job's artifacts
        # (the SBOMs among them) beside their archive; it does not attest the pushed image.
        variables.append(Variable("RUNNER_GENERATE_ARTIFACTS_METADATA", "true"))
    # A Docker executor reaches a service by its alias; a shell runner has no services (the
    # checklist asks for them on the runner's host), so localhost stays.
    hosts = {} if settings.shell else {f"{service.env_prefix}_HOST": service.name for service in job.services}
    for name, value in job.env:
        if value.kind is EnvKind.LITERAL:
            variables.append(Variable(name, hosts.get(name, value.value), expand=False))  # `$` stays literal
        elif value.kind is not EnvKind.OUTPUT and value.value != name:
            variables.append(Variable(name, f"${{{value.value}}}"))  # an alias of a CI/CD variable
    return tuple(variables)


def env_comments(job: Job, keys: dict[str, str]) -> tuple[str, ...]:
    """Where the job's environment comes from, for reviewers (nothing here carries a value)."""
    by_kind: dict[EnvKind, list[str]] = {}
    for name, value in job.env:
        by_kind.setdefault(value.kind, []).append(name)
    lines = []
    if by_kind.get(EnvKind.VARIABLE):
        lines.append("Reads CI/CD variables: " + ", ".join(by_kind[EnvKind.VARIABLE]) + ".")
    if by_kind.get(EnvKind.SECRET):
        lines.append("Reads masked CI/CD variables (secrets): " + ", ".join(by_kind[EnvKind.SECRET]) + ".")
    for name, producer in job.inputs:
        lines.append(f"Reads {name} from {keys[producer]} (dotenv report).")
    return tuple(lines)


def job_artifacts(job: Job) -> Artifacts | None:
    paths = tuple(dict.fromkeys(job.at_root(path) for path in (*job.artifacts, *job.hands_over)))
    dotenv = job.at_root(OUTPUTS_FILE) if job.outputs else None
    if not (paths or job.junit or dotenv):
        return None
    return Artifacts(paths, tuple(job.at_root(path) for path in job.junit), dotenv,
                     "always" if paths or job.junit else None, tuple(job.at_root(path) for path in job.sboms))


def project_image(job: Job, plan: Plan) -> str | None:
    """A project whose Python differs from the pipeline's default image's (several projects in one
    repository) runs in the image of its own Python; a named settings.gitlab.image or a shell runner
    is the user's choice and stays. Pinned by digest like the default image."""
    settings: GitlabSettings = plan.settings.gitlab
    python = job.python_version
    if settings.shell or settings.image or not job.python or python is None or python == plan.python:
        return None
    return python_image(python)


def folder_commands(job: Job) -> tuple[Command, ...]:
    """A project's job works in the project's folder (several projects in one repository)."""
    if job.folder is None:
        return ()
    return (command(f"The {job.project} project's folder", f"cd {shlex.quote(job.folder)}"),)


def job_environment(job: Job) -> Environment | None:
    if job.environment is None:
        return None
    return Environment(job.environment, None, DEPLOYMENT_TIERS.get(job.environment))


class _Graph:
    """Needs, artifacts and approvals, resolved against the whole plan."""

    def __init__(self, plan: Plan, keys: dict[str, str], approvals: dict[str, str]):
        self.plan, self.keys, self.approvals = plan, keys, approvals
        self.caches = install_caches(plan, keys)
        self._reads_from: dict[str, frozenset[str]] = {}
        self._position = {job.id: index for index, job in enumerate(plan.jobs)}

    def reads_from(self, job: Job) -> frozenset[str]:
        """Jobs whose artifacts this job downloads: output producers and handed-over files
        (asked once per need: kept per job)."""
        known = self._reads_from.get(job.id)
        if known is None:
            known = frozenset({producer for _, producer in job.inputs} | set(job.fetches))
            self._reads_from[job.id] = known
        return known

    def need(self, job: Job, need_id: str) -> Need:
        upstream = self.plan.job(need_id)
        # Absent where this job runs: a stricter condition, or another project's job (unchanged, not created).
        optional = RUN_WHEN_RANK[upstream.run_when] > RUN_WHEN_RANK[job.run_when] or (
            upstream.project is not None and upstream.project != job.project)
        return Need(self.keys[need_id], need_id in self.reads_from(job), optional)

    def wiring(self, job: Job) -> tuple[tuple[Need, ...] | None, tuple[str, ...] | None]:
        """(needs, dependencies). A stage entry job keeps stage order, so it waits for every
        earlier job; `needs:` would start it as soon as its own needs finish."""
        approval = self.approvals.get(job.stage) if job.approval else None
        if approval is not None:
            return (Need(approval, False), *(self.need(job, need) for need in job.needs)), None
        if job.collects_reports:
            # Stage order (it runs last, `when: always` after failures too) and only the artifacts
            # of the jobs that keep reports; a listed job absent from this pipeline is skipped.
            return None, tuple(self.keys[source] for source in self.plan.report_sources)
        if self.plan.is_stage_entry(job) and self.plan.has_soft_barrier(job.stage):
            # Stage order without the model's chain: `needs:` lists the jobs it waits for, so a
            # failed model gate stops only the jobs that need it.
            return tuple(self.need(job, need) for need in self.plan.all_needs(job)), None
        if self.plan.is_stage_entry(job):
            read = sorted((self._position[other], other) for other in self.reads_from(job) if other in self._position)
            return None, tuple(self.keys[other] for _, other in read)
        return tuple(self.need(job, need) for need in job.needs), None

    def approval_needs(self, stage: str, loosest: Job) -> tuple[Need, ...] | None:
        """The approval job waits for the stage's barrier when the previous stage has jobs the
        stage does not wait for (the model's chain); else for all earlier stages (no `needs:`)."""
        if not self.plan.has_soft_barrier(stage):
            return None
        return tuple(Need(self.keys[need], False, self.need(loosest, need).optional)
                     for need in self.plan.barrier(stage))


def job_view(job: Job, plan: Plan, graph: _Graph) -> JobView:
    settings: GitlabSettings = plan.settings.gitlab
    needs, dependencies = graph.wiring(job)
    docker_image = job.docker and not settings.shell
    return JobView(
        key=graph.keys[job.id], stage=job.stage,
        comment=(*comment_lines(job.comment), *env_comments(job, graph.keys),
                 *(("`dependencies:` the jobs that keep reports: their artifacts only (dotenv outputs come along).",)
                   if job.collects_reports else ())),
        timeout=f"{job.timeout_minutes}m",
        image=DOCKER_IMAGE if docker_image else project_image(job, plan),
        services=((ServiceView(DIND_SERVICE),) if docker_image else ()) + (() if settings.shell else tuple(
            ServiceView(service.image, service.name, service.env) for service in job.services)),
        # A started deployment must finish: a newer pipeline does not cancel it halfway.
        interruptible=False if job.environment else None,
        rules=project_rules(job, plan, run_rules(job.run_when, job.branch, always=job.always)),
        needs=needs, dependencies=dependencies,
        environment=job_environment(job), resource_group=graph.keys[job.id] if job.environment else None,
        variables=job_variables(job, settings), cache=graph.caches.get(job.id),
        before_script=folder_commands(job) + history_commands(job, settings) + install_commands(job, plan),
        script=(*((command(f"Log in to {job.identity.cloud} with the job's OIDC token", login_script(job.identity)),)
                  if job.identity else ()),
                *(command(step.title, step.run) for step in job.steps)),
        id_tokens=((TOKEN_VARIABLE, job.identity.token_audience),) if job.identity else (),
        artifacts=job_artifacts(job))


def approval_key(stage: str, taken: set[str]) -> str:
    key = f"approve-{stage}"
    while key in taken:
        key += "-gate"
    return key


def approval_view(stage: str, jobs: list[Job], key: str, graph: _Graph) -> JobView:
    """One blocking manual job per stage with approvals: the one click every approved job needs.
    It waits for the earlier stages (QA before PROD), the model's chain aside."""
    approval: Approval = next(job.approval for job in jobs if job.approval)
    loosest = min(jobs, key=lambda job: RUN_WHEN_RANK[job.run_when])
    approvers = ", ".join(approval.approvers) or "the environment's allowed deployers"
    environment = next(job.environment for job in jobs if job.environment) or stage
    return JobView(
        key=key, stage=stage,
        comment=comment_lines(f"Approval for {stage.upper()}: {approvers} run this manual job (protected "
                              f"environment {environment!r}); the pipeline stays blocked until they do. GitLab has "
                              "no timeout for a pending manual job; a newer pipeline supersedes it."),
        timeout=APPROVAL_TIMEOUT,
        rules=run_rules(loosest.run_when, loosest.branch, manual=True),
        needs=(needs := graph.approval_needs(stage, loosest)), dependencies=() if needs is None else None,
        environment=Environment(environment, "prepare", None),  # prepare: no deployment record
        variables=(Variable("GIT_STRATEGY", "none"),),
        script=(command("Record who approved", 'echo "Approved by $GITLAB_USER_LOGIN"'),))


def approval_keys(plan: Plan) -> dict[str, str]:
    """Key of the approval job per stage that has approvals."""
    taken = set(job_keys(plan).values())
    approvals: dict[str, str] = {}
    for stage in plan.stages:
        if any(job.approval for job in stage.jobs):
            approvals[stage.id] = approval_key(stage.id, taken)
            taken.add(approvals[stage.id])
    return approvals


def stage_views(plan: Plan) -> list[StageView]:
    approvals = approval_keys(plan)
    graph = _Graph(plan, job_keys(plan), approvals)
    views = []
    for stage in plan.stages:
        jobs = []
        if stage.id in approvals:
            approved = [job for job in stage.jobs if job.approval]
            jobs.append(approval_view(stage.id, approved, approvals[stage.id], graph))
        jobs += [job_view(job, plan, graph) for job in stage.jobs]
        views.append(StageView(stage.id, stage.title, one_line(stage.comment), jobs))
    return views


# ---------------------------------------------------------------------------- checklist


def _secret_item(plan: Plan, name: str) -> ChecklistItem:
    jobs = plan.readers_of(name)
    in_merge_requests = [job.id for job in jobs if job.run_when is RunWhen.ALWAYS]
    detail = (f"Settings > CI/CD > Variables: add {name} as a masked variable (read by "
              f"{', '.join(job.id for job in jobs) or 'no job'}). ")
    if in_merge_requests:
        detail += (f"Protect it only if merge requests come from protected branches: {', '.join(in_merge_requests)} "
                   "also runs in merge request pipelines, which cannot read protected variables.")
    else:
        detail += "Mark it protected: only pipelines on protected branches read it."
    return ChecklistItem("secret", name, detail, Expected(masked=True, protected=None if in_merge_requests else True))


def _release_branches(plan: Plan, environment: str) -> tuple[str, ...]:
    """The branches the environment's jobs run on only (PROD's release branch)."""
    return tuple(sorted({job.branch for job in plan.jobs if job.environment == environment
                         and job.run_when is RunWhen.BRANCH and job.branch and "*" not in job.branch}))


def _environment_item(name: str, approval: Approval | None, keys: dict[str, str],
                      branches: tuple[str, ...] = ()) -> ChecklistItem:
    """`keys` maps a stage to its approval job; environments are named after their stage."""
    detail = (f"GitLab creates {name!r} on the first deployment (Operate > Environments); protect it under "
              "Settings > CI/CD > Protected environments and scope its CI/CD variables to it.")
    if approval is None:
        return ChecklistItem("environment", name, detail, Expected(protected=True))
    approvers = ", ".join(approval.approvers) or "your release managers"
    gate = keys.get(name, "approval")
    detail += (
        f" Allowed to deploy: {approvers}; only they can run the manual {gate} job that every {name.upper()} job "
        f"needs. GitLab checks the {name.upper()} jobs after {gate} against the same list with the user who started "
        "the pipeline (whoever merged to the branch), so allow that role too and keep the decision with "
        f"{approvers} through Deployment approvals (approvers: {approvers}). GitLab has no timeout for a pending "
        f"manual job (the descriptor's {approval.timeout_minutes} minutes are not enforced); keep 'Prevent "
        "outdated deployment jobs' on so an old approval never deploys over a newer pipeline.")
    if branches:
        detail += (f" Protect {', '.join(branches)} under Settings > Repository > Protected branches (who may "
                   f"push and merge): {name.upper()} deploys from it, and protected variables reach only "
                   "protected branches.")
    return ChecklistItem("environment", name, detail,
                         Expected(protected=True, approval=True, approvers=approval.approvers, branches=branches))


def _runner_item(plan: Plan) -> ChecklistItem | None:
    settings: GitlabSettings = plan.settings.gitlab
    docker_jobs = [job.id for job in plan.jobs if job.docker]
    if not docker_jobs:
        return None
    tags = f" with tags {', '.join(settings.tags)}" if settings.tags else ""
    if settings.shell:
        detail = (f"A shell runner{tags} whose user can run `docker build` and `docker push`, with Python "
                  f"{plan.python}, for {', '.join(docker_jobs)}.")
    else:
        detail = (f"A Docker executor runner{tags} in privileged mode with `volumes = [\"/certs/client\"]` "
                  f"for {', '.join(docker_jobs)} ({DIND_SERVICE} service, TLS).")
    return ChecklistItem("other", "runner with Docker", detail)


def _token_subjects(job: Job, plan: Plan) -> list[str]:
    """The `sub` claim of the job's id_token; GitLab puts the environment in claims of its own
    (`environment`, `environment_protected`): condition on those too for a deployment job."""
    environment = (f" with claims environment={job.environment} and environment_protected=true"
                   if job.environment else "")
    return [f"project_path:GROUP/PROJECT:ref_type:branch:ref:{branch}{environment}"
            for branch in job_branches(job, plan)]


def job_image(plan: Plan) -> str | None:
    """Every job's image: the descriptor's as written, else pipegen's python:X-slim pinned by digest."""
    settings: GitlabSettings = plan.settings.gitlab
    return None if settings.shell else settings.image or python_image(plan.python)


def _unpinned_image_items(plan: Plan) -> list[ChecklistItem]:
    """An image every job runs in that is not pinned by digest: its tag can move under the pipeline."""
    image = job_image(plan)
    if image is None or is_pinned(image):
        return []
    whose = ("settings.gitlab.image, as written" if plan.settings.gitlab.image else
             f"pipegen's catalog has no digest for Python {plan.python} (images/catalog.yaml)")
    return [ChecklistItem("other", "job image pinned by digest", (
        f"every job runs in {image}, by tag only ({whose}): a moved tag changes what the jobs run. Pin it as "
        f"{image}@sha256:<the tag's index digest> (`docker buildx imagetools inspect {image}` prints it)."))]


class GitlabBackend:
    name = "gitlab"
    path = PATHS["gitlab"]
    comment = "#"

    def render(self, plan: Plan) -> str:
        plan = without_selector(plan)
        settings: GitlabSettings = plan.settings.gitlab
        template = template_environment("gitlab").get_template(TEMPLATE)
        return template.render(
            project=plan.project, stages=stage_views(plan), workflow_rules=workflow_rules(plan), image=job_image(plan),
            path_filter=bool(plan.triggers.watched_paths), submodules=plan.submodules,
            tags=settings.tags, pip_cache=PIP_CACHE_PATH,
            uv_cache=UV_CACHE_PATH if any(job.installer == INSTALLER_UV for job in plan.jobs) else None,
            expire_in=ARTIFACTS_EXPIRE)

    def checklist(self, plan: Plan) -> list[ChecklistItem]:
        plan = without_selector(plan)
        keys = approval_keys(plan)
        items = [_secret_item(plan, name) for name in plan.secrets]
        items += [ChecklistItem("variable", name, f"Settings > CI/CD > Variables: add {name} (read by "
                                f"{', '.join(job.id for job in plan.readers_of(name))}).")
                  for name in plan.variables]
        items += [_environment_item(name, approval, keys, _release_branches(plan, name))
                  for name, approval in plan.environments]
        if plan.triggers.schedule:
            branch = next((b for b in plan.triggers.branches if "*" not in b), plan.triggers.branches[0])
            items.append(ChecklistItem("schedule", plan.triggers.schedule, (
                f"Build > Pipeline schedules > New schedule: interval pattern {plan.triggers.schedule!r}, "
                f"cron timezone UTC, target branch {branch}. GitLab keeps schedules outside .gitlab-ci.yml.")))
        services = {service.name: service for job in plan.jobs for service in job.services}
        if services and plan.settings.gitlab.shell:  # a shell executor ignores `services:`
            items += [ChecklistItem("other", f"service {name}", (
                f"the shell runner starts no containers: run {service.image} on the runner's host, reachable at "
                f"localhost:{', '.join(map(str, service.ports)) or 'its port'} (the tests read "
                f"{service.env_prefix}_HOST and {service.env_prefix}_PORT)")) for name, service in services.items()]
        runner = _runner_item(plan)
        if runner:
            items.append(runner)
        items += _unpinned_image_items(plan)
        items += trust_items(plan, "https://gitlab.com (or your GitLab's URL)", lambda job: _token_subjects(job, plan))
        settings = plan.settings.gitlab
        items += runner_tool_items(plan, "the shell runner's environment" if settings.shell else (
            f"the job image ({job_image(plan)}; every job runs in it, so set "
            "settings.gitlab.image to one with Python and these tools, or use a shell runner)"))
        for job in plan.jobs:
            for name, value in job.env if job.review_comment else ():
                if value.kind is EnvKind.SECRET:
                    items.append(ChecklistItem("secret", value.value, (
                        f"Settings > CI/CD > Variables: add {value.value} as a masked, unprotected variable holding "
                        "a project (or group) access token with the `api` scope and at least the Reporter role, "
                        f"named e.g. pipegen-report: {job.id} posts the gate report as a merge request note with "
                        f"it ({name}). CI_JOB_TOKEN cannot write notes."), Expected(masked=True, protected=False)))
        if plan.submodules:
            items.append(ChecklistItem("other", "git submodules", (
                "every job fetches the git submodules (GIT_SUBMODULE_STRATEGY: recursive) with its CI_JOB_TOKEN. A "
                "submodule in another private project of this GitLab: give it a relative URL in .gitmodules (or "
                "this GitLab's URL), and in that project allow this one under Settings > CI/CD > Job token "
                "permissions. A submodule on another host must be readable without credentials.")))
        items.append(ChecklistItem("other", "auto-cancel redundant pipelines", (
            "Settings > CI/CD > General pipelines: keep 'Auto-cancel redundant pipelines' on, so a new push "
            "cancels the interruptible jobs of the superseded pipeline.")))
        return items
