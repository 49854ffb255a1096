"""The model failgate: a candidate MLflow model version against the champion.

The comparison is pure (`compare`) and follows MLflow's `MetricThreshold` semantics
(mlflow.models.evaluation.validation), so a team that knows those rules gets no surprise:

- `threshold`: candidate >= threshold (greater is better) or <= threshold;
- `min_absolute_change`: candidate >= baseline + change, or <= baseline - change;
- `min_relative_change`: (candidate - baseline) / |baseline| >= change (mirrored when lower
  is better); with a baseline of 0 MLflow falls back to "strictly better by 1e-10";
- a metric missing on the candidate fails; missing on the baseline fails where a change
  against the baseline is required.

The verdict (DESIGN §4): `pass` (better by the rules), `keep` (a required improvement not
reached, yet no worse than the champion and every absolute bound met: no promotion, the
job does not fail) or `fail` (an absolute bound broken or a regression).

`evaluate` reads both versions' run metrics from the registry, compares them and records
the verdict on the candidate version (the audit trail `pipegen model promote` relies on).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping, Protocol

from pipegen.descriptor.model import MetricRule, Model
from pipegen.errors import EvaluationError, UsageError
from pipegen.gates.result import Condition, GateResult, Link, Status

GATE_NAME = "model"
FIRST_MODEL_RULES = ("thresholds", "pass", "fail")
# MLflow's fallback when the baseline is 0: "better" means better by at least this much.
ZERO_BASELINE_EPSILON = 1e-10
NO_BASELINE = "none"

# Tags written on the candidate version; promote reads VERDICT and BASELINE back.
TAG_PREFIX = "pipegen.gate."
TAG_VERDICT = TAG_PREFIX + "verdict"
TAG_BASELINE = TAG_PREFIX + "baseline_version"
TAG_ALIAS = TAG_PREFIX + "champion_alias"
TAG_EVALUATED_AT = TAG_PREFIX + "evaluated_at"
TAG_RUN = TAG_PREFIX + "ci_run"
TAG_METRIC_PREFIX = TAG_PREFIX + "metric."


@dataclass(frozen=True)
class VersionMetrics:
    """One registered version and the metrics of the run that produced it."""

    version: str
    run_id: str | None
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class Comparison:
    """What the gate compared, and the result it reached."""

    model_name: str
    candidate: VersionMetrics
    baseline: VersionMetrics | None  # None: no champion yet
    result: GateResult


def validate_rule(metric: str, rule: MetricRule) -> None:
    """The checks MetricThreshold makes at construction, as usage errors."""
    if not isinstance(rule.greater_is_better, bool):
        raise UsageError(f"metric {metric}: greater_is_better must be true or false")
    for key in ("threshold", "min_absolute_change", "min_relative_change"):
        value = getattr(rule, key)
        if value is not None and not math.isfinite(value):  # inf is a bound every value meets, nan none
            raise UsageError(f"metric {metric}: {key} must be a finite number, not {value}")
    if rule.threshold is None and rule.min_absolute_change is None and rule.min_relative_change is None:
        raise UsageError(f"metric {metric}: give at least one of threshold, min_absolute_change, min_relative_change")
    if rule.min_absolute_change is not None and rule.min_absolute_change <= 0:
        raise UsageError(f"metric {metric}: min_absolute_change must be a positive number")
    if rule.min_relative_change is not None and not 0 <= rule.min_relative_change <= 1:
        raise UsageError(f"metric {metric}: min_relative_change must be between 0 and 1")


def _better_or_equal(rule: MetricRule, value: float, bound: float) -> bool:
    # NaN compares false both ways, so a NaN metric fails closed.
    return value >= bound if rule.greater_is_better else value <= bound


def _sign(rule: MetricRule) -> str:
    return ">=" if rule.greater_is_better else "<="


def _change_status(rule: MetricRule, passed: bool, candidate: float, baseline: float) -> Status:
    """A required improvement not reached is a regression (fail) when the candidate is worse
    than the champion, and `keep` when it is merely as good or slightly better: no rule is
    broken, the champion stays. NaN is neither: it fails closed."""
    if passed:
        return Status.PASS
    return Status.KEEP if _better_or_equal(rule, candidate, baseline) else Status.FAIL


def _threshold_condition(metric: str, rule: MetricRule, candidate: float) -> Condition:
    passed = _better_or_equal(rule, candidate, rule.threshold)
    return Condition(f"{metric}:threshold", _sign(rule), rule.threshold, candidate,
                     Status.PASS if passed else Status.FAIL, "absolute bound")


def _absolute_change_condition(metric: str, rule: MetricRule, candidate: float,
                               baseline: float, champion: str) -> Condition:
    change = rule.min_absolute_change
    required = baseline + change if rule.greater_is_better else baseline - change
    passed = _better_or_equal(rule, candidate, required)
    return Condition(f"{metric}:min_absolute_change", _sign(rule), required, candidate,
                     _change_status(rule, passed, candidate, baseline),
                     f"champion v{champion} = {baseline:.6g}; change {candidate - baseline:+.6g}, "
                     f"required {'+' if rule.greater_is_better else '-'}{change:.6g}")


def _relative_change_condition(metric: str, rule: MetricRule, candidate: float,
                               baseline: float, champion: str) -> Condition:
    change = rule.min_relative_change
    name = f"{metric}:min_relative_change"
    if baseline == 0:
        # MLflow cannot divide by a zero baseline; it requires "strictly better" instead.
        required = ZERO_BASELINE_EPSILON if rule.greater_is_better else -ZERO_BASELINE_EPSILON
        passed = _better_or_equal(rule, candidate, required)
        return Condition(name, _sign(rule), required, candidate, _change_status(rule, passed, candidate, baseline),
                         f"champion v{champion} = 0: relative change undefined, candidate must be strictly better")
    improvement = (candidate - baseline) if rule.greater_is_better else (baseline - candidate)
    relative = improvement / abs(baseline)
    required = baseline + change * abs(baseline) if rule.greater_is_better else baseline - change * abs(baseline)
    passed = relative >= change  # False for NaN: fails closed
    return Condition(name, _sign(rule), required, candidate, _change_status(rule, passed, candidate, baseline),
                     f"champion v{champion} = {baseline:.6g}; improvement {relative:+.2%}, required {change:+.2%}")


def _missing(name: str, where: str) -> Condition:
    return Condition(name, "logged", "yes", None, Status.FAIL, f"not logged on the {where}'s run")


def _skipped(name: str, rule: MetricRule, candidate: float | None, why: str) -> Condition:
    return Condition(name, _sign(rule), None, candidate, Status.SKIP, why)


def metric_conditions(metric: str, rule: MetricRule, candidate: float | None,
                      baseline: VersionMetrics | None) -> list[Condition]:
    """One condition per rule of one metric. `baseline` None means no champion yet and
    only absolute bounds apply (the `thresholds` first-model rule)."""
    if candidate is None:
        return [_missing(metric, "candidate")]
    conditions: list[Condition] = []
    if rule.threshold is not None:
        conditions.append(_threshold_condition(metric, rule, candidate))
    changes = {"min_absolute_change": rule.min_absolute_change, "min_relative_change": rule.min_relative_change}
    for key in (key for key, value in changes.items() if value is not None):
        name = f"{metric}:{key}"
        if baseline is None:
            conditions.append(_skipped(name, rule, candidate, "no champion yet: only absolute bounds apply"))
        elif metric not in baseline.metrics:
            conditions.append(_missing(name, f"champion v{baseline.version}"))
        elif key == "min_absolute_change":
            conditions.append(_absolute_change_condition(metric, rule, candidate, baseline.metrics[metric],
                                                         baseline.version))
        else:
            conditions.append(_relative_change_condition(metric, rule, candidate, baseline.metrics[metric],
                                                         baseline.version))
    return conditions


def _first_model_conditions(metrics: tuple[tuple[str, MetricRule], ...], candidate: VersionMetrics,
                            on_first_model: str, champion_alias: str) -> list[Condition]:
    if on_first_model == "thresholds":
        return [c for metric, rule in metrics for c in metric_conditions(
            metric, rule, candidate.metrics.get(metric), None)]
    # `pass` / `fail`: the rule itself is the verdict; metrics are shown for the record.
    verdict = Status.PASS if on_first_model == "pass" else Status.FAIL
    shown = [Condition(metric, _sign(rule), None, candidate.metrics.get(metric), Status.SKIP,
                       f"no champion yet: on_first_model is {on_first_model}") for metric, rule in metrics]
    return [Condition(f"alias {champion_alias}", "exists", "yes", "no", verdict,
                      f"first model: on_first_model is {on_first_model}"), *shown]


# pylint: disable-next=too-many-arguments  # the comparison's inputs, defaults as in the descriptor
def compare(model_name: str, metrics: tuple[tuple[str, MetricRule], ...], candidate: VersionMetrics,
            baseline: VersionMetrics | None, *, on_first_model: str = "thresholds",
            champion_alias: str = "champion") -> Comparison:
    """The verdict for `candidate` against `baseline` (None: no champion yet)."""
    if on_first_model not in FIRST_MODEL_RULES:
        raise UsageError(f"on_first_model must be one of {', '.join(FIRST_MODEL_RULES)}, not {on_first_model!r}")
    for metric, rule in metrics:
        validate_rule(metric, rule)
    result = GateResult(GATE_NAME)
    if baseline is None:
        result.conditions = _first_model_conditions(metrics, candidate, on_first_model, champion_alias)
        result.notes.append(f"{model_name} v{candidate.version}: no version has alias {champion_alias!r} yet "
                            f"(first model; on_first_model is {on_first_model})")
    else:
        result.conditions = [c for metric, rule in metrics for c in metric_conditions(
            metric, rule, candidate.metrics.get(metric), baseline)]
        result.notes.append(f"{model_name}: candidate v{candidate.version} against "
                            f"{champion_alias} v{baseline.version}")
    return Comparison(model_name, candidate, baseline, result)


def _number(value: float | None) -> float | str | None:
    # JSON has no NaN/inf; the tag must stay parseable.
    if value is None or math.isfinite(value):
        return value
    return str(value)


def audit_tags(comparison: Comparison, champion_alias: str, ci_run: str | None,
               metrics: tuple[tuple[str, MetricRule], ...], now: datetime | None = None) -> dict[str, str]:
    """The tags recorded on the candidate version: verdict, what it was compared with,
    and each metric's numbers, so the registry alone explains why a version was promoted."""
    result = comparison.result
    baseline = comparison.baseline
    tags = {
        TAG_VERDICT: result.status.value,
        TAG_BASELINE: baseline.version if baseline else NO_BASELINE,
        TAG_ALIAS: champion_alias,
        TAG_EVALUATED_AT: (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
    }
    if ci_run:
        tags[TAG_RUN] = ci_run
    for metric, _rule in metrics:
        statuses = {c.metric: c.status.value for c in result.conditions
                    if c.metric == metric or c.metric.startswith(metric + ":")}
        record = {
            "candidate": _number(comparison.candidate.metrics.get(metric)),
            "baseline": _number(baseline.metrics.get(metric)) if baseline else None,
            "status": _metric_status(statuses.values()),
            "rules": statuses,
        }
        tags[TAG_METRIC_PREFIX + metric] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return tags


class RegistryReader(Protocol):
    """What `evaluate` needs from pipegen.model_registry.registry.Registry (kept apart: no mlflow here)."""

    def alias_version(self, name: str, alias: str) -> str | None: ...

    def version_metrics(self, name: str, version: str) -> VersionMetrics: ...

    def tag_version(self, name: str, version: str, tags: Mapping[str, str]) -> None: ...

    def version_url(self, name: str, version: str) -> str | None: ...


def _metric_status(statuses) -> str:
    values = set(statuses)
    for status in (Status.ERROR.value, Status.FAIL.value, Status.PASS.value):
        if status in values:
            return status
    return Status.SKIP.value


def evaluate(registry: RegistryReader, model: Model, candidate_version: str, ci_run: str | None = None) -> Comparison:
    """Reads candidate and champion from `registry` (a pipegen.model_registry.registry.Registry), compares
    them and tags the verdict on the candidate. Raises EvaluationError when the registry
    cannot be read or the verdict cannot be recorded (the gate then fails closed with 3)."""
    champion = registry.alias_version(model.name, model.champion_alias)
    candidate = registry.version_metrics(model.name, candidate_version)
    baseline = None
    if champion is not None and champion != candidate.version:
        baseline = registry.version_metrics(model.name, champion)
    elif champion is not None:
        raise EvaluationError(f"{model.name} v{candidate_version} already has alias {model.champion_alias!r}: "
                              "nothing to compare it with")
    comparison = compare(model.name, model.metrics, candidate, baseline,
                         on_first_model=model.on_first_model, champion_alias=model.champion_alias)
    registry.tag_version(model.name, candidate.version,
                         audit_tags(comparison, model.champion_alias, ci_run, model.metrics))
    comparison.result.notes.append(f"verdict tagged on {model.name} v{candidate.version} ({TAG_VERDICT})")
    link = registry.version_url(model.name, candidate.version)
    if link:
        comparison.result.links.append(Link("candidate in MLflow", link))
    return comparison
