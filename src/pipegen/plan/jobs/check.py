"""The pipegen-check job: the committed pipeline files are the descriptor's."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.common import env_items, pipegen_for, quote, release_branch, report_path, secret_env
from pipegen.plan.model import REPORT_DIR, Job, Step
from pipegen.syntax import shell_command


def check_job(descriptor: Descriptor, compare_branch: str) -> Job:
    """Fails the run when a committed pipeline file no longer matches the descriptor, or was
    edited by hand: the generated files stay the descriptor's, reviewable in one place. On a
    pull request it also says what the change to the pipeline files means (`pipegen diff`)."""
    steps = [Step("pipegen check", f"pipegen check --descriptor {quote(descriptor.command_path)}", reads=())]
    diff = descriptor.quality.pipeline_diff and descriptor.triggers.pull_requests
    if diff:
        steps.append(Step("Pipeline changes (pull requests only)", shell_command(
            "pipegen diff --pull-requests-only", f"--compare-branch {quote(compare_branch)}",
            f"--summary {report_path('pipeline-diff.md')}"), reads=()))
    doctor = descriptor.settings.doctor.token_secret
    if doctor:
        steps.append(Step("Platform settings (pipegen doctor, release branch only)", shell_command(
            f"pipegen doctor --descriptor {quote(descriptor.command_path)} --in-ci",
            f"--release-branch {quote(release_branch(descriptor))} --token-env {doctor}"), reads=(doctor,)))
    return Job(
        id="pipegen-check", title="Pipelines match the descriptor", stage="test",
        comment=f"`pipegen check`: the committed pipeline files are exactly what {descriptor.path.name} generates"
                + ("; on pull requests, `pipegen diff` says what a change to them means" if diff else "")
                + ("; on the release branch, `pipegen doctor` checks the platform's settings against the plan."
                   if doctor else "."),
        steps=tuple(steps), pipegen=pipegen_for(descriptor, "diff") if diff else pipegen_for(descriptor),
        install_note="pipegen only" + (", with tree-sitter to read a Jenkinsfile back for `pipegen diff`" if diff
                                       else " (core)") + ": it renders the descriptor; not the project.",
        timeout_minutes=5, full_history=diff, compare_branch=compare_branch if diff else None,
        artifacts=(REPORT_DIR,) if diff else (), env=env_items(secret_env([doctor] if doctor else [])),
        secrets=(doctor,) if doctor else ())
