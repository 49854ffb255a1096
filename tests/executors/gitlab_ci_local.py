"""Runs a repository's committed `.gitlab-ci.yml` under gitlab-ci-local 4.73.0 (TEST FIXTURE harness).

What GitLab provides around a pipeline, and how it is given here:
- the runner: gitlab-ci-local's shell executor (`--force-shell-executor`; no Docker daemon runs here), with
  `--shell-isolation`, so each job gets its own working copy of the tracked files and GitLab's artifact
  handling (dotenv reports included) instead of sharing the checkout;
- the `python:X-slim` image: each job's own fresh venv, made by the `python` shim shared with the GitHub
  harness (job-python/) on the job's first `python` call (PATH = stand-ins, the shims, the job's venv, the host);
- services (`docker:dind`): gitlab/container-engine answers gitlab-ci-local's engine calls; the `docker`
  stand-in plays the daemon in the job;
- CI/CD variables and secrets (MLFLOW_TRACKING_URI, SONAR_TOKEN, ...) and the predefined variables GitLab
  sets for a push or merge request pipeline: `--variable`/`--unset-variable`, so `rules:` see what GitLab's
  would. gitlab-ci-local sets GITLAB_CI=false; GitLab sets true, and pipegen reads it, so it is set back;
- approvals: manual jobs released with `--manual`.
The pipeline file itself is never touched.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

from .plugin import ROOT, ExampleRepo, Wheelhouse, environment_without

VERSION = "4.73.0"
HERE = Path(__file__).resolve().parent / "gitlab"
JOB_BIN = HERE / "job-bin"
JOB_PYTHON = HERE.parent / "job-python"
CONTAINER_ENGINE = HERE / "container-engine"
INSTALL_HINT = (f"gitlab-ci-local {VERSION} is needed: `npm install --prefix .tools gitlab-ci-local@{VERSION}` "
                "from the repository root (Node 20), or put it on PATH")
ZERO_SHA = "0" * 40
PIPELINE_TIMEOUT_SECONDS = 2700  # a hang, not a slow machine: two workers share two cores
STATUS_LINE = re.compile(r"^ (PASS|WARN|FAIL) +(?:\[[^\]]*\] +)?(\S+)")
# Host variables that would make a job believe something GitLab would not tell it.
HOST_VARIABLES_DROPPED = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "TF_BUILD",
                          "JENKINS_URL", "BUILD_URL", "CHANGE_ID", "MLFLOW_TRACKING_URI", "MODEL_VERSION",
                          "IMAGE_REF", "SONAR_TOKEN", "SONAR_HOST_URL", "PIPEGEN_GATE_MODE", "PIPEGEN_OUTPUTS_FILE",
                          "VIRTUAL_ENV", "PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")


def gitlab_ci_local_command() -> list[str]:
    """The pinned gitlab-ci-local: the repo's `.tools` install first, then PATH."""
    local = ROOT / ".tools" / "node_modules" / ".bin" / "gitlab-ci-local"
    found = str(local) if local.exists() else shutil.which("gitlab-ci-local")
    if not found:
        pytest.fail(INSTALL_HINT, pytrace=False)
    done = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    if done.stdout.strip() != VERSION:
        pytest.fail(f"found gitlab-ci-local {done.stdout.strip() or done.stderr.strip()!r} at {found}; "
                    + INSTALL_HINT, pytrace=False)
    return [found]


@dataclass
class PipelineRun:
    """What gitlab-ci-local reported: exit code, the whole output, each started job's status and log."""

    returncode: int
    output: str
    statuses: dict[str, str]
    logs: dict[str, str]
    docker_calls: list[list[str]] = field(default_factory=list)

    def log(self, job: str) -> str:
        return self.logs.get(job, "")

    def explain(self) -> str:
        return f"exit {self.returncode}; statuses {self.statuses}\n{self.output[-6000:]}"


@dataclass
class GitlabCiLocal:
    """One repository's runs; `variables` are the project's CI/CD variables (and secrets)."""

    repo: ExampleRepo
    wheelhouse: Wheelhouse
    standin_bin: Path
    work: Path
    variables: dict[str, str] = field(default_factory=dict)
    runs: count = field(default_factory=lambda: count(1))

    def __post_init__(self) -> None:
        # gitlab-ci-local keeps its state in the repository; keep it out of commits.
        exclude = self.repo.root / ".git" / "info" / "exclude"
        exclude.parent.mkdir(exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            handle.write("/.gitlab-ci-local/\n")

    def run(self, source: str = "push", *, manual: tuple[str, ...] = (), before_sha: str | None = None,
            variables: dict[str, str] | None = None, merge_request_target: str = "main",
            jobs: tuple[str, ...] = ()) -> PipelineRun:
        """Runs the pipeline GitLab would start for `source` (push | merge_request_event) at HEAD; with `jobs`,
        only those jobs (each needing only jobs among them)."""
        number = next(self.runs)
        venvs = self.work / f"run-{number}-venvs"
        docker_log = self.work / f"run-{number}-docker.log"
        state = self.repo.root / ".gitlab-ci-local"
        shutil.rmtree(state, ignore_errors=True)
        host_path = environment_without()["PATH"]
        job_variables = {
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": source,
            "PATH": os.pathsep.join([str(self.standin_bin), str(JOB_PYTHON), str(JOB_BIN), f"{venvs}/$CI_JOB_NAME/bin",
                                    host_path]),
            "PIPEGEN_TEST_JOB_VENV": f"{venvs}/$CI_JOB_NAME",
            "PIPEGEN_TEST_BASE_PYTHON": sys.executable,
            "PIPEGEN_TEST_DOCKER_LOG": str(docker_log),
            "PIPEGEN_TEST_KUBECTL_STATE": str(docker_log.parent / "cluster"),
            # The runner's shared uv and pip caches (gitlab-ci-local would expand $CI_PROJECT_DIR in the
            # file's UV_CACHE_DIR and PIP_CACHE_DIR to a /builds path that does not exist on a shell runner)
            # and pipegen's local build. No uv on PATH, as in the python image: each job installs the
            # pinned uv with pip, as on GitLab.
            "PIP_CACHE_DIR": str(self.wheelhouse.pip_cache),
            "PIP_FIND_LINKS": self.wheelhouse.find_links,
            **self.wheelhouse.uv_environment,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            # A job whose `python` is not its own venv's must fail, not install into the host's Python.
            "PIP_REQUIRE_VIRTUALENV": "true",
            **self.variables,
            **(variables or {}),
        }
        unset: list[str] = []
        if source == "merge_request_event":
            branch = self.repo.git("rev-parse", "--abbrev-ref", "HEAD")
            unset.append("CI_COMMIT_BRANCH")  # GitLab sets no branch in merge request pipelines
            job_variables.update({
                "CI_MERGE_REQUEST_IID": "1",
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch,
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": merge_request_target,
                "CI_MERGE_REQUEST_DIFF_BASE_SHA": self.repo.git("merge-base", "HEAD", f"origin/{merge_request_target}"),
                "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
            })
        else:
            job_variables["CI_COMMIT_BEFORE_SHA"] = before_sha or ZERO_SHA
        # Jobs first: an array option (--manual) would take the words after it as its own.
        command = [*gitlab_ci_local_command(), *jobs, "--force-shell-executor", "--shell-isolation",
                   "--no-artifacts-to-source", "--no-color", "--concurrency", "2",
                   "--container-executable", str(CONTAINER_ENGINE), "--home", str(self.work / "gcl-home"),
                   "--ignore-predefined-vars", ",".join(sorted(set(job_variables) | set(unset)))]
        for name, value in job_variables.items():
            command += ["--variable", f"{name}={value}"]
        for name in unset:
            command += ["--unset-variable", name]
        for job in manual:
            command += ["--manual", job]
        env = environment_without(*HOST_VARIABLES_DROPPED)
        # The job shells get a HOME of their own: the host user's shell startup files (pyenv's init in
        # ~/.bashrc) would put their shims in front of the job's PATH, and so the host's Python in place of
        # the job's venv. The user's pip configuration (find-links, indexes) is kept by name.
        job_home = self.work / "job-home"
        job_home.mkdir(exist_ok=True)
        user_pip_config = Path.home() / ".config" / "pip" / "pip.conf"
        if user_pip_config.is_file() and "PIP_CONFIG_FILE" not in env:
            env["PIP_CONFIG_FILE"] = str(user_pip_config)
        # What jobs make with mktemp (pipegen's own venv, ~0.9 GB with MLflow) stays in the test's folder.
        job_tmp = self.work / "job-tmp"
        job_tmp.mkdir(exist_ok=True)
        env.update(HOME=str(job_home), TMPDIR=str(job_tmp),
                   PIPEGEN_TEST_ENGINE_LOG=str(self.work / f"run-{number}-engine.log"))
        done = subprocess.run(command, cwd=self.repo.root, env=env, capture_output=True, text=True,
                              timeout=PIPELINE_TIMEOUT_SECONDS, check=False)
        output = done.stdout + done.stderr
        statuses = {match.group(2): match.group(1) for line in done.stdout.splitlines()
                    if (match := STATUS_LINE.match(line))}
        logs = {path.stem: path.read_text(encoding="utf-8", errors="replace")
                for path in (state / "output").glob("*.log")}
        (self.work / f"run-{number}.out").write_text(output, encoding="utf-8")
        calls = ([json.loads(line) for line in docker_log.read_text().splitlines() if line.strip()]
                 if docker_log.is_file() else [])
        return PipelineRun(done.returncode, output, statuses, logs, calls)
