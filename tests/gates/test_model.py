"""The model gate's comparison rules (MLflow MetricThreshold semantics), without a registry."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipegen.descriptor.model import MetricRule
from pipegen.errors import UsageError
from pipegen.gates.model import (
    NO_BASELINE, TAG_BASELINE, TAG_METRIC_PREFIX, TAG_VERDICT, VersionMetrics, audit_tags, compare,
)
from pipegen.gates.result import Status, render_markdown

AUC = MetricRule(greater_is_better=True, threshold=0.75, min_absolute_change=0.005)
LOG_LOSS = MetricRule(greater_is_better=False, min_relative_change=0.01)
REFERENCE_METRICS = (("auc", AUC), ("log_loss", LOG_LOSS))


def version(number: str, **metrics: float) -> VersionMetrics:
    return VersionMetrics(number, f"run-{number}", metrics)


def statuses(comparison) -> dict[str, Status]:
    return {c.metric: c.status for c in comparison.result.conditions}


def test_better_candidate_passes_every_rule():
    comparison = compare("churn", REFERENCE_METRICS, version("2", auc=0.82, log_loss=0.38),
                         version("1", auc=0.80, log_loss=0.40))
    assert statuses(comparison) == {"auc:threshold": Status.PASS, "auc:min_absolute_change": Status.PASS,
                                    "log_loss:min_relative_change": Status.PASS}
    assert comparison.result.status is Status.PASS


def test_worse_candidate_fails_each_change_rule_and_shows_the_numbers():
    comparison = compare("churn", REFERENCE_METRICS, version("3", auc=0.79, log_loss=0.41),
                         version("1", auc=0.80, log_loss=0.40))
    by_metric = {c.metric: c for c in comparison.result.conditions}
    assert by_metric["auc:threshold"].status is Status.PASS  # still above the absolute bound
    absolute = by_metric["auc:min_absolute_change"]
    assert (absolute.status, absolute.comparator, absolute.actual) == (Status.FAIL, ">=", 0.79)
    assert absolute.threshold == pytest.approx(0.805)
    relative = by_metric["log_loss:min_relative_change"]
    assert (relative.status, relative.comparator) == (Status.FAIL, "<=")
    assert relative.threshold == pytest.approx(0.396)
    assert "champion v1 = 0.4" in relative.detail
    assert comparison.result.status is Status.FAIL


# Short of the required improvement but no worse than the champion: kept out, not failed.
@pytest.mark.parametrize("candidate_auc, expected", [(0.805, Status.PASS), (0.8049, Status.KEEP),
                                                     (0.7999, Status.FAIL)])
def test_min_absolute_change_is_inclusive(candidate_auc, expected):
    comparison = compare("m", (("auc", MetricRule(True, min_absolute_change=0.005)),),
                         version("2", auc=candidate_auc), version("1", auc=0.80))
    assert statuses(comparison)["auc:min_absolute_change"] is expected


@pytest.mark.parametrize("candidate, expected", [(-0.99, Status.PASS), (-1.0, Status.KEEP), (-1.01, Status.FAIL)])
def test_relative_change_uses_the_magnitude_of_a_negative_baseline(candidate, expected):
    # A negative baseline (an R2 score, say): improving from -1.0 to -0.99 is +1%.
    rule = MetricRule(greater_is_better=True, min_relative_change=0.01)
    comparison = compare("m", (("r2", rule),), version("2", r2=candidate), version("1", r2=-1.0))
    assert statuses(comparison)["r2:min_relative_change"] is expected


@pytest.mark.parametrize("greater_is_better, candidate, expected", [
    (True, 0.001, Status.PASS), (True, 0.0, Status.KEEP), (True, -0.5, Status.FAIL),
    (False, -0.001, Status.PASS), (False, 0.0, Status.KEEP), (False, 0.2, Status.FAIL),
])
def test_relative_change_with_baseline_zero_requires_strictly_better(greater_is_better, candidate, expected):
    rule = MetricRule(greater_is_better=greater_is_better, min_relative_change=0.5)
    comparison = compare("m", (("score", rule),), version("2", score=candidate), version("1", score=0.0))
    condition = comparison.result.conditions[0]
    assert condition.status is expected
    assert "relative change undefined" in condition.detail


def test_an_unchanged_model_is_kept_out_without_failing_the_job():
    """A scheduled retrain exactly as good as the champion: verdict keep, exit 0, nothing promoted."""
    comparison = compare("churn", REFERENCE_METRICS, version("3", auc=0.80, log_loss=0.40),
                         version("1", auc=0.80, log_loss=0.40))
    assert comparison.result.status is Status.KEEP
    assert comparison.result.exit_code() == 0
    assert audit_tags(comparison, "champion", None, REFERENCE_METRICS)[TAG_VERDICT] == "keep"
    assert "Nothing is promoted" in render_markdown(comparison.result)
    # below an absolute bound it is a failure, however it compares with the champion
    broken = compare("churn", REFERENCE_METRICS, version("4", auc=0.70, log_loss=0.40),
                     version("1", auc=0.70, log_loss=0.40))
    assert broken.result.status is Status.FAIL and broken.result.exit_code() == 1


def test_lower_is_better_threshold():
    rule = MetricRule(greater_is_better=False, threshold=0.5)
    assert statuses(compare("m", (("loss", rule),), version("2", loss=0.5), None))["loss:threshold"] is Status.PASS
    assert statuses(compare("m", (("loss", rule),), version("2", loss=0.51), None))["loss:threshold"] is Status.FAIL


def test_metric_missing_on_candidate_fails():
    comparison = compare("m", REFERENCE_METRICS, version("2", auc=0.9), version("1", auc=0.8, log_loss=0.4))
    missing = next(c for c in comparison.result.conditions if c.metric == "log_loss")
    assert missing.status is Status.FAIL
    assert missing.detail == "not logged on the candidate's run"
    assert comparison.result.status is Status.FAIL


def test_metric_missing_on_champion_fails_where_a_change_is_required():
    comparison = compare("m", REFERENCE_METRICS, version("2", auc=0.9, log_loss=0.3), version("1", auc=0.8))
    condition = {c.metric: c for c in comparison.result.conditions}["log_loss:min_relative_change"]
    assert condition.status is Status.FAIL
    assert "champion v1" in condition.detail


def test_metric_missing_on_champion_is_fine_for_an_absolute_bound_only():
    comparison = compare("m", (("auc", MetricRule(True, threshold=0.7)),), version("2", auc=0.9), version("1"))
    assert comparison.result.status is Status.PASS


def test_nan_metric_fails_closed():
    comparison = compare("m", REFERENCE_METRICS, version("2", auc=float("nan"), log_loss=float("nan")),
                         version("1", auc=0.8, log_loss=0.4))
    assert set(statuses(comparison).values()) == {Status.FAIL}


def test_first_model_thresholds_applies_only_absolute_bounds():
    comparison = compare("m", REFERENCE_METRICS, version("1", auc=0.76, log_loss=9.0), None,
                         on_first_model="thresholds")
    assert statuses(comparison) == {"auc:threshold": Status.PASS, "auc:min_absolute_change": Status.SKIP,
                                    "log_loss:min_relative_change": Status.SKIP}
    assert comparison.result.status is Status.PASS


def test_first_model_thresholds_still_fails_below_the_bound_or_when_missing():
    below = compare("m", REFERENCE_METRICS, version("1", auc=0.7, log_loss=0.3), None)
    missing = compare("m", REFERENCE_METRICS, version("1", auc=0.9), None)
    assert below.result.status is Status.FAIL
    assert missing.result.status is Status.FAIL


@pytest.mark.parametrize("rule, expected", [("pass", Status.PASS), ("fail", Status.FAIL)])
def test_first_model_pass_and_fail_decide_alone(rule, expected):
    # Even a candidate below every bound passes with `pass`; even a perfect one fails with `fail`.
    candidate = version("1", auc=0.1, log_loss=0.3) if rule == "pass" else version("1", auc=1.0, log_loss=0.0)
    comparison = compare("m", REFERENCE_METRICS, candidate, None, on_first_model=rule)
    assert comparison.result.status is expected
    assert comparison.result.conditions[0].metric == "alias champion"


@pytest.mark.parametrize("rule, message", [
    (MetricRule(True), "at least one of"),
    (MetricRule(True, min_absolute_change=0.0), "positive"),
    (MetricRule(True, min_relative_change=1.5), "between 0 and 1"),
    (MetricRule(None, threshold=1.0), "greater_is_better"),  # type: ignore[arg-type]
])
def test_invalid_rules_are_usage_errors(rule, message):
    with pytest.raises(UsageError, match=message):
        compare("m", (("x", rule),), version("2", x=1.0), None)


def test_unknown_first_model_rule_is_a_usage_error():
    with pytest.raises(UsageError, match="on_first_model"):
        compare("m", REFERENCE_METRICS, version("2", auc=1.0), None, on_first_model="maybe")


def test_audit_tags_record_verdict_baseline_and_each_metrics_numbers():
    comparison = compare("m", REFERENCE_METRICS, version("3", auc=0.79, log_loss=0.41),
                         version("1", auc=0.80, log_loss=0.40))
    tags = audit_tags(comparison, "champion", "https://ci/run/7", REFERENCE_METRICS,
                      now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert tags[TAG_VERDICT] == "fail"
    assert tags[TAG_BASELINE] == "1"
    assert tags["pipegen.gate.ci_run"] == "https://ci/run/7"
    assert tags["pipegen.gate.evaluated_at"] == "2025-01-02T03:04:05+00:00"
    auc = json.loads(tags[TAG_METRIC_PREFIX + "auc"])
    assert auc == {"candidate": 0.79, "baseline": 0.80, "status": "fail",
                   "rules": {"auc:threshold": "pass", "auc:min_absolute_change": "fail"}}


def test_audit_tags_for_a_first_model_name_no_baseline():
    comparison = compare("m", REFERENCE_METRICS, version("1", auc=0.9, log_loss=float("inf")), None)
    tags = audit_tags(comparison, "champion", None, REFERENCE_METRICS)
    assert tags[TAG_BASELINE] == NO_BASELINE
    assert "pipegen.gate.ci_run" not in tags
    assert json.loads(tags[TAG_METRIC_PREFIX + "log_loss"])["candidate"] == "inf"
