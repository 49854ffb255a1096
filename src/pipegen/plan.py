"""The plan: a backend-neutral graph of stages → jobs → steps, built once from the
descriptor and validated (unknown needs, cycles, output clashes, outputs nobody produces).
Backends only render it; none of them reads the descriptor.

Shell text in `Step.run` is final shell: descriptor values are already shell-quoted
here. Backends only escape it for the syntax it lands in (YAML scalar, Groovy string).
"""
from __future__ import annotations

import heapq
import re
import shlex
from enum import Enum
from functools import cached_property

from pipegen.descriptor.requirement import pipegen_requirement
from pipegen.descriptor.model import STAGES, Approval, CustomJob, Descriptor, Quality, Service, Settings
from pipegen.errors import DescriptorError, Problem, UsageError
from pipegen.gates import profiles
from pipegen.gates.report_formats import FLAKE8_FORMAT, FLAKE8_MARKER, PYLINT_ARGS
from pipegen.records import record, replace
from pipegen.syntax import shell_command

STAGE_TITLES = {"test": "TEST", "qa": "QA", "prod": "PROD", "report": "REPORT"}
# The plan's stages: the descriptor's, then REPORT (pull/merge requests only, never in the descriptor).
PLAN_STAGES = (*STAGES, "report")
STAGE_COMMENTS = {
    "test": "TEST: lint, the test pyramid (unit -> integration -> functional, cheapest first) and Sonar.",
    "qa": "QA: train and gate the candidate model, build the image once, deploy it to QA.",
    "prod": "PROD: after approval, promote the gated model and deploy the same image digest.",
    "report": "REPORT: on pull/merge requests, one comment with every gate's report, also when a gate failed.",
}
REPORT_DIR = "pipegen-reports"
OUTPUTS_FILE = "pipegen-outputs.env"
DRIFT_REPORT = f"{REPORT_DIR}/drift.json"
# CI variables saying a run was started by the schedule (Jenkins has none: there it always trains).
SCHEDULED_RUN_TEST = ('[ "${GITHUB_EVENT_NAME:-}" = schedule ] || [ "${CI_PIPELINE_SOURCE:-}" = schedule ] '
                      '|| [ "${BUILD_REASON:-}" = Schedule ]')
NO_CANDIDATE_GUARD = ('if [ -z "${MODEL_VERSION:-}" ]; then\n'
                      '  echo "no candidate model: training was skipped (no data drift on a scheduled run)"\n'
                      '  exit 0\nfi')
SONAR_SCANNER_REQUIREMENT = "pysonar>=1.0,<2"
COVERAGE_REQUIREMENT = "coverage[toml]>=7.4,<8"
PYTEST_REQUIREMENT = "pytest>=7"
LINTER_REQUIREMENTS = {"ruff": "ruff>=0.5,<1", "pylint": "pylint>=3.2,<5", "flake8": "flake8>=7,<8"}
COVERAGE_DIR = "pipegen-coverage"  # one data file per test level, combined after the last level
UV_REQUIREMENT = "uv>=0.5,<1"
PIPEGEN_MIN_PYTHON = (3, 10)
# Where a job puts pipegen's own venv (up to ~0.9 GB with MLflow): inside what the platform empties,
# so self-hosted agents do not collect one per job. GitHub empties RUNNER_TEMP and Azure
# Agent.TempDirectory after every job; Jenkins stages activate their workspace `.venv`, which the
# next stage recreates with `venv --clear`; `pipegen run` activates the job's own venv (so
# `--venv-cache` keeps pipegen's with it); anywhere else (a GitLab job's container) a new
# temporary folder, never one that concurrent jobs on one host could share.
PIPEGEN_HOME = "${RUNNER_TEMP:-${AGENT_TEMPDIRECTORY:-${VIRTUAL_ENV:-$(mktemp -d)}}}/pipegen"
# Paths besides the data paths that must also start a run when data paths filter pushes.
CODE_PATHS = ("**/*.py", "**/*.sh", "pyproject.toml", "setup.cfg", "requirements*.txt", "Dockerfile",
              "pipegen.yaml")


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
    python: bool = True  # set up Python (with the pip cache) and install `pip_install`
    requirements: tuple[str, ...] = ()  # files for `pip install -r`
    pip_packages: tuple[str, ...] = ()  # extra requirement specifiers
    pipegen: str | None = None  # pipegen's requirement, for jobs that call `pipegen`
    pipegen_index_var: str | None = None  # CI variable with the private index pipegen comes from
    # The job's Python is older than pipegen's minimum: pipegen's venv gets its own interpreter (uv).
    pipegen_needs_python: bool = False
    project_install: tuple[str, ...] = ()  # shell commands installing the project into the job's Python
    cache_files: tuple[str, ...] = ()  # lock files / manifests the dependency cache is keyed on
    services: tuple[Service, ...] = ()  # containers beside the job (tests.services)
    docker: bool = False  # needs a Docker daemon
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
    always: bool = False  # runs after the jobs before it whatever their outcome (failed gates too)
    # False for the model's chain (drift, train, model-gate and what needs them): its failure stops
    # only the jobs that need it (the promotion), not the next stage (the image's deployment).
    blocks_later_stages: bool = True
    collects_reports: bool = False  # fetches every job's kept reports (REPORT_DIR) before its steps
    # Comments on the pull/merge request: the backend grants write access to this job only and
    # maps the platform's token (GitHub GITHUB_TOKEN, Azure System.AccessToken) or `env`'s secret.
    review_comment: bool = False

    @cached_property  # backends ask per step; a Job never changes (replace() makes a new one)
    def install_args(self) -> tuple[str, ...]:
        """Shell-quoted `pip install` arguments for the project's environment: `-r FILE` per
        requirements file, then packages (test tools, linters). pipegen is never among them."""
        return (*(f"-r {shlex.quote(path)}" for path in self.requirements),
                *(shlex.quote(package) for package in self.pip_packages))

    def step_env(self, step: Step) -> tuple[tuple[str, EnvValue], ...]:
        """The env `step` sees: the job's outputs and literals, and of its secrets and CI
        variables only those the step reads."""
        stored = (EnvKind.SECRET, EnvKind.VARIABLE)
        return tuple((name, value) for name, value in self.env
                     if value.kind not in stored or step.reads is None or name in step.reads)

    def install_commands(self, pip: str = "python -m pip install") -> tuple[str, ...]:
        """The job's final install shell commands, in order: the project's environment (the
        job's Python: requirements, tools, then `project_install`), then pipegen's own venv."""
        known = self._install_commands.get(pip)
        if known is None:
            known = self._install_commands[pip] = self._compute_install_commands(pip)
        return known

    @cached_property
    def _install_commands(self) -> dict[str, tuple[str, ...]]:
        """install_commands by pip command, filled as backends ask (several times per job)."""
        return {}

    def _compute_install_commands(self, pip: str) -> tuple[str, ...]:
        commands = [shell_command(pip, *self.install_args)] if self.install_args else []
        commands += self.project_install
        if self.pipegen:
            commands += self._pipegen_commands(pip.split(" -m pip")[0])
        return tuple(commands)

    def _pipegen_commands(self, python: str) -> list[str]:
        """pipegen in a venv of its own, so its dependencies never meet the project's; only
        its `pipegen` command is linked next to the job's `python`, which is on PATH in every
        later step. From a private index with `--index-url` (never `--extra-index-url`), so
        a public package of the same name cannot win the resolution."""
        index = (f'--index-url "${self.pipegen_index_var}"',) if self.pipegen_index_var else ()
        lines = [f'pipegen_home="{PIPEGEN_HOME}"']
        if self.pipegen_needs_python:
            # The job's Python is older than pipegen supports: uv finds (or downloads) a newer
            # interpreter for pipegen's venv only; pip (seeded into it) installs pipegen, so
            # PIP_* settings and the index rules are the same on both routes.
            lines += [shell_command(f"{python} -m pip install --quiet", '--target "$pipegen_home/uv"',
                                    shlex.quote(UV_REQUIREMENT)),
                      '"$pipegen_home/uv/bin/uv" venv --seed --allow-existing --quiet'
                      f' --python \'>={PIPEGEN_MIN_PYTHON[0]}.{PIPEGEN_MIN_PYTHON[1]}\' "$pipegen_home/venv"']
        else:
            lines.append(f'{python} -m venv "$pipegen_home/venv"')
        lines.append(shell_command('"$pipegen_home/venv/bin/python" -m pip install --quiet', *index,
                                   shlex.quote(self.pipegen)))
        lines.append(f'ln -sf "$pipegen_home/venv/bin/pipegen" '
                     f'"$({python} -c \'import os, sys; print(os.path.dirname(sys.executable))\')/pipegen"')
        return lines

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

    def same_stage_needs(self, job: Job) -> tuple[str, ...]:
        return tuple(need for need in job.needs if self.stage_of(need).id == job.stage)

    def earlier_stage_needs(self, job: Job) -> tuple[str, ...]:
        return tuple(need for need in job.needs if self.stage_of(need).id != job.stage)

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
        blocking = [other.id for other in previous.jobs if other.blocks_later_stages]
        covered = set(blocking)
        pending = list(blocking)
        while pending:
            for need in self.all_needs(self.job(pending.pop())):
                if need not in covered:
                    covered.add(need)
                    pending.append(need)
        return (*blocking, *(other for other in self.barrier(previous.id) if other not in covered))

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

    def has_soft_barrier(self, stage_id: str) -> bool:
        """The stage before `stage_id` has jobs its entry jobs do not wait for."""
        previous = self.previous_stage(stage_id)
        return previous is not None and not all(other.blocks_later_stages for other in previous.jobs)


# ---------------------------------------------------------------------------- building


def _q(text: str) -> str:
    return shlex.quote(text)


def _num(value: float | int) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _report(name: str) -> str:
    return f"{REPORT_DIR}/{name}"


def _gate_report_flags(gate: str) -> str:
    return f"--junit {_report(gate + '.junit.xml')} --markdown {_report(gate + '.md')}"


def _pipegen(descriptor: Descriptor, *extras: str) -> str:
    return pipegen_requirement(descriptor.settings.pipegen.requirement, extras)


def _with_pipegen_index(job: Job, index_var: str | None) -> Job:
    """Jobs that install pipegen from a private index read its URL from the CI variable."""
    if index_var is None or job.pipegen is None:
        return job
    return replace(job, pipegen_index_var=index_var,
                   env=_env({**dict(job.env), index_var: EnvValue(EnvKind.VARIABLE, index_var)}))


def _requirements(descriptor: Descriptor, *kinds: str) -> tuple[str, ...]:
    reqs = descriptor.project.requirements
    return tuple(path for kind in kinds if (path := getattr(reqs, kind)))


def _env(pairs: dict[str, EnvValue]) -> tuple[tuple[str, EnvValue], ...]:
    return tuple(sorted(pairs.items()))


def _secret_env(names) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.SECRET, name) for name in names}


def _variable_env(names) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.VARIABLE, name) for name in names}


def _output_env(name: str, producer: str) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.OUTPUT, name, producer)}


def _sources(descriptor: Descriptor) -> tuple[str, ...]:
    return descriptor.project.source


def _targets(descriptor: Descriptor) -> str:
    return " ".join(_q(path) for path in _sources(descriptor)) or "."


def project_install(descriptor: Descriptor) -> tuple[str, ...]:
    """The project's own install commands: `project.install` as written, else an editable
    install when the repository is a package (editable, so coverage maps to its files)."""
    if descriptor.project.install is not None:
        return descriptor.project.install
    return ("python -m pip install -e .",) if descriptor.project.package else ()


def cache_files(descriptor: Descriptor) -> tuple[str, ...]:
    """The files that decide what gets installed: the cache is keyed on the ones in use."""
    text = "\n".join(project_install(descriptor))
    files = [path for path in (descriptor.project.requirements.runtime, descriptor.project.requirements.test,
                               descriptor.project.requirements.dev) if path]
    if "uv sync" in text:
        files.append("uv.lock")
    if "poetry install" in text:
        files.append("poetry.lock")
    if "pip install" in text and ("-e ." in text or "--group" in text or "-e '." in text):
        files.append("pyproject.toml")
    return tuple(dict.fromkeys(files))


def _python_too_old(descriptor: Descriptor) -> bool:
    major, minor = (int(part) for part in descriptor.project.python.split("."))
    return (major, minor) < PIPEGEN_MIN_PYTHON


def _lint_tools(descriptor: Descriptor, thresholds) -> tuple[str, ...]:
    lint = descriptor.quality.lint
    if not lint.enabled:
        return ()
    off = descriptor.quality.off
    if lint.tools is not None:
        return tuple(tool for tool in lint.tools if tool not in off)
    return tuple(tool for tool in ("ruff", "pylint", "flake8")
                 if thresholds[tool] is not None or (lint.ratchet and tool != "ruff" and tool not in off))


def _lint_commands(tool: str, targets: str, out: str) -> str:
    """The tool's report in the format the gate parses, whatever the repository's settings."""
    if tool == "ruff":
        return f"python -m ruff check --output-format=json --exit-zero {targets} > {out}"
    if tool == "pylint":
        return f"python -m pylint {targets} {' '.join(PYLINT_ARGS)} --output-format=json2 > {out} || true"
    # Marked lines in the default format: the repository's format=/show-source/statistics cannot change them.
    return (f"python -m flake8 {targets} --no-show-source {_q('--format=' + FLAKE8_MARKER + FLAKE8_FORMAT)} "
            f"--output-file={out} --exit-zero")


_LINT_FLAGS = {"ruff": ("--ruff-report", "--max-ruff-issues"), "pylint": ("--pylint-report", "--min-score"),
               "flake8": ("--flake8-report", "--max-issues")}
_LINT_REPORTS = {"ruff": "ruff.json", "pylint": "pylint.json", "flake8": "flake8.txt"}


def _lint_job(descriptor: Descriptor, thresholds) -> Job | None:
    tools = _lint_tools(descriptor, thresholds)
    if not tools:
        return None
    lint = descriptor.quality.lint
    compare = lint.compare_branch or thresholds["compare_branch"]
    targets = _targets(descriptor)
    steps = [Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=())]
    flags = []
    for tool in tools:
        report = _report(_LINT_REPORTS[tool])
        steps.append(Step(f"{tool} (report only; the gate decides)", _lint_commands(tool, targets, report)))
        flags.append(f"{_LINT_FLAGS[tool][0]} {report}")
        if thresholds[tool] is not None:
            flags.append(f"{_LINT_FLAGS[tool][1]} {_num(thresholds[tool])}")
    if "compare-branch" in lint.ratchet:
        base = ['reports="$PWD/' + REPORT_DIR + '"', 'base="$(mktemp -d)/base"',
                f'git worktree add --detach "$base" {_q(compare)}', 'cd "$base"']
        for tool in tools:
            base.append(_lint_commands(tool, targets, f'"$reports/base-{_LINT_REPORTS[tool]}"'))
            flags.append(f"--baseline {tool}={_report('base-' + _LINT_REPORTS[tool])}")
        steps.append(Step(f"The same linters on {compare} (the ratchet's baseline)", "\n".join(base)))
    if "changed-lines" in lint.ratchet:
        flags.append("--changed-lines")
    if lint.ratchet:
        flags.append(f"--compare-branch {_q(compare)}")
    steps.append(Step("Lint gate", shell_command("pipegen gate lint", *flags, _gate_report_flags("lint"))))
    ratchet = f"; ratchet: {', '.join(lint.ratchet)} against {compare}" if lint.ratchet else ""
    return Job(
        id="lint", title=f"Lint ({' + '.join(tools)})", stage="test",
        comment="Static analysis in the project's environment; the lint gate fails the job"
                f"{ratchet or ' below the thresholds'}.",
        steps=tuple(steps), requirements=_requirements(descriptor, "runtime", "dev"),
        pipegen=_pipegen(descriptor), pip_packages=tuple(LINTER_REQUIREMENTS[tool] for tool in tools),
        project_install=project_install(descriptor), cache_files=cache_files(descriptor),
        pipegen_needs_python=_python_too_old(descriptor), timeout_minutes=15,
        full_history=bool(lint.ratchet), compare_branch=compare if lint.ratchet else None,
        artifacts=(REPORT_DIR,), junit=(_report("lint.junit.xml"),), gate="lint")


def _coverage_paths_config(sources: tuple[str, ...]) -> str:
    """Shell that writes a coverage `[paths]` file for the combine step only: each level ran in
    its own job, whose checkout may sit at another absolute path (self-hosted and Jenkins agents,
    GitLab shell runners), so every measured `<anything>/SOURCE/` is mapped to this job's
    `SOURCE/`. The project's own coverage configuration still drives `coverage xml`."""
    folders = [source.strip("/").removeprefix("./") for source in sources]
    if not folders or any(folder in ("", ".") for folder in folders):
        return ""  # the whole checkout is measured: no folder name to anchor the mapping on
    lines = ["[paths]"]
    for index, folder in enumerate(folders):
        lines += [f"source{index} =", f"    {folder}/", f"    */{folder}/"]
    return shell_command("printf '%s\\n'", *(_q(line) for line in lines), f"> {COVERAGE_DIR}/paths.rc") + "\n"


def _coverage_data(level: str) -> str:
    return f"{COVERAGE_DIR}/{level}.coverage"


def _test_jobs(descriptor: Descriptor, thresholds) -> list[Job]:
    """Every level runs under coverage into its own data file and hands it on; the last
    level combines them and gates the total and the changed lines (what the whole pyramid
    covers, as the descriptor means it)."""
    jobs: list[Job] = []
    levels = descriptor.tests.levels()
    coverage_min, diff_min = thresholds["coverage_min"], thresholds["coverage_diff_min"]
    gated = coverage_min is not None or diff_min is not None
    sources = _sources(descriptor)
    cov_source = f" --source={_q(','.join(sources))}" if sources else ""
    for index, (level, path) in enumerate(levels):
        last = index == len(levels) - 1
        junit = _report(f"{level}.junit.xml")
        data = _coverage_data(level)
        steps = [Step("Prepare the report folders", f"mkdir -p {REPORT_DIR} {COVERAGE_DIR}", reads=()),
                 Step(f"{level.capitalize()} tests under coverage",
                      f"python -m coverage run --data-file={data}{cov_source} -m pytest {_q(path)} "
                      f"--junitxml={junit}")]
        gate = None
        if last:
            parts = " ".join(_coverage_data(other) for other, _ in levels)
            combined = f"{COVERAGE_DIR}/combined.coverage"
            remap = _coverage_paths_config(sources)
            rcfile = f" --rcfile={COVERAGE_DIR}/paths.rc" if remap else ""
            steps.append(Step("Coverage of all levels (Cobertura XML)",
                              remap + f"python -m coverage combine --keep{rcfile} --data-file={combined} {parts}\n"
                              f"python -m coverage xml --data-file={combined} -o coverage.xml"))
            if gated:
                flags = ["--report coverage.xml"]
                if coverage_min is not None:
                    flags.append(f"--min {_num(coverage_min)}")
                if diff_min is not None:
                    flags.append(f"--diff-min {_num(diff_min)} --compare-branch {_q(thresholds['compare_branch'])}")
                steps.append(Step("Coverage gate", shell_command("pipegen gate coverage", *flags,
                                                                 _gate_report_flags("coverage"))))
                gate = "coverage"
        previous = [other for other, _ in levels[:index]]
        services = descriptor.tests.services if level != "unit" else ()
        jobs.append(Job(
            id=level, title=f"{level.capitalize()} tests", stage="test",
            comment={"unit": "Unit tests under coverage; the fastest level"
                             + (", in parallel with lint." if _lint_tools(descriptor, thresholds) else "."),
                     "integration": "Integration tests, only after the unit tests pass (fail fast).",
                     "functional": "Functional tests, the slowest level, last."}[level]
            + (" Combines the coverage of every level and gates it." if last and gate else ""),
            # Every earlier level, not only the one before: GitLab (`needs:`) and GitHub only
            # hand a job the files of the jobs it needs directly.
            steps=tuple(steps), needs=tuple(previous),
            requirements=_requirements(descriptor, "runtime", "test"),
            pip_packages=(PYTEST_REQUIREMENT, COVERAGE_REQUIREMENT),
            project_install=project_install(descriptor), cache_files=cache_files(descriptor),
            pipegen=_pipegen(descriptor) if gate else None, pipegen_needs_python=_python_too_old(descriptor),
            full_history=last and diff_min is not None,
            compare_branch=thresholds["compare_branch"] if last and diff_min is not None else None,
            junit=(junit,), fetches=tuple(previous),
            artifacts=(REPORT_DIR, "coverage.xml") if last else (REPORT_DIR,),
            hands_over=(data,) if not last else (("coverage.xml",) if descriptor.quality.sonar else ()),
            gate=gate, services=services, env=_env(_service_env(services))))
    return jobs


REPORT_TOKEN_ENV = "PIPEGEN_REPORT_TOKEN"


def _report_job(descriptor: Descriptor) -> Job | None:
    report = descriptor.report
    if not report.comment or not descriptor.triggers.pull_requests:
        return None
    host = f" --host {_q(report.host)}" if report.host else ""
    env = {REPORT_TOKEN_ENV: EnvValue(EnvKind.SECRET, report.token_secret)} if report.token_secret else {}
    return Job(
        id="report-comment", title="Gate report on the pull request", stage="report",
        comment="Collects every gate's Markdown into one comment on the pull/merge request, updated in place; "
                "runs also when a gate failed, and never fails the pipeline itself.",
        steps=(Step("Post or update the report comment", f"pipegen report comment --reports-dir {REPORT_DIR}{host}"),),
        env=_env(env), pipegen=_pipegen(descriptor), timeout_minutes=5, run_when=RunWhen.PULL_REQUEST,
        always=True, collects_reports=True, review_comment=True)


def _service_env(services: tuple[Service, ...]) -> dict[str, EnvValue]:
    """<NAME>_HOST for each service; backends that reach services elsewhere than localhost
    (GitLab's Docker executor: the service's alias) override the value when they render."""
    env: dict[str, EnvValue] = {}
    for service in services:
        env[f"{service.env_prefix}_HOST"] = EnvValue(EnvKind.LITERAL, "localhost")
        if service.ports:
            env[f"{service.env_prefix}_PORT"] = EnvValue(EnvKind.LITERAL, str(service.ports[0]))
    return env


def _check_job(descriptor: Descriptor, compare_branch: str) -> Job:
    """Fails the run when a committed pipeline file no longer matches the descriptor, or was
    edited by hand: the generated files stay the descriptor's, reviewable in one place. On a
    pull request it also says what the change to the pipeline files means (`pipegen diff`)."""
    steps = [Step("pipegen check", f"pipegen check --descriptor {_q(descriptor.path.name)}", reads=())]
    diff = descriptor.quality.pipeline_diff and descriptor.triggers.pull_requests
    if diff:
        steps.append(Step("Pipeline changes (pull requests only)", shell_command(
            "pipegen diff --pull-requests-only", f"--compare-branch {_q(compare_branch)}",
            f"--summary {_report('pipeline-diff.md')}"), reads=()))
    return Job(
        id="pipegen-check", title="Pipelines match the descriptor", stage="test",
        comment=f"`pipegen check`: the committed pipeline files are exactly what {descriptor.path.name} generates"
                + ("; on pull requests, `pipegen diff` says what a change to them means." if diff else "."),
        steps=tuple(steps), pipegen=_pipegen(descriptor, "diff") if diff else _pipegen(descriptor),
        timeout_minutes=5, full_history=diff, compare_branch=compare_branch if diff else None,
        artifacts=(REPORT_DIR,) if diff else ())


def _sonar_job(descriptor: Descriptor, coverage_job: str | None) -> Job | None:
    sonar = descriptor.quality.sonar
    if sonar is None:
        return None
    key = _q(sonar.project_key)
    source = _q(",".join(_sources(descriptor)) or ".")
    coverage = " -Dsonar.python.coverage.reportPaths=coverage.xml" if coverage_job else ""
    allow = " --allow-no-gate" if sonar.allow_no_gate else ""
    return Job(
        id="sonar", title="Sonar analysis and quality gate", stage="test",
        comment="Sonar scan, then pipegen waits for the server's quality gate and fails the job on ERROR "
                "(Azure's own SonarQubePublish never fails a build).",
        steps=(
            Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
            Step("Sonar scanner (reads the token from SONAR_TOKEN)",
                 shell_command("pysonar", '--sonar-host-url="$SONAR_HOST_URL"', f"--sonar-project-key={key}",
                               f"--sonar-sources={source}", coverage.strip())),
            Step("Sonar gate", shell_command("pipegen gate sonar", "--report-task .scannerwork/report-task.txt",
                                             f"--timeout {sonar.timeout}{allow}", _gate_report_flags("sonar"))),
        ),
        # The gate and the scanner read SONAR_HOST_URL and SONAR_TOKEN, whatever the CI calls them.
        needs=(coverage_job,) if coverage_job else (), env=_env({
            "SONAR_HOST_URL": EnvValue(EnvKind.VARIABLE, sonar.host_url_var),
            "SONAR_TOKEN": EnvValue(EnvKind.SECRET, sonar.token_secret)}),
        pipegen=_pipegen(descriptor), pip_packages=(SONAR_SCANNER_REQUIREMENT,), full_history=True,
        timeout_minutes=15 + sonar.timeout // 60, fetches=(coverage_job,) if coverage_job else (),
        artifacts=(REPORT_DIR,), junit=(_report("sonar.junit.xml"),), secrets=(sonar.token_secret,), gate="sonar")


def _registry_env(descriptor: Descriptor) -> dict[str, EnvValue]:
    # MLflow (the training code, the gates, promote) reads MLFLOW_TRACKING_URI, whatever the CI calls it.
    model = descriptor.model
    return {"MLFLOW_TRACKING_URI": EnvValue(EnvKind.VARIABLE, model.tracking_uri_var), **_secret_env(model.secrets)}


def _drift_job(descriptor: Descriptor) -> Job | None:
    drift = descriptor.data.drift
    if drift is None:
        return None
    from_champion = drift.reference_artifact is not None
    retrain = drift.on_drift == "retrain"
    model = descriptor.model
    return Job(
        id="drift", title="Data drift gate", stage="qa",
        comment="Compares the current data with " + ("the champion model's training snapshot" if from_champion
                                                     else "the reference data")
                + " per feature (KS / chi-squared, corrected); schema breaks fail"
                + ("; publishes DATA_DRIFT for train." if retrain else "."),
        steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}"),
               Step("Drift gate", shell_command(
                   "pipegen gate drift", f"--descriptor {_q(descriptor.path.name)}", f"--report-json {DRIFT_REPORT}",
                   _gate_report_flags("drift")), id="drift" if retrain else None)),
        outputs=("DATA_DRIFT",) if retrain else (), output_step="drift" if retrain else None,
        env=_env(_registry_env(descriptor) if from_champion else {}),
        pipegen=_pipegen(descriptor, "drift", "mlflow") if from_champion else _pipegen(descriptor, "drift"),
        timeout_minutes=15, artifacts=(REPORT_DIR,), junit=(_report("drift.junit.xml"),),
        hands_over=(DRIFT_REPORT,) if model is not None else (),
        secrets=model.secrets if from_champion and model else (), gate="drift")


def _train_step(descriptor: Descriptor) -> Step:
    """The training command; with `on_drift: retrain`, skipped on a scheduled run when the
    drift gate found nothing moved (MODEL_VERSION is then published empty)."""
    drift = descriptor.data.drift
    train = descriptor.model.train
    if drift is None or drift.on_drift != "retrain":
        return Step("Train and register", train, id="train")
    script = "\n".join([
        "# Retrain when the data moved, or when the run is not the schedule (a code or data change).",
        f'if [ "${{DATA_DRIFT:-true}}" = false ] && {{ {SCHEDULED_RUN_TEST}; }}; then',
        '  echo "no data drift since the champion and a scheduled run: training skipped"',
        '  pipegen output set MODEL_VERSION ""',
        "else",
        *(f"  {line}" for line in train.splitlines()),
        "fi"])
    return Step("Train and register (skipped when no data drift on a scheduled run)", script, id="train")


def _guarded(step: Step, descriptor: Descriptor) -> Step:
    drift = descriptor.data.drift
    if drift is None or drift.on_drift != "retrain":
        return step
    return replace(step, run=f"{NO_CANDIDATE_GUARD}\n{step.run}")


def _model_jobs(descriptor: Descriptor) -> tuple[list[Job], list[Job]]:
    model = descriptor.model
    if model is None:
        return [], []
    registry_env = _registry_env(descriptor)
    drift = descriptor.data.drift
    drift_env = _output_env("DATA_DRIFT", "drift") if drift is not None and drift.on_drift == "retrain" else {}
    drift_flag = f" --drift-report {DRIFT_REPORT}" if drift is not None else ""
    train = Job(
        id="train", title="Train the candidate model", stage="qa",
        comment="Trains and registers a candidate version; the training command publishes it with "
                "`pipegen output set MODEL_VERSION <version>`.",
        steps=(_train_step(descriptor),), needs=("drift",) if drift is not None else (),
        outputs=("MODEL_VERSION",), output_step="train", env=_env({**registry_env, **drift_env}),
        requirements=_requirements(descriptor, "runtime"), pipegen=_pipegen(descriptor, "mlflow"),
        project_install=project_install(descriptor), cache_files=cache_files(descriptor),
        pipegen_needs_python=_python_too_old(descriptor),
        timeout_minutes=60, secrets=model.secrets,
        # Pull requests never train: their code would register versions in the production
        # registry, with its credentials. A change reaches the registry once it is merged.
        run_when=RunWhen.NOT_PULL_REQUEST)
    metric_flags = [f"--metric {_q(_metric_spec(name, rule))}" for name, rule in model.metrics]
    gate = Job(
        id="model-gate", title="Model failgate", stage="qa",
        comment="Compares the candidate with the champion model: pass (promote after approval), keep "
                "(not better: no promotion, the release goes on) or fail.",
        steps=(Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
               _guarded(Step("Model gate", shell_command(
                   "pipegen gate model --mode auto", f"--model-name {_q(model.name)}",
                   '--candidate-version "$MODEL_VERSION"', f"--champion-alias {_q(model.champion_alias)}",
                   f"--on-first-model {model.on_first_model}", *metric_flags,
                   _gate_report_flags("model") + drift_flag)), descriptor)),
        needs=("train",), fetches=("drift",) if drift is not None else (),
        env=_env({**registry_env, **_output_env("MODEL_VERSION", "train")}),
        pipegen=_pipegen(descriptor, "mlflow"), timeout_minutes=10, artifacts=(REPORT_DIR,),
        junit=(_report("model.junit.xml"),), secrets=model.secrets, gate="model")
    promote = Job(
        id="promote-model", title="Promote the model", stage="prod",
        comment=f"Moves the {model.champion_alias!r} alias to the gated candidate, unless another "
                "pipeline promoted in between.",
        steps=(_guarded(Step("Promote", shell_command(
            "pipegen model promote", f"--model-name {_q(model.name)}", '--candidate-version "$MODEL_VERSION"',
            f"--champion-alias {_q(model.champion_alias)}")), descriptor),),
        env=_env({**registry_env, **_output_env("MODEL_VERSION", "train")}),
        pipegen=_pipegen(descriptor, "mlflow"), timeout_minutes=10, secrets=model.secrets)
    return [train, gate], [promote]


def _metric_spec(name: str, rule) -> str:
    parts = [f"greater_is_better={str(rule.greater_is_better).lower()}"]
    for key in ("threshold", "min_absolute_change", "min_relative_change"):
        if (value := getattr(rule, key)) is not None:
            parts.append(f"{key}={_num(value)}")
    return f"{name}:{','.join(parts)}"


def _build_job(descriptor: Descriptor) -> Job | None:
    image = descriptor.image
    if image is None:
        return None
    # Built once, in the first stage that deploys it, and promoted from there by digest.
    test_env = descriptor.environment("test")
    stage = "test" if test_env is not None and test_env.deploy else "qa"
    ref = f'"${image.registry_var}/{image.name}:$(git rev-parse --short=12 HEAD)"'
    login = []
    if image.username_secret and image.password_secret:
        login = [f'printf \'%s\' "${image.password_secret}" | docker login "${image.registry_var}" '
                 f'--username "${image.username_secret}" --password-stdin']
    script = "\n".join([
        *login,
        f"image={ref}",
        f'docker build --file {_q(image.dockerfile)} --tag "$image" {_q(image.context)}',
        'docker push "$image"',
        "# The digest, not the tag, is what QA and PROD deploy: the same bytes everywhere.",
        "pipegen output set IMAGE_REF \"$(docker inspect --format '{{index .RepoDigests 0}}' \"$image\")\"",
    ])
    return Job(
        id="build", title="Build the image once", stage=stage,
        comment=f"Builds and pushes the image once; {'TEST, ' if stage == 'test' else ''}QA and PROD deploy "
                "this exact digest (IMAGE_REF).",
        steps=(Step("Build, push, publish the digest", script, id="image"),), outputs=("IMAGE_REF",),
        output_step="image", env=_env({**_variable_env([image.registry_var]), **_secret_env(image.all_secrets)}),
        pipegen=_pipegen(descriptor), docker=True, timeout_minutes=30, secrets=image.all_secrets,
        run_when=RunWhen.NOT_PULL_REQUEST)


def _deploy_job(descriptor: Descriptor, stage: str, build: Job | None) -> Job | None:
    environment = descriptor.environment(stage)
    if environment is None or environment.deploy is None:
        return None
    env = {**_secret_env(environment.secrets), **_variable_env(environment.variables)}
    if build is not None:
        env.update(_output_env("IMAGE_REF", build.id))
    return Job(
        id=f"deploy-{stage}", title=f"Deploy to {STAGE_TITLES[stage]}", stage=stage,
        comment=f"Deploys to {STAGE_TITLES[stage]}"
                + (f" the image digest built once in {STAGE_TITLES[build.stage]}." if build else "."),
        steps=(Step(f"Deploy to {STAGE_TITLES[stage]}", environment.deploy),), env=_env(env),
        python=False, timeout_minutes=30, environment=stage, secrets=environment.secrets,
        run_when=RunWhen.NOT_PULL_REQUEST)


# A custom job gets pipegen installed when it publishes outputs (`pipegen output set`, and
# the plan's output check) or its own commands call pipegen; other jobs skip the install.
_CALLS_PIPEGEN = re.compile(r"(?<![\w.-])pipegen(?![\w.-])")


def _custom_job(job: CustomJob, producers: dict[str, str], descriptor: Descriptor) -> Job:
    env: dict[str, EnvValue] = {key: EnvValue(EnvKind.LITERAL, value) for key, value in job.env}
    env.update(_secret_env(job.secrets))
    env.update(_variable_env(job.variables))
    for name in job.inputs:
        if name in producers:
            env.update(_output_env(name, producers[name]))
    return Job(
        id=job.name, title=job.title or job.name, stage=job.stage, comment="A custom job from the descriptor.",
        steps=(Step(job.title or job.name, job.run, id="run" if job.outputs else None),), needs=job.needs,
        outputs=job.outputs, output_step="run" if job.outputs else None, env=_env(env),
        requirements=_requirements(descriptor, "runtime"),
        pipegen=_pipegen(descriptor) if job.outputs or _CALLS_PIPEGEN.search(job.run) else None,
        project_install=project_install(descriptor), cache_files=cache_files(descriptor),
        pipegen_needs_python=_python_too_old(descriptor),
        timeout_minutes=job.timeout_minutes, secrets=job.secrets)


# ---------------------------------------------------------------------------- validation


def _problems(descriptor: Descriptor, jobs: list[Job]) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Job] = {}
    custom_index = {job.name: index for index, job in enumerate(descriptor.jobs)}
    stage_rank = {stage: rank for rank, stage in enumerate(PLAN_STAGES)}

    def where(job_id: str, *rest) -> tuple:
        return ("jobs", custom_index[job_id], *rest) if job_id in custom_index else ("jobs",)

    for job in jobs:
        if job.id in by_id:
            problems.append(descriptor.problem(where(job.id, "name"), f"job name {job.id!r} is already used "
                                               "by a job pipegen generates; choose another name"))
        by_id.setdefault(job.id, job)
    producers: dict[str, str] = {}
    for job in jobs:
        for name in job.outputs:
            if name in producers and producers[name] != job.id:
                problems.append(descriptor.problem(where(job.id, "outputs"), f"output {name!r} is published by both "
                                                   f"{producers[name]!r} and {job.id!r}; output names must be unique"))
            producers.setdefault(name, job.id)
    for job in jobs:
        for position, need in enumerate(job.needs):
            if need not in by_id:
                problems.append(descriptor.problem(where(job.id, "needs", position), f"job {job.id!r} needs unknown "
                                                   f"job {need!r}; known jobs: {', '.join(sorted(by_id))}"))
            elif stage_rank[by_id[need].stage] > stage_rank[job.stage]:
                problems.append(descriptor.problem(where(job.id, "needs", position), f"job {job.id!r} "
                                                   f"({job.stage}) cannot need {need!r} from the later stage "
                                                   f"{by_id[need].stage}"))
    problems += _cycle_problems(descriptor, jobs, by_id, where)
    for custom in descriptor.jobs:
        for position, name in enumerate(custom.inputs):
            if name not in producers:
                problems.append(descriptor.problem(("jobs", custom_index[custom.name], "inputs", position),
                                                   f"job {custom.name!r} reads output {name!r}, which no job produces"))
            elif producers[name] == custom.name:
                problems.append(descriptor.problem(("jobs", custom_index[custom.name], "inputs", position),
                                                   f"job {custom.name!r} reads its own output {name!r}"))
    return problems


def _cycle_problems(descriptor, jobs: list[Job], by_id: dict[str, Job], where) -> list[Problem]:
    """Depth-first, with an explicit stack: a chain of any length, no recursion limit."""
    done: set[str] = set()
    problems: list[Problem] = []
    for root in jobs:
        if root.id in done:
            continue
        trail: list[str] = [root.id]  # the jobs being visited, outermost first
        on_trail: dict[str, int] = {root.id: 0}  # job id -> its index in `trail`
        cursors: list[int] = [0]  # per trail entry: the next need to look at
        while trail:
            job_id = trail[-1]
            needs = by_id[job_id].needs
            if cursors[-1] == len(needs):
                done.add(job_id)
                del on_trail[job_id]
                trail.pop()
                cursors.pop()
                continue
            need = needs[cursors[-1]]
            cursors[-1] += 1
            if need not in by_id or need in done:
                continue
            if need in on_trail:
                cycle = trail[on_trail[need]:] + [need]
                problems.append(descriptor.problem(where(job_id, "needs"), "jobs form a cycle: " + " -> ".join(cycle)))
                continue
            on_trail[need] = len(trail)
            trail.append(need)
            cursors.append(0)
    return problems


# ---------------------------------------------------------------------------- assembling


def _with_needed_outputs(jobs: list[Job]) -> list[Job]:
    """A job that needs a producer, directly or through the jobs it needs, sees the producer's
    outputs as $NAME (its own env entries of the same name win). Needs first (Kahn's order,
    no recursion), each job's set holding producers only, so long chains stay linear."""
    by_id = {job.id: job for job in jobs}
    waiting = {job.id: sum(1 for need in set(job.needs) if need in by_id) for job in jobs}
    dependants: dict[str, list[str]] = {job.id: [] for job in jobs}
    for job in jobs:
        for need in set(job.needs):
            if need in by_id:
                dependants[need].append(job.id)
    ready = [job.id for job in jobs if waiting[job.id] == 0]
    upstream: dict[str, frozenset[str]] = {}
    while ready:
        job_id = ready.pop()
        found: set[str] = set()
        for need in by_id[job_id].needs:
            if need in upstream:
                found |= upstream[need]
                if by_id[need].outputs:
                    found.add(need)
        upstream[job_id] = frozenset(found)
        for dependant in dependants[job_id]:
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                ready.append(dependant)

    def producers_of(job: Job) -> frozenset[str]:
        return upstream.get(job.id, frozenset())  # cycles were rejected before this

    result = []
    for job in jobs:
        env = dict(job.env)
        for producer in sorted(producers_of(job)):
            for name in by_id[producer].outputs:
                env.setdefault(name, EnvValue(EnvKind.OUTPUT, name, producer))
        sorted_env = _env(env)
        result.append(job if sorted_env == job.env else replace(job, env=sorted_env))
    return result


def _with_inputs_as_needs(job: Job) -> Job:
    """A consumer directly needs every producer it reads from: GitHub only exposes the
    outputs of direct needs, and it keeps the graph honest on every platform."""
    needs = tuple(job.needs) + tuple(producer for _, producer in job.inputs if producer not in job.needs)
    return job if needs == job.needs else replace(job, needs=needs)


def _propagate_conditions(jobs: list[Job], prod_branch: str) -> list[Job]:
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


def _ordered(jobs: list[Job]) -> list[Job]:
    """Stage order, then dependency order inside a stage, then the order written: Kahn's
    algorithm, always placing the earliest-written ready job (linear up to a log factor)."""
    ordered: list[Job] = []
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
            ordered.append(pending[index])
            placed += 1
            for dependant in dependants[index]:
                waiting_on[dependant] -= 1
                if waiting_on[dependant] == 0:
                    heapq.heappush(ready, dependant)
        # Cycles are rejected before ordering; keep any leftover in written order regardless.
        if placed < len(pending):
            seen = {job.id for job in ordered}
            ordered += [job for job in pending if job.id not in seen]
    return ordered


def _watched_paths(descriptor: Descriptor) -> tuple[str, ...]:
    if not descriptor.triggers.data_paths:
        return ()
    paths = list(descriptor.triggers.data_paths)
    extra = [descriptor.path.name, *CODE_PATHS]
    extra += [f"{path.rstrip('/')}/**" for _, path in descriptor.tests.levels()]
    extra += [f"{source.rstrip('/')}/**" for source in _sources(descriptor)]
    return tuple(dict.fromkeys(paths + extra))


def effective_thresholds(descriptor: Descriptor) -> dict:
    """Descriptor values win; the named shipped profile fills the gaps. No `quality:`
    section means no gates at all (a library that only wants its tests run)."""
    values: dict = {"pylint": None, "flake8": None, "ruff": None, "coverage_min": None, "coverage_diff_min": None,
                    "compare_branch": "origin/main"}
    if ("quality",) not in descriptor.positions and descriptor.quality == Quality():
        return values
    try:
        coverage = profiles.resolve("coverage", {}, descriptor)
        pylint = profiles.resolve("pylint", {}, descriptor)
        flake8 = profiles.resolve("flake8", {}, descriptor)
        ruff = profiles.resolve("ruff", {}, descriptor)
    except UsageError as exc:
        raise DescriptorError([descriptor.problem(("quality", "profile"), f"quality.profile: {exc}")]) from None
    lint_tools = descriptor.quality.lint.tools
    values.update(pylint=pylint.get("min_score"), flake8=flake8.get("max_issues"),
                  # ruff has a bar when it runs: the repository configures it or the descriptor asks for it
                  ruff=ruff.get("max_issues") if descriptor.quality.ruff is not None
                  or (lint_tools is not None and "ruff" in lint_tools) else None,
                  coverage_min=coverage.get("min"), coverage_diff_min=coverage.get("diff_min"),
                  compare_branch=coverage.get("compare_branch", "origin/main"))
    return values


def build_plan(descriptor: Descriptor) -> Plan:
    """The one graph all backends render; raises DescriptorError on a broken graph."""
    thresholds = effective_thresholds(descriptor)
    test_jobs = _test_jobs(descriptor, thresholds)
    lint = _lint_job(descriptor, thresholds)
    sonar = _sonar_job(descriptor, test_jobs[-1].id if test_jobs else None)
    qa_model, prod_model = _model_jobs(descriptor)
    build = _build_job(descriptor)
    check = _check_job(descriptor, thresholds["compare_branch"])
    jobs: list[Job] = [job for job in [check, lint, *test_jobs, sonar, _drift_job(descriptor), *qa_model, build]
                       if job]
    jobs += [job for job in [_deploy_job(descriptor, "test", build), _deploy_job(descriptor, "qa", build)] if job]
    jobs += prod_model
    deploy_prod = _deploy_job(descriptor, "prod", build)
    if deploy_prod:
        jobs.append(deploy_prod)
    # Every producer is known before any custom job is built: a job may read an output of a
    # job written after it.
    producers = {name: job.id for job in jobs for name in job.outputs}
    for custom in descriptor.jobs:
        producers.update({name: custom.name for name in custom.outputs if name not in producers})
    jobs += [_custom_job(custom, producers, descriptor) for custom in descriptor.jobs]
    report = _report_job(descriptor)
    if report:
        jobs.append(report)
    # Reading an output is needing its producer: validated as a need (cycles, later stages).
    jobs = [_with_inputs_as_needs(job) for job in jobs]
    problems = _problems(descriptor, jobs)
    if problems:
        raise DescriptorError(problems)
    jobs = _with_needed_outputs(jobs)
    jobs = [_with_inputs_as_needs(job) for job in jobs]
    serves_model = descriptor.image is not None and descriptor.image.serves_model
    ids = {job.id for job in jobs}
    jobs = [_with_model_gate_before_prod(job, ids, serves_model) for job in jobs]
    jobs = _with_model_chain(jobs)
    prod_env = descriptor.environment("prod")
    jobs = _ordered(jobs)
    # PROD never runs on any branch: the prod environment's branch, else the first trigger
    # branch (so a manual run of a feature branch cannot promote or deploy).
    release = (prod_env.branch if prod_env and prod_env.branch else None) or next(
        (branch for branch in descriptor.triggers.branches if "*" not in branch), "main")
    jobs = _propagate_conditions(jobs, release)
    jobs = [_with_environment(job, descriptor) for job in jobs]
    jobs = [_with_pipegen_index(job, descriptor.settings.pipegen.index_url_var) for job in jobs]
    if _python_too_old(descriptor):
        jobs = [replace(job, pipegen_needs_python=True) if job.pipegen else job for job in jobs]
    jobs = [_with_output_check(job) for job in jobs]
    stages = tuple(Stage(stage, STAGE_TITLES[stage], STAGE_COMMENTS[stage],
                         tuple(job for job in jobs if job.stage == stage))
                   for stage in PLAN_STAGES if any(job.stage == stage for job in jobs))
    secrets = sorted({name for job in jobs for name in job.secrets})
    variables = sorted({value.value for job in jobs for _, value in job.env if value.kind is EnvKind.VARIABLE})
    triggers = descriptor.triggers
    return Plan(
        project=descriptor.project.name, python=descriptor.project.python, descriptor_path=descriptor.path.name,
        targets=descriptor.targets,
        triggers=Triggers(triggers.branches, triggers.pull_requests, triggers.schedule, triggers.data_paths,
                          _watched_paths(descriptor)),
        stages=stages, settings=descriptor.settings, variables=tuple(variables), secrets=tuple(secrets),
        environments=tuple((env.name, env.approval) for env in descriptor.environments
                           if any(job.environment == env.name for job in jobs)))


def _with_output_check(job: Job) -> Job:
    """A job that promised outputs fails itself when its step did not publish them, instead of
    passing and leaving the failure to the first consumer (an unbound $MODEL_VERSION)."""
    if not job.outputs:
        return job
    check = Step("Verify the promised outputs were published", shell_command("pipegen output check", *job.outputs),
                 reads=())
    return replace(job, steps=(*job.steps, check))


def _with_model_gate_before_prod(job: Job, ids: set[str], serves_model: bool = False) -> Job:
    """Promotion reads MODEL_VERSION from train, but must also wait for the gate's verdict.
    An image that serves the model is deployed to PROD after the model's promotion.
    `ids`: every job's id."""
    if job.id == "promote-model" and "model-gate" in ids:
        return replace(job, needs=tuple(dict.fromkeys((*job.needs, "model-gate"))))
    if job.id == "deploy-prod" and serves_model and "promote-model" in ids:
        return replace(job, needs=tuple(dict.fromkeys((*job.needs, "promote-model"))))
    return job


def _with_model_chain(jobs: list[Job]) -> list[Job]:
    """The model's chain (drift, train, model-gate and every non-PROD job needing one of them)
    does not hold the next stage: a failed or kept-out candidate stops the promotion, while the
    image's deployment goes on unless it needs the promotion (`image.serves_model`)."""
    direct = {job.id: job.needs for job in jobs}
    if "train" not in direct:
        return jobs
    chain = {"drift", "train", "model-gate"} & set(direct)
    changed = True
    while changed:
        changed = False
        for job in jobs:
            if job.id not in chain and job.stage != "prod" and chain & set(job.needs):
                chain.add(job.id)
                changed = True
    return [replace(job, blocks_later_stages=False) if job.id in chain else job for job in jobs]


def _with_environment(job: Job, descriptor: Descriptor) -> Job:
    """Every PROD job runs in the prod environment, so none runs before the approval."""
    environment = descriptor.environment(job.stage)
    if environment is None:
        return job
    if job.stage == "prod" or job.environment == job.stage:
        return replace(job, environment=job.stage, approval=environment.approval)
    return job
