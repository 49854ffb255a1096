"""The shell commands of one job, exactly as the generated files carry them: the install
command every platform runs in the job's Python environment, then the plan's step texts.
`pipegen run` executes this list and the parity tests compare it with the files."""
from __future__ import annotations

from dataclasses import dataclass

from pipegen.plan import Job

# Azure's and GitHub's bash steps run under this; GitLab and Jenkins under `set -eu`. The
# strictest of them: a step that passes here passes on every platform.
SHELL_PREAMBLE = "set -euo pipefail"


@dataclass(frozen=True)
class Command:
    kind: str  # install | step
    title: str
    script: str  # final shell text, without the preamble

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "title": self.title, "script": self.script}


def install_script(job: Job) -> str:
    """What the platforms run, as one script, to install the job's requirements (and pipegen
    in a venv of its own) into its Python; empty when there is nothing to install."""
    return job.install_script() if job.python else ""


def job_commands(job: Job) -> tuple[Command, ...]:
    """One install script, as every platform runs it (its lines share shell variables, e.g.
    the folder pipegen's own venv is made in), then one script per plan step."""
    install = install_script(job)
    return (*((Command("install", "Install dependencies", install),) if install else ()),
            *(Command("step", step.title, step.run) for step in job.steps))


def bash_script(command: Command) -> str:
    return f"{SHELL_PREAMBLE}\n{command.script.rstrip(chr(10))}\n"
