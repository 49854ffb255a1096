"""`pipegen model promote|rollback` against a real MLflow tracking server."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

AUC = "auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005"


def gate(pipegen, registry, version: str):
    return pipegen("gate", "model", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", version, "--metric", AUC)


def promote(pipegen, registry, version: str, *extra: str):
    return pipegen("model", "promote", "--tracking-uri", registry.uri, "--model-name", registry.name,
                   "--candidate-version", version, *extra)


def rollback(pipegen, registry, *extra: str):
    return pipegen("model", "rollback", "--tracking-uri", registry.uri, "--model-name", registry.name, *extra)


def test_promote_moves_champion_keeps_the_previous_and_tags_who_when_which_run(pipegen, registry, monkeypatch):
    old = registry.version(auc=0.80)
    registry.champion(old)
    new = registry.version(auc=0.85)
    assert gate(pipegen, registry, new).exit_code == 0
    monkeypatch.setenv("GITHUB_ACTOR", "release-bot")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/churn")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")

    run = promote(pipegen, registry, new)

    assert run.exit_code == 0, run.stderr
    assert f"v{new} is now 'champion'" in run.stdout
    assert registry.aliases() == {"champion": new, "previous-champion": old}
    tags = registry.tags(new)
    assert tags["pipegen.promote.by"] == "release-bot"
    assert tags["pipegen.promote.ci_run"] == "https://github.com/acme/churn/actions/runs/4242"
    assert tags["pipegen.promote.replaced_version"] == old
    assert tags["pipegen.promote.at"].endswith("+00:00")


def test_promote_is_idempotent(pipegen, registry):
    old = registry.version(auc=0.80)
    registry.champion(old)
    new = registry.version(auc=0.85)
    gate(pipegen, registry, new)
    assert promote(pipegen, registry, new).exit_code == 0

    again = promote(pipegen, registry, new)

    assert again.exit_code == 0
    assert "already 'champion'" in again.stdout
    assert registry.aliases() == {"champion": new, "previous-champion": old}


def test_promote_refuses_when_another_pipeline_promoted_in_between(pipegen, registry):
    """Two pipelines gate v2 and v3 against champion v1; v3's pipeline promotes first.
    v2's promote must refuse: its gate never compared it with v3."""
    first = registry.version(auc=0.80)
    registry.champion(first)
    slow_candidate = registry.version(auc=0.86)
    fast_candidate = registry.version(auc=0.90)
    assert gate(pipegen, registry, slow_candidate).exit_code == 0
    assert gate(pipegen, registry, fast_candidate).exit_code == 0
    assert promote(pipegen, registry, fast_candidate).exit_code == 0

    late = promote(pipegen, registry, slow_candidate)

    assert late.exit_code == 1
    assert f"the gate compared it with champion v{first}, but 'champion' is now v{fast_candidate}" in late.stderr
    assert "Traceback" not in late.stderr
    assert registry.aliases() == {"champion": fast_candidate, "previous-champion": first}


def test_expected_champion_overrides_the_gate_record(pipegen, registry):
    first = registry.version(auc=0.80)
    registry.champion(first)
    candidate = registry.version(auc=0.90)
    gate(pipegen, registry, candidate)

    assert promote(pipegen, registry, candidate, "--expected-champion", "7").exit_code == 1
    assert registry.aliases()["champion"] == first
    assert promote(pipegen, registry, candidate, "--expected-champion", first).exit_code == 0


def test_first_model_promotes_without_a_previous_champion(pipegen, registry):
    candidate = registry.version(auc=0.80)
    assert gate(pipegen, registry, candidate).exit_code == 0

    run = promote(pipegen, registry, candidate)

    assert run.exit_code == 0
    assert registry.aliases() == {"champion": candidate}
    assert registry.tags(candidate)["pipegen.promote.replaced_version"] == "none"


def test_promote_refuses_a_candidate_the_gate_failed_unless_forced(pipegen, registry):
    champion = registry.version(auc=0.80)
    registry.champion(champion)
    worse = registry.version(auc=0.70)
    assert gate(pipegen, registry, worse).exit_code == 1

    refused = promote(pipegen, registry, worse)
    assert refused.exit_code == 1
    assert "has gate verdict 'fail'" in refused.stderr
    assert registry.aliases() == {"champion": champion}

    forced = promote(pipegen, registry, worse, "--force")
    assert forced.exit_code == 0
    assert registry.aliases()["champion"] == worse
    assert registry.tags(worse)["pipegen.promote.forced"] == "true"


def test_promote_refuses_a_candidate_the_gate_never_evaluated(pipegen, registry):
    registry.champion(registry.version(auc=0.80))
    unevaluated = registry.version(auc=0.99)

    run = promote(pipegen, registry, unevaluated)

    assert run.exit_code == 1
    assert "was never evaluated" in run.stderr


def test_rollback_restores_the_previous_champion_and_is_idempotent(pipegen, registry):
    old = registry.version(auc=0.80)
    registry.champion(old)
    new = registry.version(auc=0.85)
    gate(pipegen, registry, new)
    promote(pipegen, registry, new)

    first = rollback(pipegen, registry)
    assert first.exit_code == 0, first.stderr
    assert registry.aliases() == {"champion": old}
    model_tags = registry.model_tags()
    assert (model_tags["pipegen.rollback.from_version"], model_tags["pipegen.rollback.to_version"]) == (new, old)
    assert "pipegen.rolled_back_at" in registry.tags(new)

    second = rollback(pipegen, registry)
    assert second.exit_code == 0
    assert "already rolled back" in second.stdout
    assert registry.aliases() == {"champion": old}


def test_rollback_without_a_previous_champion_refuses(pipegen, registry):
    registry.champion(registry.version(auc=0.80))

    run = rollback(pipegen, registry)

    assert run.exit_code == 1
    assert "no version has alias 'previous-champion'" in run.stderr


def test_after_rollback_the_next_gate_compares_against_the_restored_champion(pipegen, registry):
    old = registry.version(auc=0.80)
    registry.champion(old)
    bad = registry.version(auc=0.95)
    gate(pipegen, registry, bad)
    promote(pipegen, registry, bad)
    rollback(pipegen, registry)
    next_candidate = registry.version(auc=0.82)

    assert gate(pipegen, registry, next_candidate).exit_code == 0
    assert registry.tags(next_candidate)["pipegen.gate.baseline_version"] == old
    assert promote(pipegen, registry, next_candidate).exit_code == 0
    assert registry.aliases() == {"champion": next_candidate, "previous-champion": old}


def test_promote_against_an_unreachable_server_exits_3(pipegen, monkeypatch):
    from executors.mlflow_server import free_port

    run = pipegen("model", "promote", "--tracking-uri", f"http://127.0.0.1:{free_port()}",
                  "--model-name", "churn", "--candidate-version", "1")

    assert run.exit_code == 3
    assert "could not read churn version 1" in run.stderr


def test_an_unchanged_model_is_kept_out_and_promote_leaves_the_champion(pipegen, registry):
    """A retrain exactly as good as the champion: the gate passes the job (keep), promote
    does nothing and says why, so the rest of the release (the image deployment) goes on."""
    champion = registry.version(auc=0.80)
    registry.champion(champion)
    same = registry.version(auc=0.80)
    run = gate(pipegen, registry, same)
    assert run.exit_code == 0 and "KEEP" in run.stdout
    assert registry.tags(same)["pipegen.gate.verdict"] == "keep"

    kept = promote(pipegen, registry, same)
    assert kept.exit_code == 0
    assert "not promoted" in kept.stdout
    assert registry.aliases() == {"champion": champion}
