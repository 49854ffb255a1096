"""One backend per platform behind `pipegen.platforms.base.Backend`; the registry maps
target names to them (like pre-commit's languages)."""
from __future__ import annotations

import importlib

from pipegen.platforms.base import Backend

REGISTRY = {
    "github": "pipegen.platforms.github.backend:GithubBackend",
    "gitlab": "pipegen.platforms.gitlab.backend:GitlabBackend",
    "azure": "pipegen.platforms.azure.backend:AzureBackend",
    "jenkins": "pipegen.platforms.jenkins.backend:JenkinsBackend",
}


def get_backend(target: str) -> Backend:
    module_name, class_name = REGISTRY[target].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
