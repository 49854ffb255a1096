"""Fixtures for `pipegen run`'s tests: the real command in a subprocess, in an example
copied into a fresh git repository, with pipegen's wheel (and the stand-ins) findable."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from executors.plugin import STANDINS, environment_without, shared_folder

# What the caller's environment must not carry into a test run: CI markers and values the tests set.
CLEARED = ("CI", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_NAME",
           "TF_BUILD", "BUILD_REASON", "GITLAB_CI", "CI_PIPELINE_SOURCE", "JENKINS_URL", "CHANGE_ID",
           "MODEL_VERSION", "IMAGE_REF", "MLFLOW_TRACKING_URI", "SONAR_TOKEN", "SONAR_HOST_URL", "REGISTRY",
           "PIPEGEN_GATE_MODE", "PIPEGEN_OUTPUTS_FILE", "PIPEGEN_EVENT", "VIRTUAL_ENV", "PYTHONPATH",
           "PIP_REQUIRE_VIRTUALENV", "CHURN_DEGRADED")
PYSONAR_STANDIN_VERSION = "1.99.0"  # above every real 1.x, so `pysonar>=1.0,<2` picks the stand-in


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_pysonar_standin_wheel(folder: Path) -> Path:
    """TEST FIXTURE: the `pysonar` stand-in (tests/executors/bin/pysonar) packaged as a wheel named
    pysonar, so the sonar job's own `pip install 'pysonar>=1.0,<2'` installs it into the job's venv
    (where it comes first on PATH) instead of the real scanner, which needs a real Sonar server."""
    script = (STANDINS / "pysonar").read_text(encoding="utf-8")
    module = script + "\n\ndef entry():\n    sys.exit(main(sys.argv[1:]))\n"
    dist = f"pysonar-{PYSONAR_STANDIN_VERSION}.dist-info"
    files = {
        "pysonar_standin.py": module.encode(),
        f"{dist}/METADATA": (f"Metadata-Version: 2.1\nName: pysonar\nVersion: {PYSONAR_STANDIN_VERSION}\n"
                             "Summary: TEST FIXTURE: pipegen's pysonar stand-in\n").encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: pipegen-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{dist}/entry_points.txt": b"[console_scripts]\npysonar = pysonar_standin:entry\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{dist}/RECORD,,"]
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"pysonar-{PYSONAR_STANDIN_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


@pytest.fixture(scope="session")
def run_find_links(wheelhouse, tmp_path_factory: pytest.TempPathFactory) -> str:
    """PIP_FIND_LINKS for the jobs: the test stand-in wheels, pipegen's wheel, the machine's own."""
    folder = shared_folder(tmp_path_factory, "standin-wheels", build_pysonar_standin_wheel)
    return f"{folder} {wheelhouse.find_links}"


@pytest.fixture
def scenario_settings(run_find_links, wheelhouse) -> dict[str, str]:
    """What the whole-pipeline scenarios run `pipegen run` with: the wheels it must find and the runner's
    pip and uv caches (the jobs install with the test extra's uv, which pipegen run finds beside its
    Python, unpacking from the user's uv cache, warm from installing the test extra)."""
    return {"PIP_FIND_LINKS": run_find_links, "PIP_CACHE_DIR": str(wheelhouse.pip_cache),
            "UV_CACHE_DIR": str(wheelhouse.uv_cache)}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]

    @property
    def statuses(self) -> dict[str, str]:
        return {job["id"]: job["status"] for job in self.report.get("jobs", [])}

    def outputs(self, job_id: str) -> dict[str, str]:
        return next(job["outputs"] for job in self.report["jobs"] if job["id"] == job_id)

    def explain(self) -> str:
        return f"exit {self.returncode}\n{self.stdout[-8000:]}\n{self.stderr[-3000:]}"


def pipegen_run(cwd: Path, *args: str, env: dict[str, str], timeout: float = 3600) -> Ran:
    """`pipegen run ARGS --report-json FILE` in `cwd`, the real command in its own process."""
    report = cwd.parent / f"{cwd.name}-run-report.json"
    report.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "pipegen", "run", *args, "--report-json", str(report)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return Ran(done.returncode, done.stdout, done.stderr, data)


def job_log(cwd: Path, job_id: str) -> str:
    return (cwd / ".pipegen" / "run" / "logs" / f"{job_id}.log").read_text(encoding="utf-8")


def run_environment(**extra: str) -> dict[str, str]:
    env = environment_without(*CLEARED)
    env.update(MLFLOW_DISABLE_TELEMETRY="true", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(extra)
    return env


def run_on_a_terminal(cwd: Path, *args: str, env: dict[str, str], answer: tuple[bytes, bytes] | None = None
                      ) -> tuple[int, str]:
    """`pipegen run ARGS` on a pseudo-terminal, as a user at a terminal runs it: (exit code, all it
    wrote). `answer` (prompt, reply): the reply is typed once the prompt has appeared."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: `pipegen run` on a terminal
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "pipegen", "run", *args], env)
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if answer is not None and answer[0] in seen:
            os.write(fd, answer[1])
            answer = None
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")
