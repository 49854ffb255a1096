"""GitHub Actions: the plan as one workflow, `.github/workflows/pipegen.yml`.

GitHub has no stages, so stage order comes from `needs:` (`stage_order.py`). Outputs travel
as job `outputs:` read through `needs.JOB.outputs.NAME` (only direct needs are visible; the
plan makes producers direct needs). Every value reaches a script through `env:`, never as a
`${{ }}` expression inside `run:` (template injection). The template prints; this module only
shapes the plan into the view model below.
"""
from __future__ import annotations

import functools
import posixpath
import re
import textwrap
from typing import Union

from pipegen.ci import GATE_MODE_VARIABLE
from pipegen.errors import UsageError
from pipegen.descriptor.model import Service
from pipegen.plan import REPORT_DIR, REPORT_TOKEN_ENV, EnvKind, Job, Plan, RunWhen, Stage, Step
from pipegen.plan.install import UV_VERSION
from pipegen.plan.projects import changed_output
from pipegen.platforms import PATHS, approvals
from pipegen.platforms.base import ChecklistItem, Expected, runner_tool_items, template_environment
from pipegen.platforms.identity import job_branches, trust_items
from pipegen.platforms.github.stage_order import StageOrder, barrier_job_id
from pipegen.records import record

WORKFLOW_PATH = PATHS["github"]


@record
class Action:
    """An action pinned to a full commit SHA (zizmor `unpinned-uses`); the tag goes in a
    comment so people and Dependabot/Renovate can read and bump it."""

    repository: str
    sha: str
    version: str

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.sha}"


# Where each SHA comes from: the newest release tag of the action's own repository, read from a
# mirror of github.com/<repository> with `git rev-parse '<tag>^{commit}'` (annotated tags peeled to
# their commit); tag dates in brackets. Every SHA below was checked against such a mirror (snapshot of
# 2026-12-06): the commit is the one the named release tag points to, and no newer release of the same
# major line was there (`git tag --contains SHA` lists the tag):
#   actions/checkout          v7.0.1 (2026-07-17)   actions/setup-python      v7.0.0 (2026-07-19)
#   actions/upload-artifact   v7.0.0 (2026-02-25)   actions/download-artifact v8.0.1 (2026-03-11)
#   astral-sh/setup-uv        v10.0.1 (2026-08-14)
# All five run on node24 (runner >= 2.327.1 for self-hosted runners). Bump them together, check
# the inputs used below still exist in each action.yml, and re-run the judges.
CHECKOUT = Action("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
SETUP_PYTHON = Action("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
UPLOAD_ARTIFACT = Action("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0")
DOWNLOAD_ARTIFACT = Action("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1")
SETUP_UV = Action("astral-sh/setup-uv", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1")
# The clouds' official OIDC login actions, for jobs with an identity (pipegen.plan.identity), checked
# the same way: aws-actions/configure-aws-credentials v6.2.3 (2026-07-22), google-github-actions/auth
# v3.0.0 (2025-08-28), azure/login v3.0.1 (2026-08-04). azure/login was pinned at v2.3.0's commit
# before; v3.0.1 is its newest release (v2.3.1 the newest v2): v3.0.0 only moved it from node20 to
# node24, like the five above, and v3.0.1 / v2.3.1 escape single quotes in its PowerShell login script.
# Its inputs used below (client-id, tenant-id, subscription-id, allow-no-subscriptions, audience) are
# unchanged.
AZURE_LOGIN = Action("azure/login", "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1")
AWS_CREDENTIALS = Action("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3")
GCP_AUTH = Action("google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0")
# Build provenance and the image's SBOM (pipegen.plan.provenance), checked the same way:
#   actions/attest-build-provenance v4.1.0 (2026-02-26); actions/attest v4.2.2 (2026-08-04) for the
#   SBOM: actions/attest-sbom's newest release (v4.1.0) is deprecated in favour of actions/attest
#   (it warns and wraps it), whose `sbom-path` input makes the same SBOM attestation.
ATTEST_PROVENANCE = Action("actions/attest-build-provenance", "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32", "v4.1.0")
ATTEST = Action("actions/attest", "1e69f48acb82d1966a394da916b4c1698aa569d6", "v4.2.2")
TOKEN_ISSUER = "https://token.actions.githubusercontent.com"

# Expressions are evaluated wherever `${{` appears (run, names, env values): a descriptor
# string carrying one would run as an expression, so it is refused, not rendered.
_EXPRESSION = "${{"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHELL_OPTIONS = "set -euo pipefail"
_COMMENT_WIDTH = 100

InputValue = Union[str, bool, int]


@record
class StepView:  # pylint: disable=too-many-instance-attributes  # one field per YAML key
    """One step: either `uses` an action (with inputs) or `run`s shell text."""

    name: str
    id: str | None = None
    condition: str | None = None
    uses: str | None = None
    version: str | None = None
    inputs: tuple[tuple[str, InputValue], ...] = ()
    run: str | None = None
    env: tuple[tuple[str, str], ...] = ()


@record
class Permission:
    scope: str
    level: str
    why: str  # zizmor pedantic `undocumented-permissions`: every grant says why


@record
class ServiceView:
    name: str
    image: str
    ports: tuple[str, ...]  # "5432:5432": the same port on the runner, reached at localhost
    env: tuple[tuple[str, str], ...]


@record
class JobView:  # pylint: disable=too-many-instance-attributes  # one field per YAML key
    id: str
    name: str
    comment: tuple[str, ...]
    runs_on: str
    needs: tuple[str, ...]
    condition: str | None
    environment: str | None
    timeout_minutes: int
    permissions: tuple[Permission, ...]
    outputs: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]
    steps: tuple[StepView, ...]
    services: tuple[ServiceView, ...] = ()
    folder: str | None = None  # where its `run` steps run (several projects: the project's folder)


@record
class StageView:
    title: str
    comment: tuple[str, ...]
    jobs: tuple[JobView, ...]


@record
class TriggerView:
    branches: tuple[str, ...]
    push_paths: tuple[str, ...]
    pull_requests: bool
    schedule: str | None


# ---------------------------------------------------------------------------- checks and small helpers


def _checked(text: str, where: str) -> str:
    """Descriptor text that GitHub would otherwise evaluate as an expression is refused."""
    if _EXPRESSION in text:
        raise UsageError(f"{where}: {text!r} contains '${{{{', which GitHub Actions evaluates as an expression; "
                         "pass values to scripts as environment variables ($NAME) instead")
    return text


def _env_name(name: str, where: str) -> str:
    if not _ENV_NAME.match(name):
        raise UsageError(f"{where}: {name!r} is not a valid secret, variable or output name for GitHub Actions")
    return name


@functools.lru_cache(maxsize=1024)  # jobs share comments; wrapping is a tenth of rendering
def _comment_lines(text: str) -> tuple[str, ...]:
    """Comment text as lines short enough to read in a diff (the template adds `# `)."""
    lines = [wrapped for line in text.splitlines() for wrapped in textwrap.wrap(line, _COMMENT_WIDTH) or [""]]
    return tuple(lines) or ("",)


def _script(text: str) -> str:
    """Multi-line shell starts with strict options (GitHub's bash already has -e and pipefail;
    -u catches an unset variable such as a missing output)."""
    return f"{_SHELL_OPTIONS}\n{text}" if "\n" in text.rstrip("\n") else text


def _string_literal(text: str) -> str:
    """A string literal of GitHub's expression language: single quotes, doubled inside."""
    return "'" + text.replace("'", "''") + "'"


_RUN_WHEN_RANK = {RunWhen.ALWAYS: 0, RunWhen.NOT_PULL_REQUEST: 1, RunWhen.BRANCH: 2}


def _skipped_stage_needs(job: Job, order: StageOrder) -> bool:
    """Whether a job it waits for only to keep the stage order (not one it needs) may be
    skipped where this job runs: GitHub would then skip this job too."""
    return any(_RUN_WHEN_RANK[order.plan.job(need).run_when] > _RUN_WHEN_RANK[job.run_when]
               for need in order.order_needs(job))


def _condition(job: Job, order: StageOrder) -> str | None:
    not_pull_request = "github.event_name != 'pull_request'"
    condition = None
    if job.run_when is RunWhen.PULL_REQUEST:
        # always(): also when a gate before it failed (the report says which).
        return "${{ " + ("always() && " if job.always else "") + "github.event_name == 'pull_request' }}"
    if job.run_when is RunWhen.NOT_PULL_REQUEST:
        condition = not_pull_request
    if job.run_when is RunWhen.BRANCH:
        branch = _checked(job.branch or "", f"job {job.id}: branch")
        if not branch or "*" in branch:
            raise UsageError(f"job {job.id}: GitHub's `if:` compares one branch name; {branch!r} is not one")
        condition = f"github.ref == {_string_literal('refs/heads/' + branch)} && {not_pull_request}"
    if job.project is not None and order.plan.selector is not None:
        # Only when the project changed; a job of a project it depends on may be skipped (unchanged).
        changed = f"needs.{order.plan.selector}.outputs.{changed_output(job.project)} == 'true'"
        condition = "!cancelled() && !failure() && " + changed + (f" && {condition}" if condition else "")
    elif _skipped_stage_needs(job, order):
        # Run when the earlier stage succeeded or skipped jobs (never after a failure).
        condition = "!cancelled() && !failure()" + (f" && {condition}" if condition else "")
    return f"${{{{ {condition} }}}}" if condition else None


def _environment(job: Job, plan: Plan) -> str | None:
    """A PROD job that waits for another job of the same approved environment does not name
    the environment again: reviewers approve once per run. A job that logs in to a cloud always
    names it: its OIDC token's subject is then the environment, not any run of the branch."""
    if job.environment is None or job.approval is None or job.identity is not None:
        return job.environment
    return None if job.environment in plan.upstream_environments(job) else job.environment


def _uses(action: Action, name: str, inputs: tuple[tuple[str, InputValue], ...],
          condition: str | None = None) -> StepView:
    return StepView(name=name, uses=action.uses, version=action.version, inputs=inputs, condition=condition)


# ---------------------------------------------------------------------------- steps


_SETUP_UV_WITHOUT_CACHE = _uses(SETUP_UV, "Set up uv", (("version", UV_VERSION), ("enable-cache", False)))


@functools.lru_cache(maxsize=None)  # one view per kind of checkout, shared by every job
def _checkout(full_history: bool, submodules: bool) -> StepView:
    inputs: tuple[tuple[str, InputValue], ...] = (("persist-credentials", False),)
    if full_history:
        inputs += (("fetch-depth", 0),)  # the compare branch for diff coverage and Sonar's blame
    if submodules:
        # With the job's token, used for the fetch only (persist-credentials: false removes it after).
        inputs += (("submodules", "recursive"),)
    return _uses(CHECKOUT, "Check out the repository" + (" and its submodules" if submodules else ""), inputs)


def runs_on_release_branches(plan: Plan) -> bool:
    """A workflow pushed on release branches is a release workflow (zizmor reads any branch
    filter containing "release" so): a poisoned cache could reach what it publishes."""
    return _release_branches(plan.triggers.branches)


@functools.lru_cache(maxsize=64)  # asked per job
def _release_branches(branches: tuple[str, ...]) -> bool:
    return any("release" in branch.lower() for branch in branches)


def _uses_cache(job: Job, plan: Plan) -> bool:
    """Jobs that publish (build an image, deploy, promote) restore no cache that another
    run could have written (zizmor `cache-poisoning`); release workflows use none at all."""
    return not (job.docker or job.environment or runs_on_release_branches(plan))


def _cache_keys(job: Job) -> str:
    """The files a job's cache is keyed on. The workflow file pins the extra packages, so it
    belongs in the key too; it also keeps the action from failing in a job without such files."""
    return _path_lines(job, job.cache_files, "requirements", (WORKFLOW_PATH,))


def _path_lines(job: Job, paths: tuple[str, ...], what: str, extra: tuple[str, ...] = ()) -> str:
    """`paths` (relative to the job's folder) from the repository root, one a line, then `extra`."""
    text = _joined_lines((*map(job.at_root, paths), *extra))
    if _EXPRESSION in text:  # refused: say which path
        for path in paths:
            _checked(job.at_root(path), f"job {job.id}: {what}")
    return text


@functools.lru_cache(maxsize=256)  # jobs share their requirement files
def _joined_lines(lines: tuple[str, ...]) -> str:
    return "\n".join(lines)


def _setup_python(job: Job, plan: Plan) -> StepView:
    cache_paths = None
    if _uses_cache(job, plan) and not job.installs_with_uv():
        cache_paths = _path_lines(job, job.requirements, "requirements", (WORKFLOW_PATH,))
    return _setup_python_view(plan.python_of(job), cache_paths)


@functools.lru_cache(maxsize=256)  # jobs of one Python and requirements share their view
def _setup_python_view(python: str, cache_paths: str | None) -> StepView:
    inputs: tuple[tuple[str, InputValue], ...] = (("python-version", python),)
    if cache_paths is not None:
        inputs += (("cache", "pip"), ("cache-dependency-path", cache_paths))
    return _uses(SETUP_PYTHON, f"Set up Python {python}", inputs)


def _setup_uv(job: Job, plan: Plan) -> StepView:
    """uv, the version every platform pins, with its cache: one per job (its own install set),
    keyed on the files that decide what it installs, restored on the next run."""
    if not _uses_cache(job, plan):
        return _SETUP_UV_WITHOUT_CACHE
    return _uses(SETUP_UV, "Set up uv", (("version", UV_VERSION), ("enable-cache", True),
                                         ("cache-dependency-glob", _cache_keys(job)), ("cache-suffix", job.id)))


def _install(job: Job) -> StepView | None:
    commands = job.install_commands()
    if not commands:
        return None
    script = job.install_script()
    if _EXPRESSION in script:  # refused: say which line
        for line in commands:
            _checked(line, f"job {job.id}: pip install command")
    return _install_view(script)


@functools.lru_cache(maxsize=256)  # most jobs install the same
def _install_view(script: str) -> StepView:
    return StepView(name="Install dependencies", run=_script(script))


def _handover_name(job_id: str) -> str:
    return f"handover-{job_id}"


def _download_root(paths: tuple[str, ...]) -> str:
    """Where upload-artifact's root for these files was: a lone file is stored without its
    folder, several under their common folder; downloading there puts them back in place."""
    folders = [posixpath.dirname(posixpath.normpath(path)) for path in paths]
    if not all(folders):  # a file at the top: the root is the workspace
        return "."
    return posixpath.commonpath(folders) or "."


def _reports_pattern(job: Job, plan: Plan) -> str:
    """The report artifacts the comment reads: every job's, or, in a repository of several projects,
    its own project's jobs' by name (a `reports-<project>-*` glob would also take those of a project
    whose name starts with this one's). download-artifact matches with minimatch, braces included."""
    if job.project is None:
        return "reports-*"
    names = [f"reports-{other.id}" for other in plan.jobs
             if other.project == job.project and other.id != job.id and _report_paths(other)]
    if len(names) == 1:
        return names[0]
    return "{" + ",".join(names) + "}" if names else f"reports-{job.id}-none"


def _fetch_steps(job: Job, plan: Plan) -> list[StepView]:
    steps = []
    if job.collects_reports:
        # Every job keeps its reports as `reports-<job>` (also when it fails): all of them, merged.
        # An artifact of one folder holds that folder's contents (upload-artifact roots it at the
        # paths' common ancestor), so they are merged back into the folder the comment reads.
        steps.append(_uses(DOWNLOAD_ARTIFACT, "Fetch every job's reports", (
            ("pattern", _reports_pattern(job, plan)), ("merge-multiple", True), ("path", job.at_root(REPORT_DIR)))))
    for producer_id in job.fetches:
        producer = plan.job(producer_id)
        if not producer.hands_over:
            continue
        files = ", ".join(producer.hands_over)
        steps.append(_uses(DOWNLOAD_ARTIFACT, _checked(f"Fetch {files} from {producer_id}", f"job {job.id}"), (
            ("name", _handover_name(producer_id)),
            ("path", _download_root(tuple(job.at_root(path) for path in producer.hands_over))))))
    return steps


def _secret_env(job: Job, step: Step) -> tuple[tuple[str, str], ...]:
    if job.review_comment:
        # The job's own token, granted pull-requests: write on this job only (read-only from forks).
        return ((REPORT_TOKEN_ENV, "${{ secrets.GITHUB_TOKEN }}"),)
    return tuple((name, f"${{{{ secrets.{_env_name(value.value, f'job {job.id}: secret')} }}}}")
                 for name, value in job.step_env(step) if value.kind is EnvKind.SECRET)


def _plan_step(step: Step, job: Job) -> StepView:
    """Secrets go on the plan's own steps that read them only: the install step (which runs
    packages' build code), the actions and the other steps never see them."""
    if _EXPRESSION in step.title or _EXPRESSION in step.run:
        where = f"job {job.id}, step {step.title!r}"
        _checked(step.title, where)
        _checked(step.run, where)
    return StepView(name=step.title, id=step.id, run=_script(step.run), env=_secret_env(job, step))


def _report_paths(job: Job) -> tuple[str, ...]:
    """Artifacts plus the JUnit files not already inside one of them."""
    def inside(path: str, folder: str) -> bool:
        return path == folder or path.startswith(folder.rstrip("/") + "/")

    junit = [path for path in job.junit if not any(inside(path, folder) for folder in job.artifacts)]
    return tuple(dict.fromkeys(job.at_root(path) for path in [*job.artifacts, *junit]))


def _keep_steps(job: Job) -> list[StepView]:
    steps = []
    reports = _report_paths(job)
    if reports:
        # GitHub has no native JUnit tab without a third-party action and `checks: write`;
        # the gates write their Markdown to the run summary and the XML is kept here.
        steps.append(_uses(UPLOAD_ARTIFACT, "Keep the reports, also when the job fails", (
            ("name", f"reports-{job.id}"),
            ("path", "\n".join(_checked(path, f"job {job.id}: artifacts") for path in reports)),
            ("if-no-files-found", "warn"),
            ("overwrite", True),  # a re-run attempt replaces its own earlier upload
        ), condition="${{ always() }}"))
    if job.hands_over:
        steps.append(_uses(UPLOAD_ARTIFACT, "Hand files over to later jobs", (
            ("name", _handover_name(job.id)),
            ("path", "\n".join(_checked(job.at_root(path), f"job {job.id}: hands_over") for path in job.hands_over)),
            ("if-no-files-found", "error"),
            ("overwrite", True),
        )))
    return steps


def _login_step(job: Job) -> list[StepView]:
    """The cloud's official action exchanges the job's OIDC token for short-lived credentials,
    after the install step (packages' build code never runs logged in)."""
    identity = job.identity
    if identity is None:
        return []
    audience = (("audience", identity.audience),) if identity.audience else ()
    if identity.cloud == "azure":
        subscription: tuple[tuple[str, InputValue], ...] = (
            (("subscription-id", identity.subscription_id),) if identity.subscription_id
            else (("allow-no-subscriptions", True),))
        return [_uses(AZURE_LOGIN, "Log in to Azure with the job's OIDC token", (
            ("client-id", identity.client_id or ""), ("tenant-id", identity.tenant_id or ""), *subscription,
            *audience))]
    if identity.cloud == "aws":
        return [_uses(AWS_CREDENTIALS, "Assume the AWS role with the job's OIDC token", (
            ("role-to-assume", identity.role_arn or ""), ("aws-region", identity.region or ""), *audience))]
    return [_uses(GCP_AUTH, "Authenticate to Google Cloud with the job's OIDC token", (
        ("workload_identity_provider", identity.workload_identity_provider or ""),
        ("service_account", identity.service_account or ""), *audience))]


def _attest_steps(job: Job) -> list[StepView]:
    """The image digest the job published, attested: a signed SLSA provenance statement and, when
    the job wrote one, the image's SBOM, each stored with the repository's attestations and pushed
    to the registry beside the image."""
    if not job.attests or job.output_step is None:
        return []
    split = StepView(name="Name and digest of the image to attest", id="subject",
                     env=(("IMAGE_REF", f"${{{{ steps.{job.output_step}.outputs.IMAGE_REF }}}}"),),
                     run=_script('echo "name=${IMAGE_REF%@*}" >> "$GITHUB_OUTPUT"\n'
                                 'echo "digest=${IMAGE_REF#*@}" >> "$GITHUB_OUTPUT"'))
    subject: tuple[tuple[str, InputValue], ...] = (
        ("subject-name", "${{ steps.subject.outputs.name }}"),
        ("subject-digest", "${{ steps.subject.outputs.digest }}"))
    steps = [split, _uses(ATTEST_PROVENANCE, "Attest the image's build provenance", (
        *subject, ("push-to-registry", True)))]
    if job.image_sbom is not None:
        # The storage record (where the image lives) is the provenance attestation's to make.
        steps.append(_uses(ATTEST, "Attest the image's SBOM", (
            *subject, ("sbom-path", _checked(job.at_root(job.image_sbom), f"job {job.id}: SBOM")),
            ("push-to-registry", True), ("create-storage-record", False))))
    return steps


def _verify_step(job: Job) -> list[StepView]:
    """Before anything else the PROD job runs: the image must carry this repository's provenance
    attestation, signed by this workflow; `gh` exits non-zero otherwise and the job stops."""
    if job.verifies is None:
        return []
    return [StepView(
        name="Verify the image's build provenance before deploying it",
        env=(("GH_TOKEN", "${{ github.token }}"),),
        run=_script(f'gh attestation verify "oci://${job.verifies}" --repo "$GITHUB_REPOSITORY" \\\n'
                    f'  --signer-workflow "$GITHUB_REPOSITORY/{WORKFLOW_PATH}"'))]


def _steps(job: Job, plan: Plan) -> tuple[StepView, ...]:
    steps = [_checkout(job.full_history, plan.submodules)]
    if job.python:
        steps.append(_setup_python(job, plan))
        if job.installs_with_uv():
            steps.append(_setup_uv(job, plan))
        install = _install(job)
        if install is not None:
            steps.append(install)
    steps += _verify_step(job)  # before the job logs in anywhere
    steps += _login_step(job)
    steps += _fetch_steps(job, plan)
    steps += [_plan_step(step, job) for step in job.steps]
    steps += _attest_steps(job)
    steps += _keep_steps(job)
    return tuple(steps)


# ---------------------------------------------------------------------------- jobs and the workflow


def _job_env(job: Job) -> tuple[tuple[str, str], ...]:
    """Non-secret values for every step: variables, upstream outputs, literals."""
    env = []
    for name, value in job.env:
        where = f"job {job.id}: env {name}"
        _env_name(name, where)
        if value.kind is EnvKind.VARIABLE:
            env.append((name, f"${{{{ vars.{_env_name(value.value, where)} }}}}"))
        elif value.kind is EnvKind.OUTPUT:
            env.append((name, f"${{{{ needs.{value.producer}.outputs.{_env_name(value.value, where)} }}}}"))
        elif value.kind is EnvKind.LITERAL:
            env.append((name, _checked(value.value, where)))
    if job.gate and job.gate_mode is None:  # as on the other platforms, the CI variable reaches the gate
        env.append((GATE_MODE_VARIABLE, f"${{{{ vars.{GATE_MODE_VARIABLE} }}}}"))
    return tuple(sorted(env))


def _job_outputs(job: Job) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"${{{{ steps.{job.output_step}.outputs.{_env_name(name, f'job {job.id}: output')} }}}}")
                 for name in job.outputs)


def _job_view(job: Job, order: StageOrder) -> JobView:
    plan = order.plan
    missing = [producer for _, producer in job.inputs if producer not in job.needs]
    if missing:  # GitHub only shows the outputs of direct needs
        raise UsageError(f"job {job.id} reads outputs of {', '.join(missing)} without needing them directly")
    return JobView(
        id=job.id, name=_checked(job.title, f"job {job.id}: title"), comment=_comment_lines(job.comment),
        runs_on=_checked(plan.settings.github.runs_on, "settings.github.runs_on"),
        needs=order.needs(job), condition=_condition(job, order), environment=_environment(job, plan),
        timeout_minutes=job.timeout_minutes,
        permissions=_permissions(job),
        outputs=_job_outputs(job), env=_job_env(job), steps=_steps(job, plan),
        services=tuple(map(_service_view, job.services)),
        folder=_checked(job.folder, f"job {job.id}: folder") if job.folder else None)


_CONTENTS_READ = (Permission("contents", "read", "actions/checkout clones the repository"),)


def _service_view(service: Service) -> ServiceView:
    return ServiceView(service.name, _checked(service.image, f"service {service.name}: image"),
                       tuple(f"{port}:{port}" for port in service.ports),
                       tuple((key, _checked(value, f"service {service.name}: env {key}"))
                             for key, value in service.env))


def _permissions(job: Job) -> tuple[Permission, ...]:
    """Least privilege: what each step of this job needs, each grant saying why."""
    if not (job.attests or job.verifies or job.identity or job.review_comment):
        return _CONTENTS_READ
    granted = [*_CONTENTS_READ]
    if job.attests:
        granted.append(Permission("attestations", "write", "actions/attest-build-provenance" + (
            " and actions/attest store the attestations" if job.image_sbom else " stores the attestation")))
    elif job.verifies:
        granted.append(Permission("attestations", "read", "gh attestation verify reads the image's attestations"))
    token_users = ([f"the {job.identity.cloud} login"] if job.identity else []) + (
        [f"the {'provenance and SBOM attestations' if job.image_sbom else 'provenance attestation'} (signed with a "
         "Sigstore certificate for this job)"] if job.attests else [])
    if token_users:
        granted.append(Permission("id-token", "write", f"{' and '.join(token_users)} use(s) the job's OIDC token"))
    if job.review_comment:
        granted.append(Permission("pull-requests", "write", "pipegen report comment writes one comment"))
    return tuple(granted)


# Jobs before a stage-barrier job succeeded or were skipped (skipped ones never stop a stage);
# nothing before it failed and the run was not cancelled.
_NOTHING_FAILED = "${{ !cancelled() && !failure() }}"


def _barrier_job_view(stage: Stage, order: StageOrder) -> JobView:
    """One job standing for the previous stage's barrier: the stage's entry jobs need it instead
    of every job of the barrier (stage_order.py). It checks nothing out and installs nothing."""
    plan = order.plan
    barrier = plan.barrier(stage.id)
    title = stage.title
    return JobView(
        id=barrier_job_id(stage.id), name=f"Start {title}",
        comment=_comment_lines(f"{title} starts once the {len(barrier)} jobs before it that must pass succeeded or "
                               f"were skipped: the jobs that open {title} need this one job instead of all of them "
                               "(GitHub has no stages)."),
        runs_on=_checked(plan.settings.github.runs_on, "settings.github.runs_on"),
        needs=barrier, condition=_NOTHING_FAILED, environment=None, timeout_minutes=5, permissions=(),
        outputs=(), env=(), steps=(StepView(name=f"Start {title}", run=f"echo 'Nothing {title} waits for failed'"),))


def _stage_view(stage: Stage, order: StageOrder) -> StageView:
    barrier_jobs = (_barrier_job_view(stage, order),) if stage.id in order.barrier_jobs else ()
    return StageView(title=stage.title, comment=_comment_lines(stage.comment),
                     jobs=(*barrier_jobs, *(_job_view(job, order) for job in stage.jobs)))


def _trigger_view(plan: Plan) -> TriggerView:
    triggers = plan.triggers
    # With data paths, pushes run only when a watched path changes; a new generated
    # workflow is such a change too.
    push_paths = (*triggers.watched_paths, WORKFLOW_PATH) if triggers.data_paths else ()
    return TriggerView(
        branches=tuple(_checked(branch, "triggers.branches") for branch in triggers.branches),
        push_paths=tuple(_checked(path, "triggers.data_paths") for path in push_paths),
        pull_requests=triggers.pull_requests, schedule=triggers.schedule)


class GithubBackend:
    name = "github"
    path = WORKFLOW_PATH
    comment = "#"

    def render(self, plan: Plan) -> str:
        environment = template_environment("github")
        order = StageOrder(plan)
        # Reviewers live in the repository settings: the file says which environments need them.
        return approvals.comment_block(plan) + "\n" + environment.get_template("workflow.yml.j2").render(
            workflow_name=_checked(f"{plan.project} (pipegen)", "project.name"),
            pip_cache=not runs_on_release_branches(plan),
            triggers=_trigger_view(plan),
            stages=[_stage_view(stage, order) for stage in plan.stages],
        )

    def checklist(self, plan: Plan) -> list[ChecklistItem]:
        secret_users = _secret_users(plan)
        items = [_secret_item(name, secret_users.get(name, [])) for name in plan.secrets]
        items += [_variable_item(plan, name) for name in plan.variables]
        items += [_environment_item(plan, name, approval) for name, approval in plan.environments]
        if plan.triggers.schedule:
            items.append(ChecklistItem("schedule", plan.triggers.schedule,
                                       "GitHub runs `on.schedule` from the default branch's copy of the workflow "
                                       "only (UTC); make sure this file is merged there"))
        items += _runner_items(plan)
        items += trust_items(plan, TOKEN_ISSUER, lambda job: _token_subjects(job, plan))
        items += _provenance_items(plan)
        items += runner_tool_items(plan, f"the runs-on {plan.settings.github.runs_on!r} runners")
        if plan.submodules:
            items.append(_submodules_item())
        items += [ChecklistItem("other", "pull request comment",
                                f"{job.id} comments with the job's own GITHUB_TOKEN (pull-requests: write on that job "
                                "only; nothing to configure). Pull requests from forks get a read-only token: there "
                                "the report goes to the job's step summary instead, and the log says so.")
                  for job in plan.jobs if job.review_comment]
        return items


# ---------------------------------------------------------------------------- checklist


def _secret_item(name: str, jobs: list[Job]) -> ChecklistItem:
    where = "a repository secret"
    if jobs and all(job.environment for job in jobs):  # only deployment jobs read it: scope it tighter
        environments = sorted({job.environment for job in jobs if job.environment})
        where += f", or better a secret of the environment(s) {', '.join(environments)}"
    return ChecklistItem("secret", name, f"Settings > Secrets and variables > Actions: {where} "
                                         f"(read as secrets.{name} by {', '.join(job.id for job in jobs) or 'no job'})")


def _secret_users(plan: Plan) -> dict[str, list[Job]]:
    """Secret name -> the jobs that declare it, in plan order (asked per secret: indexed once per plan)."""
    found: dict[str, list[Job]] = {}
    for job in plan.jobs:
        for name in dict.fromkeys(job.secrets):
            found.setdefault(name, []).append(job)
    return found


def _variable_item(plan: Plan, name: str) -> ChecklistItem:
    readers = ", ".join(job.id for job in plan.readers_of(name, (EnvKind.VARIABLE,))) or "no job"
    return ChecklistItem("variable", name, "Settings > Secrets and variables > Actions > Variables: a repository "
                                           f"variable (read as vars.{name} by {readers})")


def _environment_item(plan: Plan, name: str, approval) -> ChecklistItem:
    jobs = [job for job in plan.jobs if job.environment == name]
    branches = sorted({job.branch for job in jobs if job.run_when is RunWhen.BRANCH and job.branch}) \
        or list(plan.triggers.branches)
    detail = [f"Settings > Environments > {name}: used by {', '.join(job.id for job in jobs)}"]
    if approval is not None:
        reviewers = ", ".join(approval.approvers) or "(name the reviewers)"
        detail.append(f"required reviewers: {reviewers} (GitHub waits up to 30 days; the descriptor's "
                      f"{approval.timeout_minutes}-minute approval timeout is not enforced by GitHub)")
    detail.append(f"deployment branches: selected branches {', '.join(branches)}")
    expected = Expected(approval=approval is not None, approvers=approval.approvers if approval else (),
                        branches=tuple(branches))
    return ChecklistItem("environment", name, "; ".join(detail), expected)


def _provenance_items(plan: Plan) -> list[ChecklistItem]:
    attesting = [job.id for job in plan.jobs if job.attests]
    verifying = [job.id for job in plan.jobs if job.verifies]
    if not attesting:
        return []
    return [ChecklistItem("other", "artifact attestations", (
        f"{', '.join(attesting)} attests the image's build provenance (actions/attest-build-provenance) and its "
        "SBOM (actions/attest), and "
        f"{', '.join(verifying) or 'no PROD job'} verifies the provenance with `gh attestation verify` before "
        "deploying. "
        "Artifact attestations are available to public repositories and, for private or internal ones, with "
        "GitHub Enterprise Cloud. The verifying job's runner needs `gh` and pull access to the image's "
        "registry (gh reads the manifest); the build job's registry login must allow pushing the provenance "
        "and SBOM attestations (push-to-registry)."))]


def _token_subjects(job: Job, plan: Plan) -> list[str]:
    """The `sub` claim of the job's OIDC token: its environment when it names one (always, for a
    job that logs in), else the branch it runs on."""
    if job.environment:
        return [f"repo:OWNER/REPO:environment:{job.environment}"]
    return [f"repo:OWNER/REPO:ref:refs/heads/{branch}" for branch in job_branches(job, plan)]


def _submodules_item() -> ChecklistItem:
    return ChecklistItem(
        "other", "git submodules",
        "every job's checkout fetches the repository's git submodules, recursively, with the job's GITHUB_TOKEN "
        "(for the fetch only: persist-credentials is false). That token reads this repository and public ones: a "
        "submodule in another private or internal repository does not fetch with it. Give such submodules public "
        "URLs, or set project.submodules: false and fetch them in a custom job with a deploy key or token of your own")


def _runner_items(plan: Plan) -> list[ChecklistItem]:
    docker_jobs = [job.id for job in plan.jobs if job.docker]
    if not docker_jobs:
        return []
    runs_on = plan.settings.github.runs_on
    return [ChecklistItem("other", "docker", f"job(s) {', '.join(docker_jobs)}: a Docker daemon on runs-on "
                                             f"{runs_on!r} (GitHub-hosted ubuntu runners have one) and push access "
                                             "to the registry (image.username_secret/password_secret in the "
                                             "descriptor, or a runner that is already logged in)")]
