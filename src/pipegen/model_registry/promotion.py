"""Moving the champion alias: `pipegen model promote` (only to a version the gate passed, and only
if the champion is still the one the gate compared against) and `rollback`; each tags who, when
and which CI run."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

from pipegen.ci import ci_actor, ci_run_url
from pipegen.errors import CheckFailed
from pipegen.gates.model import NO_BASELINE, TAG_BASELINE, TAG_VERDICT
from pipegen.model_registry.registry import PREVIOUS_ALIAS, Registry, VersionInfo

# Tags promote/rollback write: on the promoted version, and on the registered model.
TAG_PROMOTED_BY = "pipegen.promote.by"
TAG_PROMOTED_AT = "pipegen.promote.at"
TAG_PROMOTED_RUN = "pipegen.promote.ci_run"
TAG_PROMOTED_OVER = "pipegen.promote.replaced_version"
TAG_FORCED = "pipegen.promote.forced"
TAG_ROLLBACK_FROM = "pipegen.rollback.from_version"
TAG_ROLLBACK_TO = "pipegen.rollback.to_version"
TAG_ROLLBACK_BY = "pipegen.rollback.by"
TAG_ROLLBACK_AT = "pipegen.rollback.at"
TAG_ROLLBACK_RUN = "pipegen.rollback.ci_run"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Outcome:
    """What promote/rollback did, for the command to print."""

    changed: bool
    message: str


def _gate_verdict(info: VersionInfo, name: str, force: bool) -> str | None:
    """The baseline the gate compared against; refuses a candidate it failed or never saw."""
    verdict = info.tags.get(TAG_VERDICT)
    if verdict != "pass" and not force:
        why = "was never evaluated by `pipegen gate model`" if verdict is None else f"has gate verdict {verdict!r}"
        raise CheckFailed(f"refusing to promote {name} v{info.version}: it {why} (--force overrides)")
    return info.tags.get(TAG_BASELINE)


def _check_champion_unchanged(name: str, candidate: str, alias: str, current: str | None,
                              expected: str | None) -> None:
    """Refuses when the champion moved since the gate compared (`expected`, 'none': no champion)."""
    if expected is None or (current or NO_BASELINE) == expected:
        return
    compared = "no champion" if expected == NO_BASELINE else f"{alias} v{expected}"
    now = "no champion" if current is None else f"v{current}"
    raise CheckFailed(f"refusing to promote {name} v{candidate}: the gate compared it with {compared}, "
                      f"but {alias!r} is now {now} (another pipeline promoted in between). "
                      "Re-run the model gate against the new champion.")


def _who_when_where(environ: Mapping[str, str] | None) -> tuple[str, str, str | None]:
    env = os.environ if environ is None else environ
    return ci_actor(env), _now(), ci_run_url(env)


def _promotion_tags(replaced: str | None, force: bool, environ: Mapping[str, str] | None) -> dict[str, str]:
    actor, when, run = _who_when_where(environ)
    tags = {TAG_PROMOTED_BY: actor, TAG_PROMOTED_AT: when, TAG_PROMOTED_OVER: replaced or NO_BASELINE}
    if run:
        tags[TAG_PROMOTED_RUN] = run
    if force:
        tags[TAG_FORCED] = "true"
    return tags


def promote(registry: Registry, name: str, candidate: str, *, champion_alias: str = "champion",
            previous_alias: str = PREVIOUS_ALIAS, expected_champion: str | None = None, force: bool = False,
            environ: Mapping[str, str] | None = None) -> Outcome:
    """Moves `champion_alias` to `candidate` only if the champion is still the version
    the gate compared against (compare-then-set: a pipeline that promoted in between
    makes this one refuse instead of silently overwriting its decision)."""
    info = registry.version(name, candidate)
    current = registry.alias_version(name, champion_alias)
    if current == info.version:
        return Outcome(False, f"{name} v{info.version} is already {champion_alias!r}: nothing to do")
    if info.tags.get(TAG_VERDICT) == "keep" and not force:
        return Outcome(False, f"{name} v{info.version} is not promoted: the model gate kept it out (not better "
                              f"than {champion_alias!r}, no rule broken); {champion_alias!r} stays on "
                              f"v{current}" if current else f"{name} v{info.version} is not promoted (gate verdict "
                              "keep)")
    gate_baseline = _gate_verdict(info, name, force)
    expected = expected_champion if expected_champion is not None else gate_baseline
    if expected is None and not force:
        raise CheckFailed(f"refusing to promote {name} v{info.version}: the gate did not record which "
                          f"{champion_alias!r} it compared against ({TAG_BASELINE}); pass --expected-champion")
    _check_champion_unchanged(name, info.version, champion_alias, current, expected)
    if current is not None:
        registry.set_alias(name, previous_alias, current)
    registry.set_alias(name, champion_alias, info.version)
    registry.tag_version(name, info.version, _promotion_tags(current, force, environ))
    replaced = f"; v{current} is now {previous_alias!r}" if current is not None else " (first champion)"
    return Outcome(True, f"{name} v{info.version} is now {champion_alias!r}{replaced}")


def rollback(registry: Registry, name: str, *, champion_alias: str = "champion",
             previous_alias: str = PREVIOUS_ALIAS, environ: Mapping[str, str] | None = None) -> Outcome:
    """Puts the previous champion back. The previous alias is consumed, so running it
    again is a no-op rather than a second step back (or a flip forward)."""
    aliases = registry.aliases(name)
    current = aliases.get(champion_alias)
    previous = aliases.get(previous_alias)
    if previous is None:
        model_tags = registry.model_tags(name)
        if current is not None and model_tags.get(TAG_ROLLBACK_TO) == current:
            return Outcome(False, f"{name}: already rolled back to v{current} "
                                  f"(from v{model_tags.get(TAG_ROLLBACK_FROM)}): nothing to do")
        raise CheckFailed(f"cannot roll back {name}: no version has alias {previous_alias!r}")
    registry.set_alias(name, champion_alias, previous)
    registry.delete_alias(name, previous_alias)
    actor, when, run = _who_when_where(environ)
    tags = {TAG_ROLLBACK_FROM: current or NO_BASELINE, TAG_ROLLBACK_TO: previous,
            TAG_ROLLBACK_BY: actor, TAG_ROLLBACK_AT: when}
    if run:
        tags[TAG_ROLLBACK_RUN] = run
    registry.tag_model(name, tags)
    if current is not None:
        registry.tag_version(name, current, {"pipegen.rolled_back_at": tags[TAG_ROLLBACK_AT]})
    return Outcome(True, f"{name}: {champion_alias!r} is back on v{previous} (was v{current})")
