"""How a job installs what it runs, as the shell lines every platform runs (and `pipegen run`).

Two environments per job: the job's Python (its requirements files, tools, the project) and
pipegen in a venv of its own, so their dependencies never meet. `settings.installer` picks what
fills them: uv (default) unpacks from its cache in seconds what pip takes a minute of CPU to
install (MLflow's hundred distributions); pip stays for setups that rely on pip's configuration
files, which uv does not read. The project's own installer (`uv sync`, `poetry install`, any
`project.install` line) runs as written either way. Only where the caches live differs between
platforms (each backend's business); these lines are the same everywhere.
"""
from __future__ import annotations

import shlex
import textwrap
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from pipegen.syntax import shell_command

if TYPE_CHECKING:
    from pipegen.plan.model import Job

INSTALLER_UV = "uv"
INSTALLER_PIP = "pip"

# The uv every platform runs: GitHub's setup-uv installs this version; elsewhere a job without uv
# on PATH installs it with pip, beside pipegen's venv (never into the job's environment).
UV_VERSION = "0.13.9"
UV_REQUIREMENT = f"uv=={UV_VERSION}"

PIPEGEN_MIN_PYTHON = (3, 10)

# Where a job puts uv and pipegen's own venv (up to ~0.9 GB with MLflow): inside what the platform
# empties, so self-hosted agents do not collect one per job. GitHub empties RUNNER_TEMP and Azure
# Agent.TempDirectory after every job; Jenkins stages activate their workspace `.venv`, which the
# next stage recreates with `venv --clear`; `pipegen run` activates the job's own venv (so
# `--venv-cache` keeps pipegen's with it); anywhere else (a GitLab job's container) a new
# temporary folder, never one that concurrent jobs on one host could share.
PIPEGEN_HOME = "${RUNNER_TEMP:-${AGENT_TEMPDIRECTORY:-${VIRTUAL_ENV:-$(mktemp -d)}}}/pipegen"

_NOTE_WIDTH = 98


def _uv_lines(pip: str) -> list[str]:
    """$uv: the uv on PATH (GitHub's setup-uv, a runner image's, `pipegen run`'s), else the pinned
    one installed with pip into pipegen's home. Then pip's index settings from the environment under
    uv's names: uv reads its own (UV_INDEX_URL, UV_EXTRA_INDEX_URL, comma-separated UV_FIND_LINKS)."""
    return [
        'uv="$(command -v uv || true)"',
        'if [ -z "$uv" ]; then',
        "  " + shell_command(f"{pip} --quiet", '--target "$pipegen_home/uv"', shlex.quote(UV_REQUIREMENT)),
        '  uv="$pipegen_home/uv/bin/uv"',
        "fi",
        'export UV_INDEX_URL="${UV_INDEX_URL:-${PIP_INDEX_URL:-}}" '
        'UV_EXTRA_INDEX_URL="${UV_EXTRA_INDEX_URL:-${PIP_EXTRA_INDEX_URL:-}}"',
        "find_links=\"$(printf '%s' \"${PIP_FIND_LINKS:-}\" | tr -s ' ' ',')\"",
        'export UV_FIND_LINKS="${UV_FIND_LINKS:-$find_links}"',
    ]


class InstallInputs(NamedTuple):
    """What a job's install lines depend on: jobs of one project share them, so the lines (and the
    wrapped note above them) are worked out once per distinct set, not once per job."""
    install_args: tuple[str, ...]
    editable: bool
    project_install: tuple[str, ...]
    pipegen: str | None
    pipegen_index_var: str | None
    pipegen_needs_python: bool
    installer: str
    install_note: str

    @classmethod
    def of(cls, job: Job) -> InstallInputs:
        return cls(job.install_args, job.editable, job.project_install, job.pipegen, job.pipegen_index_var,
                   job.pipegen_needs_python, job.installer, job.install_note)


def _pipegen_lines(job: InstallInputs, python: str, pip: str) -> list[str]:
    """pipegen in a venv of its own; only its `pipegen` command is linked next to the job's
    `python`, which is on PATH in every later step. From a private index with `--index-url` (never
    `--extra-index-url`), so a public package of the same name cannot win the resolution."""
    index = (f'--index-url "${job.pipegen_index_var}"',) if job.pipegen_index_var else ()
    venv = '"$pipegen_home/venv"'
    requirement = shlex.quote(job.pipegen or "")
    # The job's interpreter by path: uv makes venvs from a system interpreter found by name (one of a
    # venv on PATH, as on Jenkins or under `pipegen run`, it would pass over), from any named by path.
    lines = [f"job_python=\"$({python} -c 'import sys; print(sys.executable)')\""]
    # The job's Python older than pipegen supports: uv finds (or downloads) a newer one for pipegen only.
    interpreter = (f"'>={PIPEGEN_MIN_PYTHON[0]}.{PIPEGEN_MIN_PYTHON[1]}'" if job.pipegen_needs_python
                   else '"$job_python"')
    if job.installer == INSTALLER_UV:
        lines += [f'"$uv" venv --quiet --allow-existing --python {interpreter} {venv}',
                  shell_command('"$uv" pip install --quiet --python "$pipegen_home/venv/bin/python"', *index,
                                requirement)]
    else:
        if job.pipegen_needs_python:
            # pip (seeded into the venv) installs pipegen: PIP_* settings and pip.conf apply as for the rest.
            lines += [*_uv_lines(pip)[:5],
                      f'"$uv" venv --seed --allow-existing --quiet --python {interpreter} {venv}']
        else:
            lines.append(f'"$job_python" -m venv {venv}')
        lines.append(shell_command('"$pipegen_home/venv/bin/python" -m pip install --quiet', *index, requirement))
    lines.append('ln -sf "$pipegen_home/venv/bin/pipegen" "$(dirname "$job_python")/pipegen"')
    return lines


def _project_lines(job: InstallInputs, installer: str) -> list[str]:
    """The job's environment: requirements files and tools in one resolution, the project itself
    (editable, so coverage maps to its files), then the descriptor's own install lines as written."""
    lines = [shell_command(installer, *job.install_args)] if job.install_args else []
    if job.editable:
        lines.append(f"{installer} -e .")
    return [*lines, *job.project_install]


def install_lines_and_script(job: Job, pip: str = "python -m pip install") -> tuple[tuple[str, ...], str]:
    """The job's install lines, in order: why it installs what it does (a comment), the job's
    environment, then pipegen's own venv; and those lines as one shell text. `pip` is how the
    job's Python runs pip (GitLab's Docker jobs add --break-system-packages for Alpine's system
    Python). Both are worked out once per distinct set of install inputs, not once per job."""
    return _install_lines_and_script(InstallInputs.of(job), pip)


@lru_cache(maxsize=256)
def _install_lines_and_script(job: InstallInputs, pip: str) -> tuple[tuple[str, ...], str]:
    lines = _install_lines(job, pip)
    return lines, "\n".join(lines)


@lru_cache(maxsize=256)  # jobs share their requirement files and packages
def install_args(requirements: tuple[str, ...], packages: tuple[str, ...]) -> tuple[str, ...]:
    """Shell-quoted `pip install` arguments: `-r FILE` per requirements file, then packages."""
    return (*(f"-r {shlex.quote(path)}" for path in requirements), *(shlex.quote(package) for package in packages))


@lru_cache(maxsize=256)
def _install_lines(job: InstallInputs, pip: str) -> tuple[str, ...]:
    if not (job.install_args or job.editable or job.project_install or job.pipegen):
        return ()
    python = pip.split(" -m pip")[0]
    lines = [f"# {line}" for line in textwrap.wrap(job.install_note, _NOTE_WIDTH)]
    uses_uv = job.installer == INSTALLER_UV
    needs_uv = uses_uv and bool(job.install_args or job.editable or job.pipegen)
    if job.pipegen or needs_uv:
        lines.append(f'pipegen_home="{PIPEGEN_HOME}"')
    if needs_uv:
        lines += _uv_lines(pip)
    # uv honours an externally managed system Python (PEP 668) as pip does: the same override.
    override = " --break-system-packages" if "--break-system-packages" in pip else ""
    lines += _project_lines(job, f'"$uv" pip install --python {python}{override}' if uses_uv else pip)
    if job.pipegen:
        lines += _pipegen_lines(job, python, pip)
    return tuple(lines)
