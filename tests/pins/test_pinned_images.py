"""Every container image pipegen chooses is written pinned by digest, from the shipped catalog;
an image the descriptor names is written as it is, and the checklist says when it is unpinned."""
from __future__ import annotations

import re

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.errors import UsageError
from pipegen.pins.images import parse_catalog, shipped_catalog
from pipegen.platforms.gitlab.backend import GitlabBackend

BACKEND = GitlabBackend()
DIGEST_REF = re.compile(r"^(?P<reference>[a-z0-9./-]+:[\w.-]+)@(?P<digest>sha256:[0-9a-f]{64})$")

LIBRARY = """
    version: 1
    project: {{name: lib, python: "{python}"}}
    targets: [gitlab]
    tests: {{unit: tests/unit}}
    {settings}
"""
WITH_IMAGE = """
    version: 1
    project: {name: app, python: "3.12"}
    targets: [gitlab]
    tests: {unit: tests/unit}
    image: {name: app, registry_var: REGISTRY}
    environments: {test: {}, qa: {deploy: ./deploy.sh qa}}
"""


def _pipeline(text: str) -> dict:
    return yaml.safe_load(BACKEND.render(plan_from_yaml(text)))


def _checklist_names(text: str) -> list[str]:
    return [item.name for item in BACKEND.checklist(plan_from_yaml(text))]


def _catalogued(image: str) -> str:
    """The image's name:tag, after checking its digest is the catalog's for that tag."""
    match = DIGEST_REF.match(image)
    assert match, f"{image} is not name:tag@sha256:<digest>"
    assert shipped_catalog()[match["reference"]].digest == match["digest"]
    return match["reference"]


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14"])
def test_job_image_is_the_python_slim_image_pinned_by_digest(python):
    pipeline = _pipeline(LIBRARY.format(python=python, settings=""))
    assert _catalogued(pipeline["default"]["image"]) == f"python:{python}-slim"


def test_build_job_runs_pinned_docker_cli_and_dind_images():
    build = _pipeline(WITH_IMAGE)["build"]
    assert _catalogued(build["image"]) == "docker:27.5.1-cli"
    assert [_catalogued(service) for service in build["services"]] == ["docker:27.5.1-dind"]


def test_a_python_version_without_a_catalogued_digest_is_written_by_tag_and_flagged():
    text = LIBRARY.format(python="3.9", settings="")
    assert _pipeline(text)["default"]["image"] == "python:3.9-slim"
    assert "job image pinned by digest" in _checklist_names(text)


def test_the_descriptors_own_image_is_left_as_written_and_flagged_when_unpinned():
    text = LIBRARY.format(python="3.11", settings="settings: {gitlab: {image: 'registry.example/py:3.11'}}")
    assert _pipeline(text)["default"]["image"] == "registry.example/py:3.11"
    assert "job image pinned by digest" in _checklist_names(text)
    pinned = "registry.example/py:3.11@sha256:" + "a" * 64
    text = LIBRARY.format(python="3.11", settings=f"settings: {{gitlab: {{image: '{pinned}'}}}}")
    assert _pipeline(text)["default"]["image"] == pinned
    assert "job image pinned by digest" not in _checklist_names(text)


def test_every_shipped_entry_says_where_its_digest_came_from():
    for reference, entry in shipped_catalog().items():
        assert entry.source and entry.recorded, reference
        assert entry.registry.startswith("https://") and entry.repository, reference


@pytest.mark.parametrize("text, message", [
    ("images: [python]", "expected a mapping"),
    ("images: {python:3.11-slim: {digest: sha256:abc}}", "is not sha256:<64 hex digits>"),
    ("images: {python: {digest: 'sha256:" + "a" * 64 + "'}}", "expected name:tag"),
    ("images: {python:3.11-slim: [", "not valid YAML"),
])
def test_a_malformed_catalog_is_refused_with_where(text, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_catalog(text, "catalog.yaml")
