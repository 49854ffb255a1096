"""A saved Terraform plan travels from the job that made it to the job that applies it with a
seal beside it: the commit it was made from and the plan file's SHA-256. The apply job checks
the seal first, so it applies exactly the reviewed plan of this commit and nothing else
(Terraform itself then refuses the plan if the state moved since it was made)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Mapping

from pipegen.deploy import SEAL_SUFFIX
from pipegen.errors import CheckFailed, UsageError
from pipegen.paths import open_binary, read_text

# The commit a CI run builds, from each platform's documented variable (the same commit the
# checkout holds); `git rev-parse HEAD` where none is set (pipegen run, a local shell).
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT")


def seal_path(plan: Path) -> Path:
    return plan.with_name(plan.name + SEAL_SUFFIX)


def current_commit(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    env = os.environ if environ is None else environ
    for name in COMMIT_VARIABLES:
        if env.get(name):
            return env[name]
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        done = None
    if done is None or done.returncode != 0:
        raise UsageError("cannot tell which commit this is: no CI commit variable "
                         f"({', '.join(COMMIT_VARIABLES)}) and no git checkout")
    return done.stdout.strip()


def _digest(plan: Path) -> str:
    digest = hashlib.sha256()
    with open_binary(plan) as handle:  # the one safe reader: a regular file of the project
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plan_file(plan: Path) -> Path:
    if plan.is_symlink() or not plan.is_file():
        raise UsageError(f"{plan}: no saved plan here (terraform plan -out={plan} makes it)")
    return plan


def seal(plan: Path, environ: Mapping[str, str] | None = None) -> dict:
    """Writes the seal beside the saved plan; returns it."""
    record = {"commit": current_commit(environ), "sha256": _digest(_plan_file(plan))}
    seal_path(plan).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return record


def verify(plan: Path, environ: Mapping[str, str] | None = None) -> str:
    """Raises CheckFailed (exit 1) unless the plan is the one sealed for this commit."""
    path = seal_path(plan)
    if not path.is_file():
        raise CheckFailed(f"{plan}: no seal ({path.name}): this plan did not come from pipegen's plan job; "
                          "refusing to apply it")
    try:
        record = json.loads(read_text(path, error=CheckFailed))
        sealed_commit, sealed_digest = str(record["commit"]), str(record["sha256"])
    except (ValueError, KeyError, TypeError):
        raise CheckFailed(f"{path}: unreadable seal; refusing to apply the plan") from None
    if _digest(_plan_file(plan)) != sealed_digest:
        raise CheckFailed(f"{plan}: the plan file changed after it was sealed; refusing to apply it")
    commit = current_commit(environ)
    if sealed_commit != commit:
        raise CheckFailed(f"{plan} was made from commit {sealed_commit[:12]}, this run builds {commit[:12]}: "
                          "refusing to apply a plan from another commit (plan again from this commit)")
    return f"{plan}: sealed for commit {commit[:12]}, unchanged since; applying it"
