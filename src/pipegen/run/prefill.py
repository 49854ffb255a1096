"""`pipegen run --uv`: a new job venv is pre-filled by uv before the job's install runs.

pip spends about a minute of CPU installing MLflow's hundred distributions into each fresh
venv; uv unpacks the same from its cache in seconds. The job's install command still runs
exactly as the CI runs it, so pip checks every requirement (finding them installed) and does
whatever uv left undone: an editable project is rebuilt, a requirement uv could not resolve
(an index only pip's own configuration names) is installed by pip. uv is told what pip is
told through the environment (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX,
PIP_CERT); pip's configuration files it does not read."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Mapping

from pipegen.plan import Job
from pipegen.run import venv as venvs

_PIP_INSTALL = ["python", "-m", "pip", "install"]
# pip's environment settings and the uv setting that means the same.
_SAME_SETTING = (("PIP_INDEX_URL", "UV_INDEX_URL"), ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
                 ("PIP_NO_INDEX", "UV_NO_INDEX"), ("PIP_CERT", "SSL_CERT_FILE"))


def find_uv(environ: Mapping[str, str]) -> str | None:
    """uv on the caller's PATH, else beside the Python running pipegen (`pip install uv` in pipegen's venv)."""
    found = shutil.which("uv", path=environ.get("PATH", os.defpath))
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def project_args(job: Job) -> list[str]:
    """What the job's own pip installs into its venv, as arguments for one `uv pip install`: its
    requirements files and tools, and the `python -m pip install ...` lines of the project install
    (an editable `-e .`); other project installs (poetry, uv sync, lines with shell variables) are
    left to the job's command."""
    args = [word for path in job.requirements for word in ("-r", path)] + list(job.pip_packages)
    for line in job.project_install:
        if "$" in line or "`" in line:
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            continue
        if words[:4] == _PIP_INSTALL and not {";", "&&", "||", "|"} & set(words):
            args += words[4:]
    return args


def uv_environment(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """(the environment uv runs in, `--find-links` arguments): the job's, with pip's settings given to uv."""
    uv_env = dict(env)
    for pip_name, uv_name in _SAME_SETTING:
        if uv_env.get(pip_name) and not uv_env.get(uv_name):
            uv_env[uv_name] = uv_env[pip_name]
    if uv_env.get("UV_NO_INDEX", "").lower() in ("0", "false", "no", "off"):
        uv_env.pop("UV_NO_INDEX")
    links = [word for link in env.get("PIP_FIND_LINKS", "").split() for word in ("--find-links", link)]
    return uv_env, links


def _uv_install(uv: str, python: Path, args: list[str], env: Mapping[str, str], cwd: Path,
                line: Callable[[str], None], what: str) -> bool:
    uv_env, links = uv_environment(env)
    argv = [uv, "pip", "install", "--quiet", "--python", str(python), *links, *args]
    done = subprocess.run(argv, cwd=cwd, env=uv_env, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        line(f"{what} pre-installed with uv (--uv); the install command checks and completes it")
        return True
    reason = (done.stderr.strip() or done.stdout.strip()).splitlines()
    line(f"uv could not pre-install {what} ({reason[-1] if reason else f'exit {done.returncode}'}): "
         "the install command installs all of it")
    return False


def prefill(uv: str, job: Job, venv: Path, python: str, env: Mapping[str, str], cwd: Path, *,
            project: bool, line: Callable[[str], None]) -> None:
    """Pre-installs the job's project environment into `venv` (when `project`: a venv not seeded
    from --venv-cache) and pipegen into its own venv inside it (when that is not there yet). Never
    fails the job: whatever uv cannot do, the job's install command does."""
    args = project_args(job) if project else []
    if args and not _uv_install(uv, venvs.bin_dir(venv) / "python", args, env, cwd, line, "the project's requirements"):
        # A half-filled venv would not be what the job's command makes from scratch: start it again.
        shutil.rmtree(venv)
        venvs.create(python, venv)
    own = venvs.pipegen_venv(venv)
    if not job.pipegen or job.pipegen_needs_python or own.exists():
        return
    venvs.create(python, own)
    index = ["--index-url", env[job.pipegen_index_var]] if job.pipegen_index_var and env.get(job.pipegen_index_var) \
        else []
    if not _uv_install(uv, venvs.bin_dir(own) / "python", [*index, job.pipegen], env, cwd, line, "pipegen"):
        shutil.rmtree(own)
