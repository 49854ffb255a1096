"""What every job builder shares: quoting, report paths, env entries, and how the project and
pipegen are installed into a job."""
from __future__ import annotations

import shlex

from pipegen.descriptor.model import Descriptor
from pipegen.descriptor.requirement import pipegen_requirement
from pipegen.plan.install import PIPEGEN_MIN_PYTHON
from pipegen.plan.model import REPORT_DIR, EnvKind, EnvValue
from pipegen.syntax import shell_command


def quote(text: str) -> str:
    return shlex.quote(text)


def number(value: float | int) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def report_path(name: str) -> str:
    return f"{REPORT_DIR}/{name}"


def gate_report_flags(gate: str) -> str:
    return f"--junit {report_path(gate + '.junit.xml')} --markdown {report_path(gate + '.md')}"


def gate_mode(descriptor: Descriptor, gate: str, default: str | None = None) -> str | None:
    """The mode the gate's command carries: the descriptor's (`quality.mode`), else `default`;
    None: no `--mode`, so PIPEGEN_GATE_MODE (a CI variable), else enforce, decides when it runs."""
    return descriptor.quality.gate_mode(gate) or default


def gate_command(gate: str, mode: str | None, *flags: str) -> str:
    """`pipegen gate GATE [--mode M] FLAGS... --junit ... --markdown ...`, one flag group a line."""
    return shell_command(f"pipegen gate {gate}", *((f"--mode {mode}",) if mode else ()), *flags,
                         gate_report_flags(gate))


def pipegen_for(descriptor: Descriptor, *extras: str) -> str:
    return pipegen_requirement(descriptor.settings.pipegen.requirement, extras)


def release_branch(descriptor: Descriptor) -> str:
    """The branch PROD deploys from: the prod environment's branch, else the first trigger
    branch that is not a glob (so a manual run of a feature branch cannot promote or deploy)."""
    prod = descriptor.environment("prod")
    return (prod.branch if prod and prod.branch else None) or next(
        (branch for branch in descriptor.triggers.branches if "*" not in branch), "main")


def requirement_files(descriptor: Descriptor, *kinds: str) -> tuple[str, ...]:
    reqs = descriptor.project.requirements
    return tuple(path for kind in kinds if (path := getattr(reqs, kind)))


def env_items(pairs: dict[str, EnvValue]) -> tuple[tuple[str, EnvValue], ...]:
    return tuple(sorted(pairs.items()))


def secret_env(names) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.SECRET, name) for name in names}


def variable_env(names) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.VARIABLE, name) for name in names}


def output_env(name: str, producer: str) -> dict[str, EnvValue]:
    return {name: EnvValue(EnvKind.OUTPUT, name, producer)}


def source_folders(descriptor: Descriptor) -> tuple[str, ...]:
    return descriptor.project.source


def source_targets(descriptor: Descriptor) -> str:
    return " ".join(quote(path) for path in source_folders(descriptor)) or "."


def project_install(descriptor: Descriptor) -> tuple[str, ...]:
    """The project's own install lines (`project.install`), run as written."""
    return descriptor.project.install or ()


def editable(descriptor: Descriptor) -> bool:
    """Without `project.install`, a package project is installed editable (so coverage maps to its files)."""
    return descriptor.project.install is None and descriptor.project.package


def cache_files(descriptor: Descriptor) -> tuple[str, ...]:
    """The files that decide what gets installed: the cache is keyed on the ones in use (all the
    requirements files: one may include another)."""
    text = "\n".join(project_install(descriptor))
    files = list(requirement_files(descriptor, "runtime", "test", "dev"))
    if "uv sync" in text:
        files.append("uv.lock")
    if "poetry install" in text:
        files.append("poetry.lock")
    if editable(descriptor) or ("pip install" in text and ("-e ." in text or "--group" in text or "-e '." in text)):
        files.append("pyproject.toml")
    return tuple(dict.fromkeys(files))


def project_environment(descriptor: Descriptor, kinds: tuple[str, ...], packages: tuple[str, ...] = ()) -> dict:
    """The Job fields of a job that runs in the project's environment: the requirements files of
    `kinds` (runtime, test, dev), `packages` (the job's tools), the project itself."""
    requirements = requirement_files(descriptor, *kinds)
    return {"requirements": requirements, "pip_packages": packages, "editable": editable(descriptor),
            "project_install": project_install(descriptor), "cache_files": cache_files(descriptor)}


def python_too_old(descriptor: Descriptor) -> bool:
    major, minor = (int(part) for part in descriptor.project.python.split("."))
    return (major, minor) < PIPEGEN_MIN_PYTHON
