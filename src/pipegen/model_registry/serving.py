"""The model's serving image, kept on the model version it serves: the build records its digest
on the candidate version (tag `pipegen.image_ref`), and PROD reads it back from whichever version
the champion alias names after promotion. The registry is the one place that binds a version to
its image, so the deployed service and the champion alias cannot disagree."""
from __future__ import annotations

from pipegen.errors import CheckFailed, UsageError
from pipegen.model_registry.registry import Registry

TAG_IMAGE = "pipegen.image_ref"


def record_image(registry: Registry, name: str, version: str, image_ref: str) -> str:
    if "@sha256:" not in image_ref:
        raise UsageError(f"{image_ref!r} is not an image digest (NAME@sha256:...)")
    registry.tag_version(name, version, {TAG_IMAGE: image_ref})
    return f"{name} version {version} is served by {image_ref}"


def serving_image(registry: Registry, name: str, alias: str) -> tuple[str, str]:
    """(champion version, its recorded image digest); CheckFailed when either is missing."""
    version = registry.alias_version(name, alias)
    if version is None:
        raise CheckFailed(f"{name} has no {alias!r} version: nothing to serve (the model gate and promotion "
                          "decide the champion)")
    image_ref = registry.version(name, version).tags.get(TAG_IMAGE)
    if not image_ref:
        raise CheckFailed(f"{name} version {version} ({alias}) has no image recorded ({TAG_IMAGE}): it was not "
                          "built by this pipeline; build it once (the build job records it) before deploying")
    return version, image_ref
