"""Which CI we are running in, from the variables each platform documents."""
from __future__ import annotations

import getpass
import os
from typing import Mapping
from urllib.parse import quote

PLATFORMS = ("github", "gitlab", "azure", "jenkins")

# The CI variable setting the mode of every gate whose command carries no --mode (the descriptor's
# quality.mode does not name it). GitLab, Azure and Jenkins hand CI variables to every job's
# environment; GitHub does not, so its backend maps this one into the jobs that run such a gate.
GATE_MODE_VARIABLE = "PIPEGEN_GATE_MODE"

# Several projects in one repository: every job of a project carries its name in this variable, so the
# gates read that project's block of the descriptor and the readers know whose job it is.
PROJECT_VARIABLE = "PIPEGEN_PROJECT"


def detect(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    if env.get("JENKINS_URL"):
        return "jenkins"
    return None


def is_pull_request(environ: Mapping[str, str] | None = None) -> bool:
    """True in a pull/merge-request run, from each platform's documented variables."""
    env = os.environ if environ is None else environ
    return (env.get("PIPEGEN_EVENT") == "pull_request"  # set by `pipegen run --event pull_request`
            or env.get("GITHUB_EVENT_NAME") in ("pull_request", "pull_request_target")
            or env.get("BUILD_REASON") == "PullRequest"
            or env.get("CI_PIPELINE_SOURCE") == "merge_request_event"
            or bool(env.get("CHANGE_ID")))


def ci_actor(environ: Mapping[str, str] | None = None) -> str:
    """Who triggered the run, from each CI's documented variable; the local user otherwise."""
    env = os.environ if environ is None else environ
    for name in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOREMAIL", "BUILD_REQUESTEDFOR",
                 "BUILD_USER_ID", "PIPEGEN_ACTOR"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def ci_run_url(environ: Mapping[str, str] | None = None) -> str | None:
    """A link to the CI run, so a tag leads back to the pipeline that wrote it."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    if env.get("CI_PIPELINE_URL"):
        return env["CI_PIPELINE_URL"]
    if env.get("SYSTEM_COLLECTIONURI") and env.get("BUILD_BUILDID"):
        project = quote(env.get("SYSTEM_TEAMPROJECT", ""))
        return f"{env['SYSTEM_COLLECTIONURI']}{project}/_build/results?buildId={env['BUILD_BUILDID']}"
    return env.get("BUILD_URL") or None


def _strip_heads(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def branch_being_built(environ: Mapping[str, str] | None = None) -> str | None:
    """The branch this run builds, from each CI's documented variables (a pull request's source
    branch in a pull-request run); `PIPEGEN_BRANCH` (set by `pipegen run`) first. None outside a
    CI, in a tag run, or when the CI does not say: the caller asks git."""
    env = os.environ if environ is None else environ
    if env.get("PIPEGEN_BRANCH") and env["PIPEGEN_BRANCH"] != "HEAD":
        return env["PIPEGEN_BRANCH"]
    platform = detect(env)
    if platform == "github":
        ref = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF", "")
        return _strip_heads(ref) if env.get("GITHUB_HEAD_REF") or ref.startswith("refs/heads/") else None
    if platform == "gitlab":
        return env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or env.get("CI_COMMIT_BRANCH") or None
    if platform == "azure":
        ref = env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH") or env.get("BUILD_SOURCEBRANCH", "")
        return _strip_heads(ref) if ref.startswith("refs/heads/") else None
    if platform == "jenkins":  # multibranch pipelines name the branch; the git plugin names origin's
        return env.get("CHANGE_BRANCH") or env.get("BRANCH_NAME") or env.get("GIT_BRANCH", "").removeprefix(
            "origin/") or None
    return None
