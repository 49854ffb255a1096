"""The model's serving image against a real MLflow tracking server: the build records each version's
image digest on it; PROD reads back the image of whichever version the champion alias names after
promotion, so the deployed service and the alias cannot disagree."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

AUC = "auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005"
IMAGE = "registry.example.test/churn@sha256:"


def record(pipegen, registry, version: str, digest: str):
    return pipegen("model", "record-image", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--version", version, "--image-ref", IMAGE + digest * 64)


def serving(pipegen, registry):
    return pipegen("model", "serving-image", "--tracking-uri", registry.uri, "--model-name", registry.name)


def test_prod_serves_the_image_of_the_version_promotion_made_champion(pipegen, registry) -> None:
    first = registry.version(auc=0.80)
    assert record(pipegen, registry, first, "a").exit_code == 0
    registry.champion(first)
    assert serving(pipegen, registry).stdout.strip() == IMAGE + "a" * 64

    # A better candidate, built (its own image recorded), gated and promoted: PROD now serves its image.
    better = registry.version(auc=0.85)
    assert record(pipegen, registry, better, "b").exit_code == 0
    assert pipegen("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", better, "--metric", AUC).exit_code == 0
    assert pipegen("model", "promote", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", better).exit_code == 0
    chosen = serving(pipegen, registry)
    assert chosen.stdout.strip() == IMAGE + "b" * 64 and f"version {better} (champion)" in chosen.stderr

    # A candidate the gate keeps out: its image is built and recorded, but PROD keeps serving the champion's.
    kept = registry.version(auc=0.851)
    assert record(pipegen, registry, kept, "c").exit_code == 0
    assert pipegen("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", kept, "--metric", AUC).exit_code == 0
    assert registry.tags(kept)["pipegen.gate.verdict"] == "keep"
    assert serving(pipegen, registry).stdout.strip() == IMAGE + "b" * 64


def test_no_champion_or_no_recorded_image_fails_instead_of_serving_something_else(pipegen, registry) -> None:
    version = registry.version(auc=0.80)
    none = serving(pipegen, registry)
    assert none.exit_code == 1 and "has no 'champion' version" in none.stderr
    registry.champion(version)
    unbuilt = serving(pipegen, registry)
    assert unbuilt.exit_code == 1 and "has no image recorded" in unbuilt.stderr
    tag = pipegen("model", "record-image", "--tracking-uri", registry.uri, "--model-name", registry.name,
                  "--version", version, "--image-ref", "registry.example.test/churn:latest")
    assert tag.exit_code == 2 and "is not an image digest" in tag.stderr
    skipped = pipegen("model", "record-image", "--tracking-uri", registry.uri, "--model-name", registry.name,
                      "--version", "", "--image-ref", IMAGE + "d" * 64)
    assert skipped.exit_code == 0 and "nothing recorded" in skipped.stdout
