"""The plan's model: stages of jobs of steps, with needs, outputs, environments and run conditions.
A plan is built once (`pipegen.plan.build`) and never changes; backends only read it."""
from __future__ import annotations

import posixpath
from enum import Enum
from functools import cached_property

from pipegen.descriptor.model import STAGES, Approval, CloudIdentity, Service, Settings
from pipegen.plan.install import INSTALLER_UV, install_args, install_lines_and_script
from pipegen.records import record

STAGE_TITLES = {"test": "TEST", "qa": "QA", "prod": "PROD", "report": "REPORT"}


# The plan's stages: the descriptor's, then REPORT (pull/merge requests only, never in the descriptor).
PLAN_STAGES = (*STAGES, "report")


STAGE_COMMENTS = {
    "test": "TEST: lint, the test pyramid (unit -> integration -> functional, cheapest first) and Sonar.",
    "qa": "QA: train and gate the candidate model, build the image once, deploy it to QA.",
    "prod": "PROD: after approval, promote the gated model and deploy the same image digest.",
    "report": "REPORT: on pull/merge requests, one comment with every gate's report, also when a gate failed.",
}
# PROD when the descriptor says `environments.prod.approval: false`.
UNAPPROVED_PROD_COMMENT = ("PROD (no approval: environments.prod.approval is false): promote the gated model "
                           "and deploy the same image digest.")


REPORT_DIR = "pipegen-reports"


OUTPUTS_FILE = "pipegen-outputs.env"


class RunWhen(str, Enum):
    """When a job runs. Conditions only tighten along needs (the plan propagates them)."""

    ALWAYS = "always"
    NOT_PULL_REQUEST = "not-pull-request"  # pushes, schedules and manual runs
    BRANCH = "branch"  # pushes/schedules/manual runs on `Job.branch` only
    PULL_REQUEST = "pull-request"  # pull/merge-request runs only


class EnvKind(str, Enum):
    LITERAL = "literal"  # `value` is the text itself
    # `value` names a secret: GitHub secret, Azure secret variable, GitLab masked variable, Jenkins credential
    SECRET = "secret"
    VARIABLE = "variable"  # `value` names a non-secret CI variable (GitHub vars, Azure/GitLab variables, Jenkins env)
    OUTPUT = "output"  # `value` names an output of job `producer`


_STORED = (EnvKind.SECRET, EnvKind.VARIABLE)  # values kept by the platform, seen only by steps that read them


@record
class EnvValue:
    kind: EnvKind
    value: str
    producer: str | None = None  # job id, for OUTPUT


@record
class Step:
    title: str
    run: str  # final shell; multi-line runs under `set -eu`
    id: str | None = None  # set on the step that calls `pipegen output set`
    # The job's secret/variable env names this step reads; None: all of them (a user's command,
    # whose needs pipegen cannot know). Secrets reach only the steps that read them.
    reads: tuple[str, ...] | None = None


@record
class Job:
    id: str  # lowercase, digits, '-'; backends derive platform ids from it
    title: str
    stage: str
    comment: str
    steps: tuple[Step, ...]
    needs: tuple[str, ...] = ()  # direct needs: same-stage or earlier-stage job ids
    outputs: tuple[str, ...] = ()  # published by the step whose id is `output_step`
    output_step: str | None = None
    env: tuple[tuple[str, EnvValue], ...] = ()  # sorted by name
    python: bool = True  # set up Python (with the installer's cache) and install what the job runs
    installer: str = INSTALLER_UV  # uv | pip: what installs the job's environment and pipegen's (settings.installer)
    install_note: str = ""  # why the job installs what it does (a comment above its install lines)
    requirements: tuple[str, ...] = ()  # files for `pip install -r`
    pip_packages: tuple[str, ...] = ()  # extra requirement specifiers
    editable: bool = False  # the project itself, editable (a package without `project.install`)
    pipegen: str | None = None  # pipegen's requirement, for jobs that call `pipegen`
    pipegen_index_var: str | None = None  # CI variable with the private index pipegen comes from
    # The job's Python is older than pipegen's minimum: pipegen's venv gets its own interpreter (uv).
    pipegen_needs_python: bool = False
    project_install: tuple[str, ...] = ()  # project.install's shell lines, run as written after the rest
    cache_files: tuple[str, ...] = ()  # lock files / manifests the dependency cache is keyed on
    services: tuple[Service, ...] = ()  # containers beside the job (tests.services)
    docker: bool = False  # needs a Docker daemon
    # Commands the runner must provide, which the job does not install (terraform, kubectl, a
    # cloud CLI): the setup checklist names them per job.
    runner_tools: tuple[str, ...] = ()
    full_history: bool = False  # needs full history (diff coverage, Sonar blame)
    compare_branch: str | None = None  # the ref diff coverage compares with, e.g. origin/main
    timeout_minutes: int = 30
    environment: str | None = None  # deployment environment
    approval: Approval | None = None  # the environment requires approval before this job
    run_when: RunWhen = RunWhen.ALWAYS
    branch: str | None = None  # with RunWhen.BRANCH
    junit: tuple[str, ...] = ()  # JUnit XML files to publish as test results
    artifacts: tuple[str, ...] = ()  # files/folders kept after the job (reports, summaries)
    hands_over: tuple[str, ...] = ()  # files later jobs fetch (see `fetches`)
    fetches: tuple[str, ...] = ()  # job ids whose `hands_over` files this job needs
    secrets: tuple[str, ...] = ()  # names also present in `env` (for checklists and Jenkins credentials)
    gate: str | None = None  # the `pipegen gate` this job runs, if any
    # The --mode its gate command carries (the descriptor's quality.mode); None: none, so the
    # CI variable PIPEGEN_GATE_MODE, else enforce, decides (GitHub maps that variable into the job).
    gate_mode: str | None = None
    always: bool = False  # runs after the jobs before it whatever their outcome (failed gates too)
    # False for the model's chain (drift, train, model-gate and what needs them): its failure stops
    # only the jobs that need it (the promotion), not the next stage (the image's deployment).
    blocks_later_stages: bool = True
    collects_reports: bool = False  # fetches every job's kept reports (REPORT_DIR) before its steps
    # Comments on the pull/merge request: the backend grants write access to this job only and
    # maps the platform's token (GitHub GITHUB_TOKEN, Azure System.AccessToken) or `env`'s secret.
    review_comment: bool = False
    # The repository host whose API the comment goes through, for a CI that is not the host itself
    # (Jenkins: `report.host`); GitHub Actions, GitLab CI and Azure Pipelines comment on their own.
    review_host: str | None = None
    # Several projects in one repository (`projects:`): the project this job works for (it runs only
    # when that project changed), the folder its steps run in (its paths are relative to it), and
    # its project's Python when that differs from the plan's.
    project: str | None = None
    folder: str | None = None
    python_version: str | None = None
    # The cloud identity this job logs in as through the CI's short-lived OIDC token
    # (pipegen.plan.identity): the backends grant the token to these jobs only.
    identity: CloudIdentity | None = None
    # Build provenance (pipegen.plan.provenance): the job attests the image its output step
    # publishes; a PROD job verifies the attestation of the image in this env name before it runs.
    attests: bool = False
    verifies: str | None = None
    # CycloneDX SBOMs the job writes (each also in `artifacts`): GitLab declares them as its native
    # `cyclonedx` reports. `image_sbom` is the one describing the image the output step publishes:
    # attested to that digest where the platform attests (GitHub, with `attests`).
    sboms: tuple[str, ...] = ()
    image_sbom: str | None = None

    def at_root(self, path: str) -> str:
        """`path` (relative to the job's folder) relative to the repository root."""
        return path if self.folder is None else posixpath.join(self.folder, path)

    @cached_property  # backends ask per step; a Job never changes (replace() makes a new one)
    def install_args(self) -> tuple[str, ...]:
        """Shell-quoted `pip install` arguments for the project's environment: `-r FILE` per
        requirements file, then packages (test tools, linters). pipegen is never among them."""
        return install_args(self.requirements, self.pip_packages)

    def step_env(self, step: Step) -> tuple[tuple[str, EnvValue], ...]:
        """The env `step` sees: the job's outputs and literals, and of its secrets and CI
        variables only those the step reads."""
        if step.reads is None or not self._stored_env:
            return self.env
        return tuple((name, value) for name, value in self.env
                     if value.kind not in _STORED or name in step.reads)

    @cached_property  # step_env is asked per step and platform
    def _stored_env(self) -> bool:
        """Whether any of the job's env comes from a secret or a CI variable."""
        return any(value.kind in _STORED for _, value in self.env)

    def install_commands(self, pip: str = "python -m pip install") -> tuple[str, ...]:
        """The job's final install shell lines (`pipegen.plan.install`), computed once per pip command."""
        return self._install(pip)[0]

    def install_script(self, pip: str = "python -m pip install") -> str:
        """install_commands as the one shell text every platform writes; empty when nothing is installed."""
        return self._install(pip)[1]

    def _install(self, pip: str) -> tuple[tuple[str, ...], str]:
        known = self._installs.get(pip)
        if known is None:
            known = self._installs[pip] = install_lines_and_script(self, pip)
        return known

    def installs_with_uv(self) -> bool:
        """Whether uv installs this job's environment: it installs something, with uv as the installer."""
        return self.installer == INSTALLER_UV and bool(self.install_commands())

    @cached_property
    def _installs(self) -> dict[str, tuple[tuple[str, ...], str]]:
        """(install lines, script) by pip command, filled as backends ask (several times per job)."""
        return {}

    @cached_property
    def inputs(self) -> tuple[tuple[str, str], ...]:
        """(output name, producer job id) for every output this job reads."""
        return tuple((value.value, value.producer) for _, value in self.env
                     if value.kind is EnvKind.OUTPUT and value.producer)


@record
class Stage:
    id: str
    title: str
    comment: str
    jobs: tuple[Job, ...]


@record
class Triggers:
    branches: tuple[str, ...]
    pull_requests: bool
    schedule: str | None
    data_paths: tuple[str, ...]
    # When data paths are given, pushes run the pipeline only when one of these changes.
    watched_paths: tuple[str, ...]


@record
class Plan:
    project: str
    python: str
    descriptor_path: str
    targets: tuple[str, ...]
    triggers: Triggers
    stages: tuple[Stage, ...]
    settings: Settings  # per-platform runner settings
    variables: tuple[str, ...] = ()  # CI variables the pipeline reads, by name
    secrets: tuple[str, ...] = ()  # secrets the pipeline reads, by name
    environments: tuple[tuple[str, Approval | None], ...] = ()
    notes: tuple[str, ...] = ()
    submodules: bool = False  # every job's checkout fetches the git submodules, recursively
    # Several projects: (project, the path globs whose change runs its jobs), in declared order;
    # the job `selector` (when set) publishes CHANGED_<PROJECT> for each.
    project_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
    selector: str | None = None

    def python_of(self, job: Job) -> str:
        return job.python_version or self.python

    @cached_property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(job for stage in self.stages for job in stage.jobs)

    @cached_property
    def _index(self) -> dict[str, tuple[Job, Stage]]:
        """Job id -> (job, stage): backends look jobs up per job and per need."""
        return {job.id: (job, stage) for stage in self.stages for job in stage.jobs}

    @cached_property
    def _previous(self) -> dict[str, Stage | None]:
        return {stage.id: (self.stages[index - 1] if index else None) for index, stage in enumerate(self.stages)}

    @cached_property
    def collects_reports(self) -> bool:
        """Some job gathers every job's report folder (backends ask per job)."""
        return any(job.collects_reports for job in self.jobs)

    def job(self, job_id: str) -> Job:
        return self._index[job_id][0]

    def stage_of(self, job_id: str) -> Stage:
        return self._index[job_id][1]

    def previous_stage(self, stage_id: str) -> Stage | None:
        return self._previous[stage_id]

    @cached_property
    def _needs_by_stage(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Job id -> (its needs in its own stage, its needs in earlier stages): every backend asks per job."""
        return {job.id: self._needs_split(job) for job in self.jobs}

    def _needs_split(self, job: Job) -> tuple[tuple[str, ...], tuple[str, ...]]:
        same = tuple(need for need in job.needs if self.stage_of(need).id == job.stage)
        return same, tuple(need for need in job.needs if need not in same)

    def _split_needs(self, job: Job) -> tuple[tuple[str, ...], tuple[str, ...]]:
        known = self._needs_by_stage.get(job.id)
        if known is not None and self._index[job.id][0] is job:
            return known
        return self._needs_split(job)  # a job made from one of the plan's (another object)

    def same_stage_needs(self, job: Job) -> tuple[str, ...]:
        return self._split_needs(job)[0]

    def earlier_stage_needs(self, job: Job) -> tuple[str, ...]:
        return self._split_needs(job)[1]

    def is_stage_entry(self, job: Job) -> bool:
        """An entry job has no same-stage needs: it waits for the whole previous stage."""
        return not self.same_stage_needs(job)

    @cached_property
    def report_sources(self) -> tuple[str, ...]:
        """The jobs whose kept report folder (REPORT_DIR) a reports-collecting job fetches, in
        plan order: nothing else of theirs (hand-overs, outputs) is for it."""
        if not self.collects_reports:
            return ()
        return tuple(job.id for job in self.jobs if REPORT_DIR in job.artifacts and not job.collects_reports)

    def all_needs(self, job: Job) -> tuple[str, ...]:
        """Needs for platforms without stages (GitHub): the explicit needs, plus the barrier of
        the previous stage for a stage's entry jobs, so the stage order holds."""
        needs = list(job.needs)
        if self.is_stage_entry(job):
            needs += [other for other in self.barrier(job.stage) if other not in needs]
        return tuple(needs)

    def barrier(self, stage_id: str) -> tuple[str, ...]:
        """The jobs of earlier stages that `stage_id`'s entry jobs wait for: the previous stage's
        jobs but the model's chain (its failure stops only the jobs that need it), and what of
        the previous stage's own barrier those do not already wait for."""
        if stage_id not in self._barriers:  # asked once per entry job: computed once per stage
            self._barriers[stage_id] = self._barrier(stage_id)
        return self._barriers[stage_id]

    @cached_property
    def _barriers(self) -> dict[str, tuple[str, ...]]:
        return {}

    def _barrier(self, stage_id: str) -> tuple[str, ...]:
        previous = self.previous_stage(stage_id)
        if previous is None:
            return ()
        blocking = tuple(other.id for other in previous.jobs if other.blocks_later_stages)
        # Each of those waits, through its same-stage needs, for an entry job of the previous
        # stage, which waits for that stage's whole barrier: nothing of it is left to add.
        return blocking or self.barrier(previous.id)

    def model_chain_needs(self, job: Job) -> tuple[str, ...]:
        """The jobs of the model's chain `job` needs, directly or through other needs, in plan order."""
        found = self._model_chain_upstream[job.id]
        return tuple(other for other in self._model_chain if other in found) if found else ()

    @cached_property
    def _model_chain(self) -> tuple[str, ...]:
        return tuple(job.id for job in self.jobs if not job.blocks_later_stages)

    @cached_property
    def _model_chain_upstream(self) -> dict[str, frozenset[str]]:
        """Per job, the model-chain jobs among everything it needs: one pass in plan order (a job's
        needs come before it), so a long chain of needs costs linear time, not a walk per job."""
        upstream: dict[str, frozenset[str]] = {}
        for job in self.jobs:
            found: set[str] = set()
            for need in job.needs:
                found |= upstream[need]
                if not self.job(need).blocks_later_stages:
                    found.add(need)
            upstream[job.id] = frozenset(found)
        return upstream

    def readers_of(self, name: str, kinds: tuple[EnvKind, ...] = (EnvKind.SECRET, EnvKind.VARIABLE)) -> tuple[Job, ...]:
        """The jobs, in plan order, whose env reads the secret or CI variable `name` (under
        whatever env name): checklists ask per name, so the plan is indexed once."""
        return tuple(job for job, kind in self._readers.get(name, ()) if kind in kinds)

    @cached_property
    def _readers(self) -> dict[str, list[tuple[Job, EnvKind]]]:
        found: dict[str, list[tuple[Job, EnvKind]]] = {}
        for job in self.jobs:
            stored = (value for _, value in job.env if value.kind in (EnvKind.SECRET, EnvKind.VARIABLE))
            for value in dict.fromkeys(stored):
                found.setdefault(value.value, []).append((job, value.kind))
        return found

    def upstream_environments(self, job: Job) -> frozenset[str]:
        """The environments of the jobs `job` needs, directly or through other needs."""
        return self._upstream_environments[job.id]

    @cached_property
    def _upstream_environments(self) -> dict[str, frozenset[str]]:
        """One pass in plan order (a job's needs come before it): a plan has a few environments,
        so each set stays small and the pass is linear in jobs and needs."""
        upstream: dict[str, frozenset[str]] = {}
        for job in self.jobs:
            found: set[str] = set()
            for need in job.needs:
                found |= upstream[need]
                environment = self.job(need).environment
                if environment is not None:
                    found.add(environment)
            upstream[job.id] = frozenset(found)
        return upstream

    def has_soft_barrier(self, stage_id: str) -> bool:
        """The stage before `stage_id` has jobs its entry jobs do not wait for."""
        return stage_id in self._soft_barriers

    @cached_property  # asked per entry job: each stage is looked at once
    def _soft_barriers(self) -> frozenset[str]:
        return frozenset(stage.id for stage in self.stages
                         if (previous := self.previous_stage(stage.id)) is not None
                         and not all(other.blocks_later_stages for other in previous.jobs))
