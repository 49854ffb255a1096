"""One backend per platform behind `pipegen.backends.base.Backend`; the registry maps
target names to them (like pre-commit's languages)."""
from __future__ import annotations

import importlib

from pipegen.backends.base import Backend

REGISTRY = {
    "github": "pipegen.backends.github:GithubBackend",
    "gitlab": "pipegen.backends.gitlab:GitlabBackend",
    "azure": "pipegen.backends.azure:AzureBackend",
    "jenkins": "pipegen.backends.jenkins:JenkinsBackend",
}


def get_backend(target: str) -> Backend:
    module_name, class_name = REGISTRY[target].split(":")
    return getattr(importlib.import_module(module_name), class_name)()
