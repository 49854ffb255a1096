"""One backend per platform behind `pipegen.platforms.base.Backend`; the registry maps
target names to them (like pre-commit's languages)."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the backends' Jinja2 stays off the path of the readers (`pipegen diff`)
    from pipegen.platforms.base import Backend

REGISTRY = {
    "github": "pipegen.platforms.github.backend:GithubBackend",
    "gitlab": "pipegen.platforms.gitlab.backend:GitlabBackend",
    "azure": "pipegen.platforms.azure.backend:AzureBackend",
    "jenkins": "pipegen.platforms.jenkins.backend:JenkinsBackend",
}
# Where each platform's file goes, relative to the repository root (each backend's `path`):
# `pipegen diff` finds the files without importing the backends.
PATHS = {
    "github": ".github/workflows/pipegen.yml",
    "gitlab": ".gitlab-ci.yml",
    "azure": "azure-pipelines.yml",
    "jenkins": "Jenkinsfile",
}


def get_backend(target: str) -> Backend:
    module_name, class_name = REGISTRY[target].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
