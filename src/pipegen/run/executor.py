"""One job on this machine: a clean working copy, a fresh venv, the job's environment as
the CI would give it, the install command and the plan's steps under bash, and the
outputs it published read back from `pipegen output set`'s local file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from pipegen import scrub
from pipegen.ci.outputs import check_output
from pipegen.errors import PipegenError
from pipegen.paths import read_bytes
from pipegen.plan import EnvKind, Job, Plan
from pipegen.run import venv as venvs
from pipegen.run.commands import bash_script, install_script, job_commands
from pipegen.run.verdict import failed_step

# Variables by which pipegen (and other tools) believe they run in a CI: a local run is not
# one, so `pipegen output set` uses its local file and gates do not publish CI summaries.
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_NAME",
                "TF_BUILD", "BUILD_REASON", "GITLAB_CI", "CI_PIPELINE_SOURCE", "JENKINS_URL", "CHANGE_ID",
                "PIPEGEN_GATE_MODE", "PIPEGEN_OUTPUTS_FILE", "PIPEGEN_OUTPUTS_LEDGER", "PIPEGEN_EVENT",
                "PIPEGEN_BRANCH", "RUNNER_TEMP", "AGENT_TEMPDIRECTORY", "VIRTUAL_ENV", "PYTHONHOME")
Emit = Callable[[str, str], None]  # (job id, one line of output) or (job id, the title of the step it starts)
MAX_OUTPUTS_BYTES = 1024 * 1024


@dataclass
class JobResult:
    job_id: str
    status: str  # passed | failed | skipped | refused
    duration: float = 0.0
    exit_code: int | None = None
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    # Per command run (install, then the plan's steps): kind, title, wall seconds and CPU seconds
    # (user + system of the step's shell and everything it waited for: pip, uv, pytest...).
    timings: list[dict[str, Any]] = field(default_factory=list)


def missing_values(jobs: tuple[Job, ...], environ: Mapping[str, str]) -> list[str]:
    """'job: NAME, a secret|variable' for every secret or variable a job reads that the
    caller's environment does not set."""
    missing = []
    for job in jobs:
        for name, value in job.env:
            if value.kind in (EnvKind.SECRET, EnvKind.VARIABLE) and value.value not in environ:
                shown = value.value if value.value == name else f"{value.value} (read as {name})"
                missing.append(f"{job.id}: {shown}, a {value.kind.value}")
    return missing


def job_environment(plan: Plan, job: Job, environ: Mapping[str, str], outputs: Mapping[str, Mapping[str, str]],
                    extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment as a CI runner's would be: no CI markers, no secret the job
    does not declare, no stale output values; then the job's own env from the plan."""
    own_secrets = {value.value for _, value in job.env if value.kind is EnvKind.SECRET}
    dropped = set(CI_VARIABLES) | (set(plan.secrets) - own_secrets)
    dropped |= {name for other in plan.jobs for name in other.outputs}
    env = {name: value for name, value in environ.items() if name not in dropped}
    for name, value in job.env:
        if value.kind is EnvKind.LITERAL:
            env[name] = value.value
        elif value.kind is EnvKind.OUTPUT:
            env[name] = outputs.get(value.producer or "", {}).get(value.value, "")
        else:
            env[name] = environ[value.value]
    env.update(extra)
    return env


def read_outputs(path: Path) -> dict[str, str]:
    """NAME=value lines written by `pipegen output set` (later lines win), read through the
    one safe reader; a line `output set` would not have written (a NUL, a control character)
    and a file it refuses (a FIFO, a link out of the job's folder) publish nothing."""
    values: dict[str, str] = {}
    if not os.path.lexists(path):
        return values
    try:
        data = read_bytes(path, MAX_OUTPUTS_BYTES, root=path.parent)
    except PipegenError:
        return values
    for line in data.decode("utf-8", errors="replace").split("\n"):
        name, sep, value = line.partition("=")
        try:
            check_output(name, value)
        except PipegenError:
            continue
        if sep:
            values[name] = value
    return values


@dataclass
class JobContext:
    """Where and with what a job runs."""

    plan: Plan
    job: Job
    workdir: Path  # the project folder inside the job's working copy
    job_dir: Path  # holds the working copy, the venv and the outputs file
    python: str
    environ: Mapping[str, str]
    outputs: Mapping[str, Mapping[str, str]]  # producer job id -> published values
    event: str
    log: Path
    branch: str = ""  # the branch the run is for (--branch): what the changed-lines gates build
    venv_cache: Path | None = None  # --venv-cache: seed venvs from earlier ones with the same inputs
    extra_env: Mapping[str, str] = field(default_factory=dict)  # over the plan's env (--service addresses)
    uv: str | None = None  # the uv the jobs' install lines find first on PATH (None: they install their own)


_LIVE: set["_Step"] = set()  # steps running now, stopped together when the run is interrupted
_LIVE_LOCK = threading.Lock()


class _Step:
    """One bash process in its own process group, killed as a group at the deadline."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]):
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with  # waited for by _run_streamed
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.timed_out = False

    def kill(self, timed_out: bool = True) -> None:
        self.timed_out = timed_out
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _run_streamed(argv: list[str], cwd: Path, env: dict[str, str], seconds: float, on_line: Callable[[str], None]
                  ) -> tuple[int, bool, float]:
    """(exit code, timed out, CPU seconds of the process and the children it waited for)."""
    step = _Step(argv, cwd, env)
    with _LIVE_LOCK:
        _LIVE.add(step)
    timer = threading.Timer(max(seconds, 0.0), step.kill)
    timer.start()
    try:
        assert step.process.stdout is not None
        for raw in step.process.stdout:
            on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        _, status, usage = os.wait4(step.process.pid, 0)
        step.process.returncode = code = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        with _LIVE_LOCK:
            _LIVE.discard(step)
    return code, step.timed_out, usage.ru_utime + usage.ru_stime


def stop_all() -> None:
    """Kills every running step's process group (Ctrl-C: jobs run in their own sessions,
    so the terminal's interrupt does not reach them)."""
    with _LIVE_LOCK:
        steps = list(_LIVE)
    for step in steps:
        step.kill(timed_out=False)


def _make_venv(context: JobContext, env: dict[str, str], line: Callable[[str], None]) -> tuple[str | None, ...]:
    """Makes the job's venv (seeded from --venv-cache when it can be) and puts it first on PATH,
    then the uv the install lines use; returns the cache keys to store it and pipegen's own venv
    under once installed (None for what should not be stored)."""
    venv = context.job_dir / "venv"
    key = pipegen_key = None
    cache = context.venv_cache
    if cache is not None:
        key = venvs.cache_key(context.python, (install_script(context.job),), context.job.requirements,
                              context.workdir)
        if venvs.seed_from_cache(cache, key, venv):
            line(f"venv seeded from {cache / key} (--venv-cache); the install command still runs")
            key = None  # cached already
    if not venv.exists():
        line(f"$ {context.python} -m venv {venv}")
        venvs.create(context.python, venv)
    job = context.job
    if cache is not None and job.pipegen and not venvs.pipegen_venv(venv).exists():
        # Jobs with different project installs share pipegen's own venv: seeded, the installer finds it satisfied.
        pipegen_key = venvs.pipegen_cache_key(context.python, job.pipegen, job.pipegen_index_var,
                                              job.pipegen_needs_python)
        venvs.pipegen_venv(venv).parent.mkdir(parents=True, exist_ok=True)
        if venvs.seed_from_cache(cache, pipegen_key, venvs.pipegen_venv(venv)):
            line(f"pipegen's venv seeded from {cache / pipegen_key} (--venv-cache)")
            pipegen_key = None
    path = [str(venvs.bin_dir(venv))]
    if context.uv is not None:
        # A folder holding only `uv`: the folder uv came from (pipegen's own venv) must not reach the job.
        uv_bin = context.job_dir / "uv-bin"
        uv_bin.mkdir(exist_ok=True)
        (uv_bin / "uv").symlink_to(context.uv)
        path.append(str(uv_bin))
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    return key, pipegen_key


def _store_venvs(cache: Path, keys: tuple[str | None, ...], venv: Path) -> None:
    """Keeps the job's venv and pipegen's own (when the install made it) as seeds for later jobs."""
    key, pipegen_key = keys or (None, None)
    if key is not None:
        venvs.store_in_cache(cache, key, venv)
    if pipegen_key is not None and (venvs.bin_dir(venvs.pipegen_venv(venv)) / "pipegen").exists():
        venvs.store_in_cache(cache, pipegen_key, venvs.pipegen_venv(venv))


def _environment(context: JobContext) -> dict[str, str]:
    # TMPDIR inside the job's folder: what a job makes with mktemp (pipegen's own venv) goes with it.
    (context.job_dir / "tmp").mkdir(parents=True, exist_ok=True)
    extra = {"PIPEGEN_OUTPUTS_FILE": str(context.job_dir / "outputs.env"),
             "PIPEGEN_OUTPUTS_LEDGER": str(context.job_dir / "ledger"), "PIPEGEN_EVENT": context.event,
             "PIPEGEN_BRANCH": context.branch,
             "TMPDIR": str(context.job_dir / "tmp"), **context.extra_env}
    return job_environment(context.plan, context.job, context.environ, context.outputs, extra)


def _new_log(path: Path) -> TextIO:
    """The job's log, a new file in the run's own logs folder, never through a link left there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, 0o666), "w", encoding="utf-8")


def _version(python: str) -> str:
    """The job's Python as a version: `python3.11` -> 3.11; pipegen's own interpreter (used when the
    plan's version is not on PATH) -> its version; any other path as it is."""
    name = Path(python).name
    if name.startswith("python3."):
        return name.removeprefix("python")
    if python == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    return python


def execute(context: JobContext, emit: Emit, on_step: Emit | None = None) -> JobResult:
    """Runs the job; never raises for what the job does (a failing step is a failed job). Every line
    goes to the job's log and to `emit`; `on_step` hears each step's title as it starts."""
    job = context.job
    started = time.monotonic()
    deadline = started + job.timeout_minutes * 60
    env = _environment(context)
    context.log.parent.mkdir(parents=True, exist_ok=True)
    with _new_log(context.log) as log:
        def line(text: str) -> None:
            text = scrub.redact(text)  # a secret a job prints stays out of the log and the console
            log.write(text + "\n")
            log.flush()
            emit(job.id, text)

        def finish(status: str, code: int | None, message: str, outputs: dict[str, str] | None = None) -> JobResult:
            if message:
                line(f"pipegen run: {message}")
            return JobResult(job.id, status, time.monotonic() - started, code, message, outputs or {}, timings)

        cache_keys: tuple[str | None, ...] = ()
        timings: list[dict[str, Any]] = []
        if job.python:
            if on_step is not None:
                on_step(job.id, "Python environment")
            try:
                cache_keys = _make_venv(context, env, line)
            except Exception as exc:  # pylint: disable=broad-exception-caught  # reported as the job's failure
                return finish("failed", None, str(exc))
        for command in job_commands(job):
            if on_step is not None:
                on_step(job.id, command.title)
            line(f"--- {command.title}")
            for text in command.script.splitlines():
                line(f"$ {text}")
            begun = time.monotonic()
            code, timed_out, cpu = _run_streamed(["bash", "--noprofile", "--norc", "-c", bash_script(command)],
                                                 context.workdir, env, deadline - time.monotonic(), line)
            timings.append({"kind": command.kind, "title": command.title,
                            "seconds": round(time.monotonic() - begun, 2), "cpu_seconds": round(cpu, 2)})
            if timed_out:
                return finish("failed", code, f"timed out after {job.timeout_minutes} minutes (the job's timeout)")
            if code != 0:
                return finish("failed", code, failed_step(job, command.kind, command.title, code, context.workdir,
                                                          _version(context.python), "-m pytest" in command.script,
                                                          context.plan.submodules))
            if command.kind == "install" and context.venv_cache is not None:
                _store_venvs(context.venv_cache, cache_keys, context.job_dir / "venv")
        published = read_outputs(context.job_dir / "outputs.env")
        missing = [name for name in job.outputs if name not in published]
        if missing:
            return finish("failed", 0, f"the job declares output {', '.join(missing)} but did not publish it "
                                       "(`pipegen output set NAME VALUE`); jobs reading it would get nothing")
        return finish("passed", 0, "", {name: published[name] for name in job.outputs})
