"""Paths the descriptor names that do not exist in the repository: not errors (a folder may
be created by the same change), but almost always a typo or a stale entry, so `validate`
warns about each one, located, before a pipeline fails on it in CI."""
from __future__ import annotations

import os

from pipegen.descriptor.model import Descriptor
from pipegen.errors import Problem


def _named_paths(descriptor: Descriptor) -> list[tuple[tuple, str, str]]:
    """(descriptor path, repository path, what it is) for every file or folder the descriptor names."""
    named: list[tuple[tuple, str, str]] = []
    requirements = descriptor.project.requirements
    for kind in ("runtime", "test", "dev"):
        if value := getattr(requirements, kind):
            named.append((("project", "requirements", kind), value, f"{kind} requirements file"))
    for index, source in enumerate(descriptor.project.source):
        where = ("project", "source", index) if ("project", "source", index) in descriptor.positions \
            else ("project", "source")
        named.append((where, source, "source folder"))
    for level, path in descriptor.tests.levels():
        named.append((("tests", level), path, f"{level} tests folder"))
    image = descriptor.image
    if image is not None:
        named.append((("image", "dockerfile"), image.dockerfile, "Dockerfile"))  # `docker build --file`, from the root
        named.append((("image", "context"), image.context, "image build context"))
    named += _deploy_paths(descriptor)
    return named


# Per deploy kind: (setting, what it is) for the settings that name repository paths.
_DEPLOY_PATHS = {
    "terraform": (("dir", "Terraform configuration folder"),),
    "kubernetes": (("manifests", "Kubernetes manifests"), ("chart", "Helm chart"), ("values", "Helm values file")),
    "airflow": (("dags", "DAG folder"), ("requirements", "Airflow requirements file")),
}


def _deploy_paths(descriptor: Descriptor) -> list[tuple[tuple, str, str]]:
    named = []
    for environment in descriptor.environments:
        for kind, settings in environment.kinds:
            for key, what in _DEPLOY_PATHS[kind]:
                if value := getattr(settings, key):
                    named.append((("environments", environment.name, "deploy", kind, key), value, what))
    return named


def missing_paths(descriptor: Descriptor) -> list[Problem]:
    """A located warning for each named path that does not exist next to the descriptor (in its
    project's folder, for one project of several)."""
    root = descriptor.path.parent / (descriptor.folder or "")
    inside = f" in {descriptor.folder}" if descriptor.folder else ""
    warnings = []
    for where, path, what in _named_paths(descriptor):
        if not os.path.exists(root / path):  # False, not an OSError, for a name no file system holds
            warnings.append(descriptor.problem(where, f"warning: {'.'.join(map(str, where))}: {what} "
                                                      f"{path!r} does not exist{inside}"))
    return warnings
