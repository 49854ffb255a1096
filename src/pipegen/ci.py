"""Which CI we are running in, from the variables each platform documents."""
from __future__ import annotations

import os
from typing import Mapping

PLATFORMS = ("github", "gitlab", "azure", "jenkins")


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
