"""The data-drift gate: has the current data moved away from the reference data?

Per feature, the test monitoring practice uses: a two-sample Kolmogorov-Smirnov test for a
numeric column (scipy.stats.ks_2samp, two-sided) and Pearson's chi-squared test of
homogeneity for a categorical one (scipy.stats.chi2_contingency on the 2 x k table of
category counts, without Yates' continuity correction). The p-values are corrected across
features (Bonferroni, or Benjamini-Hochberg's false discovery rate); a feature drifted
when its corrected p-value is below `alpha`.

Schema breaks are not drift, they are broken data, and always fail: a reference column
missing from the current data, a column whose type changed, and (with
`new_categories: fail`) a categorical value the reference never had. Drift itself does
what `on_drift` says: `report` (pass, with the findings), `retrain` (pass, and the
command publishes DATA_DRIFT) or `fail`.

SciPy is the `pipegen-ci[drift]` extra: imported here only, inside the functions that test.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Mapping

from pipegen import paths
from pipegen.errors import EvaluationError, UsageError
from pipegen.gates.result import Condition, GateResult, Status

GATE_NAME = "drift"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)
CORRECTIONS = ("fdr_bh", "bonferroni")
NEW_CATEGORY_RULES = ("fail", "report")
ON_DRIFT = ("report", "retrain", "fail")
INSTALL_HINT = "pip install 'pipegen-ci[drift]'"
# Tags the model gate writes on the candidate version from the drift report (audit trail).
TAG_PREFIX = "pipegen.drift."

Table = dict[str, list]  # column name -> values (None where missing)


@dataclass(frozen=True)
class DriftPolicy:
    """What the gate tests and what a finding does (descriptor `data.drift`, or flags)."""

    alpha: float = 0.05
    correction: str = "fdr_bh"
    new_categories: str = "fail"
    on_drift: str = "report"
    columns: Mapping[str, str] = field(default_factory=dict)  # declared kinds
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise UsageError(f"alpha must be between 0 and 1 (exclusive), not {self.alpha}")
        for value, allowed, what in ((self.correction, CORRECTIONS, "correction"),
                                     (self.new_categories, NEW_CATEGORY_RULES, "new_categories"),
                                     (self.on_drift, ON_DRIFT, "on_drift")):
            if value not in allowed:
                raise UsageError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
        for name, kind in self.columns.items():
            if kind not in KINDS:
                raise UsageError(f"column {name}: type must be numeric or categorical, not {kind!r}")


@dataclass
class FeatureDrift:  # pylint: disable=too-many-instance-attributes  # one field per reported number
    """One feature's test: what ran, its numbers, and the verdict."""

    feature: str
    kind: str  # numeric | categorical
    test: str  # ks | chi2 | none
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None = None
    verdict: str = "stable"  # stable | drift | schema-break | empty
    reference_count: int = 0
    current_count: int = 0
    new_categories: list[str] = field(default_factory=list)
    detail: str = ""


# ---------------------------------------------------------------------------- reading


def _open_data(path: Path) -> BinaryIO:
    """The data set through the one safe reader (pipegen.paths): a regular file inside the
    repository (or a PIPEGEN_ALLOW_READ folder), never a FIFO, a device or /proc; exit 3 otherwise."""
    if not os.path.lexists(path):
        raise EvaluationError(f"data set {path} does not exist")
    try:
        return paths.open_binary(path, error=EvaluationError)
    except EvaluationError as exc:
        raise EvaluationError(f"data set {exc}") from None


def read_table(path: Path) -> Table:
    """A CSV (header row first) or Parquet file as columns; raises EvaluationError (exit 3)
    when it is missing or unreadable."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path)
    try:
        with io.TextIOWrapper(_open_data(path), encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise EvaluationError(f"data set {path} is empty (no header row)")
            columns: Table = {name: [] for name in header}
            if len(columns) != len(header):
                raise EvaluationError(f"data set {path}: duplicate column names in the header")
            for number, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise EvaluationError(f"data set {path}:{number}: {len(row)} fields, the header has "
                                          f"{len(header)}")
                for name, value in zip(header, row):
                    columns[name].append(value if value.strip() != "" else None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"cannot read data set {path}: {exc}") from exc
    return columns


def _read_parquet(path: Path) -> Table:
    try:
        import pyarrow.parquet  # pylint: disable=import-outside-toplevel  # optional
    except ImportError as exc:
        raise EvaluationError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from exc
    try:
        with _open_data(path) as stream:
            return pyarrow.parquet.read_table(stream).to_pydict()
    except EvaluationError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any pyarrow failure: unreadable
        raise EvaluationError(f"cannot read data set {path}: {exc}") from exc


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _present(values: Iterable) -> list:
    return [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def infer_kind(values: Iterable) -> str:
    """numeric when every present value reads as a finite number, else categorical."""
    present = _present(values)
    if present and all(_number(v) is not None for v in present):
        return NUMERIC
    return CATEGORICAL


def category(value) -> str:
    """One spelling per category: '12', 12 and 12.0 are the same category in CSV and Parquet."""
    number = _number(value)
    if number is not None and number.is_integer():
        return str(int(number))
    return str(value)


# ---------------------------------------------------------------------------- testing


def _scipy_stats():
    try:
        from scipy import stats  # pylint: disable=import-outside-toplevel  # the drift extra, only here
    except ImportError as exc:
        raise EvaluationError(f"the drift gate needs SciPy: {INSTALL_HINT} ({exc})") from exc
    return stats


def ks_test(reference: list[float], current: list[float]) -> tuple[float, float]:
    """Two-sample, two-sided Kolmogorov-Smirnov: (D statistic, p-value)."""
    outcome = _scipy_stats().ks_2samp(reference, current)
    return float(outcome.statistic), float(outcome.pvalue)


def contingency(reference: list[str], current: list[str]) -> tuple[list[str], list[list[int]]]:
    """The 2 x k table of category counts (reference row, current row), categories sorted."""
    categories = sorted(set(reference) | set(current))
    rows = [[values.count(name) for name in categories] for values in (reference, current)]
    return categories, rows


def chi2_test(reference: list[str], current: list[str]) -> tuple[float, float]:
    """Pearson's chi-squared test of homogeneity of the two category distributions."""
    categories, table = contingency(reference, current)
    if len(categories) < 2:
        return 0.0, 1.0  # one category in both: nothing can have moved
    outcome = _scipy_stats().chi2_contingency(table, correction=False)
    return float(outcome[0]), float(outcome[1])


def bonferroni(p_values: list[float]) -> list[float]:
    count = len(p_values)
    return [min(1.0, p * count) for p in p_values]


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone), as statsmodels' fdr_bh."""
    count = len(p_values)
    order = sorted(range(count), key=p_values.__getitem__)
    adjusted = [0.0] * count
    running = 1.0
    for rank in range(count - 1, -1, -1):
        index = order[rank]
        running = min(running, p_values[index] * count / (rank + 1))
        adjusted[index] = min(1.0, running)
    return adjusted


def correct(p_values: list[float], method: str) -> list[float]:
    if method == "bonferroni":
        return bonferroni(p_values)
    if method == "fdr_bh":
        return benjamini_hochberg(p_values)
    raise UsageError(f"unknown correction {method!r} (known: {', '.join(CORRECTIONS)})")


# ---------------------------------------------------------------------------- the gate


def _selected(reference: Table, policy: DriftPolicy) -> list[str]:
    names = list(policy.include) if policy.include else list(reference)
    return [name for name in names if name not in policy.exclude]


def _kinds(name: str, reference: list, current: list, policy: DriftPolicy) -> tuple[str, str]:
    declared = policy.columns.get(name)
    if declared is not None:
        return declared, declared
    return infer_kind(reference), infer_kind(current)


def _schema_break(name: str, what: str, actual: str, detail: str) -> tuple[FeatureDrift, Condition]:
    finding = FeatureDrift(name, CATEGORICAL, "none", None, None, verdict="schema-break", detail=detail)
    return finding, Condition(f"schema:{name}", "is", what, actual, Status.FAIL, detail)


def _test_feature(name: str, kind: str, reference: list, current: list) -> FeatureDrift:
    ref_values, cur_values = _present(reference), _present(current)
    if not ref_values or not cur_values:
        side = "reference" if not ref_values else "current"
        return FeatureDrift(name, kind, "none", None, None, verdict="empty", reference_count=len(ref_values),
                            current_count=len(cur_values), detail=f"no values in the {side} data")
    if kind == NUMERIC:
        statistic, p_value = ks_test([float(v) for v in ref_values], [float(v) for v in cur_values])
        return FeatureDrift(name, kind, "ks", statistic, p_value, reference_count=len(ref_values),
                            current_count=len(cur_values))
    ref_categories = [category(v) for v in ref_values]
    cur_categories = [category(v) for v in cur_values]
    statistic, p_value = chi2_test(ref_categories, cur_categories)
    new = sorted(set(cur_categories) - set(ref_categories))
    return FeatureDrift(name, kind, "chi2", statistic, p_value, reference_count=len(ref_values),
                        current_count=len(cur_values), new_categories=new)


def _describe(finding: FeatureDrift) -> str:
    if finding.test == "none":
        return finding.detail
    label = {"ks": "KS D", "chi2": "chi2"}[finding.test]
    text = f"{label}={finding.statistic:.4g}, p={finding.p_value:.3g}, corrected p={finding.p_adjusted:.3g}: " \
           f"{finding.verdict}"
    if finding.new_categories:
        text += f"; new categories: {', '.join(finding.new_categories)}"
    return text


def _schema_conditions(reference: Table, current: Table, names: list[str],
                       policy: DriftPolicy) -> tuple[list[FeatureDrift], list[Condition], list[str]]:
    """Schema breaks, and the (column, kind) pairs left to test."""
    findings: list[FeatureDrift] = []
    conditions: list[Condition] = []
    testable: list[str] = []
    for name in names:
        if name not in reference:
            finding, condition = _schema_break(name, "present", "missing", "not in the reference data")
        elif name not in current:
            finding, condition = _schema_break(name, "present", "missing", "missing from the current data")
        else:
            ref_kind, cur_kind = _kinds(name, reference[name], current[name], policy)
            if ref_kind != cur_kind:
                finding, condition = _schema_break(name, ref_kind, cur_kind,
                                                   f"type changed from {ref_kind} to {cur_kind}")
            elif ref_kind == NUMERIC and (bad := [v for v in _present(current[name]) + _present(reference[name])
                                                  if _number(v) is None]):
                finding, condition = _schema_break(name, NUMERIC, CATEGORICAL,
                                                   f"declared numeric, has non-numeric values such as {bad[0]!r}")
            else:
                testable.append(name)
                continue
        findings.append(finding)
        conditions.append(condition)
    return findings, conditions, testable


def _tested(reference: Table, current: Table, names: list[str], policy: DriftPolicy) -> list[FeatureDrift]:
    """Each feature's test, then the correction across all of them and the verdicts."""
    tested = [_test_feature(name, _kinds(name, reference[name], current[name], policy)[0],
                            reference[name], current[name]) for name in names]
    with_p = [f for f in tested if f.p_value is not None]
    for finding, adjusted in zip(with_p, correct([f.p_value for f in with_p], policy.correction)):
        finding.p_adjusted = adjusted
        finding.verdict = "drift" if adjusted < policy.alpha else "stable"
    return tested


def _feature_conditions(finding: FeatureDrift, policy: DriftPolicy) -> list[Condition]:
    if finding.verdict == "empty":
        return [Condition(finding.feature, "has", "values", "none", Status.FAIL, finding.detail)]
    drifted = finding.verdict == "drift" and policy.on_drift == "fail"
    conditions = [Condition(finding.feature, "corrected p >=", policy.alpha, finding.p_adjusted,
                            Status.FAIL if drifted else Status.PASS, _describe(finding))]
    if finding.new_categories:
        report = policy.new_categories == "report"
        conditions.append(Condition(
            f"categories:{finding.feature}", "seen in", "reference", ", ".join(finding.new_categories),
            Status.PASS if report else Status.FAIL,
            "categories the reference never had" + (" (new_categories: report)" if report else "")))
    return conditions


def compare(reference: Table, current: Table, policy: DriftPolicy) -> GateResult:
    """Tests every selected feature and returns the gate's result; `result.data` carries the
    per-feature findings (test, statistic, raw and corrected p-value, verdict)."""
    result = GateResult(gate=GATE_NAME)
    names = _selected(reference, policy)
    findings, conditions, testable = _schema_conditions(reference, current, names, policy)
    tested = _tested(reference, current, testable, policy)
    for finding in tested:
        conditions += _feature_conditions(finding, policy)
        findings.append(finding)
    drifted = sorted(f.feature for f in findings if f.verdict == "drift")
    broken = sorted(f.feature for f in findings if f.verdict in ("schema-break", "empty"))
    new_columns = sorted(set(current) - set(reference) - set(policy.exclude))
    result.notes.append(f"{len(tested)} features tested ({policy.correction} correction, alpha {policy.alpha}); "
                        f"drifted: {', '.join(drifted) or 'none'}; on_drift: {policy.on_drift}")
    if broken:
        result.notes.append(f"schema breaks: {', '.join(broken)}")
    if new_columns:
        result.notes.append(f"columns only in the current data (not tested): {', '.join(new_columns)}")
    result.conditions = conditions
    result.data = {"drifted": drifted, "schema_breaks": broken, "data_drift": bool(drifted),
                   "policy": {"alpha": policy.alpha, "correction": policy.correction,
                              "new_categories": policy.new_categories, "on_drift": policy.on_drift},
                   "features": [asdict(f) for f in findings]}
    return result


def evaluate(reference_path: Path, current_path: Path, policy: DriftPolicy, reference_label: str | None = None,
             ) -> GateResult:
    """Reads both data sets (exit 3 when one cannot be read) and compares them."""
    result = compare(read_table(reference_path), read_table(current_path), policy)
    result.data.update(reference=reference_label or str(reference_path), current=str(current_path))
    result.notes.append(f"reference: {reference_label or reference_path}; current: {current_path}")
    return result


# ---------------------------------------------------------------------------- audit trail


def tags_from_report(report_text: str) -> dict[str, str]:
    """MLflow tags summarising a drift report (`--report-json`), for the candidate version:
    which data the model was judged on, and whether it had moved."""
    try:
        report = json.loads(report_text)
        data = report.get("data") or {}
        tags = {
            TAG_PREFIX + "verdict": str(report["status"]),
            TAG_PREFIX + "data_drift": str(bool(data.get("data_drift"))).lower(),
            TAG_PREFIX + "drifted_features": ",".join(data.get("drifted") or []) or "none",
            TAG_PREFIX + "schema_breaks": ",".join(data.get("schema_breaks") or []) or "none",
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvaluationError(f"drift report is not a pipegen drift JSON report: {exc}") from exc
    for key in ("reference", "current"):
        if data.get(key):
            tags[TAG_PREFIX + key] = str(data[key])[:500]
    return tags
