"""Publishing a job's output to later jobs and stages, in each CI's native way (DESIGN §3)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, TextIO

from pipegen import ci, paths
from pipegen.errors import UsageError, shorten

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # fullmatch: `$` would accept a trailing newline
# Line breaks to some reader of the value (GitHub's and Jenkins' line-based files, GitLab's
# dotenv parser, Azure's logging-command scanner, Python's splitlines: \x1c-\x1e, \x85,
# U+2028/9), NUL (no environment variable carries it) and the other control characters
# (an escape sequence in a CI log): an output value is one line of text.
_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# GitLab reads the dotenv report, Jenkins' generated stage reads it back into env.
OUTPUTS_FILE = "pipegen-outputs.env"
GITLAB_DOTENV_LIMIT = 5 * 1024
# Every name `set_output` publishes is also listed here, so the job can check afterwards that
# its step published what it promised (`pipegen output check`) on every platform alike. The
# runner's per-job temporary folder where there is one, so no earlier job's list can count.
LEDGER_NAME = "pipegen-published-outputs"
LOCAL_LEDGER = f".pipegen/{LEDGER_NAME}"  # where a runner has no per-job temporary folder
_JOB_TEMP_VARIABLES = ("RUNNER_TEMP", "AGENT_TEMPDIRECTORY")
MAX_LEDGER_BYTES = 1024 * 1024


def check_output(name: str, value: str) -> None:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(f"output name {shorten(repr(name))} must match [A-Za-z_][A-Za-z0-9_]* "
                         "(an environment variable name)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 in argv arrive as lone surrogates
        raise UsageError(f"output {name}: the value is not UTF-8 text") from None
    if found := _NOT_ONE_LINE.search(value):
        raise UsageError(f"output {name}: values must be one line of text; found {found.group(0)!r} "
                         "(GitLab's dotenv report and Jenkins' outputs file cannot carry line breaks, so "
                         "no platform takes them: write the text to a file and publish its path)")


def azure_escape(value: str) -> str:
    """Escaping for the message part of a ##vso logging command."""
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def outputs_file(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("PIPEGEN_OUTPUTS_FILE", OUTPUTS_FILE))


def ledger_path(environ: Mapping[str, str]) -> Path:
    if environ.get("PIPEGEN_OUTPUTS_LEDGER"):
        return Path(environ["PIPEGEN_OUTPUTS_LEDGER"])
    for variable in _JOB_TEMP_VARIABLES:
        if environ.get(variable):
            return Path(environ[variable]) / LEDGER_NAME
    return Path(LOCAL_LEDGER)


def unpublished(names: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The names in `names` that no `set_output` of this job published."""
    env = os.environ if environ is None else environ
    path = ledger_path(env)
    published = set()
    if os.path.lexists(path):
        published = set(paths.read_bytes(path, MAX_LEDGER_BYTES).decode("utf-8", errors="replace").split())
    return [name for name in names if name not in published]


def _append_line(path: Path, line: str, limit: int | None = None) -> None:
    """Appends to an outputs file: the CI's own (GITHUB_OUTPUT) or pipegen's, which, inside
    the repository, is never reached through a symlink out of it (a linked .pipegen)."""
    path = paths.explicit_target(Path.cwd(), path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise paths.write_error(path, exc) from None
    status = paths.check_regular(path)
    size = status.st_size if status is not None else 0
    if limit is not None and size + len(line.encode()) + 1 > limit:
        raise UsageError(f"{path}: outputs would exceed GitLab's {limit}-byte dotenv limit")
    paths.append_text(path, line + "\n")


def set_output(name: str, value: str, stdout: TextIO, environ: Mapping[str, str] | None = None) -> str:
    """Publishes NAME=value for the detected CI; returns the platform used ("local" outside CI)."""
    env = os.environ if environ is None else environ
    check_output(name, value)
    platform = ci.detect(env) or "local"
    if platform == "github":
        # Job outputs for later jobs; GITHUB_ENV for later steps of this job.
        for variable in ("GITHUB_OUTPUT", "GITHUB_ENV"):
            if not env.get(variable):
                raise UsageError(f"{variable} is not set: is this really a GitHub Actions step?")
            _append_line(Path(env[variable]), f"{name}={value}")
    elif platform == "azure":
        # The step's `name:` makes this readable as outputs['STEP.NAME'] by later jobs.
        stdout.write(f"##vso[task.setvariable variable={name};isOutput=true]{azure_escape(value)}\n")
        stdout.write(f"##vso[task.setvariable variable={name}]{azure_escape(value)}\n")
    else:
        limit = GITLAB_DOTENV_LIMIT if platform == "gitlab" else None
        _append_line(outputs_file(env), f"{name}={value}", limit)
    _append_line(ledger_path(env), name)
    return platform
