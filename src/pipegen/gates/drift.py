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

Table = Mapping[str, object]  # column name -> values: a pyarrow column or a list (None where missing)


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

# The largest data set the gate reads. Only the tested columns are held in memory (typed,
# columnar), but reading still passes over the whole file: past this, exit 3 says so.
MAX_DATA_BYTES = 2 * 1024 ** 3
# Python's str.isspace() characters: a CSV cell of only these is a missing value, as before.
_BLANK = "^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
# A value with a character no spelling of a number has (float() accepts digits, signs, '.', '_',
# exponents, inf/nan/infinity and surrounding space; non-ASCII digits too, so those are checked
# one by one) is a category as written: most values of an id or timestamp column are told apart
# without calling float() on each.
_NOT_A_NUMBER = "[^0-9+\\-._eEinfatyINFATY\t\n\x0b\x0c\r\x1c-\x1f \x80-\U0010ffff]"


def _pyarrow():
    try:
        import pyarrow  # pylint: disable=import-outside-toplevel  # the drift extra, only here
        import pyarrow.compute  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError as exc:
        raise EvaluationError(f"the drift gate reads data with pyarrow: {INSTALL_HINT} ({exc})") from exc
    return pyarrow


def _checked_size(path: Path) -> None:
    """A data set the one safe reader (pipegen.paths) opens: a regular file inside the repository
    (or a PIPEGEN_ALLOW_READ folder), never a FIFO, a device or /proc, and under MAX_DATA_BYTES."""
    if not os.path.lexists(path):
        raise EvaluationError(f"data set {path} does not exist")
    try:
        paths.confined(path, error=EvaluationError)
        status = paths.check_regular(path, missing_ok=False, error=EvaluationError)
    except EvaluationError as exc:
        raise EvaluationError(f"data set {exc}") from None
    if status.st_size > MAX_DATA_BYTES:
        raise EvaluationError(f"data set {path} is {_size(status.st_size)}, over the drift gate's cap of "
                              f"{_size(MAX_DATA_BYTES)}: test a sample, or a Parquet file of the columns it tests")


def _open(path: Path) -> BinaryIO:
    """The data set, opened through the one safe reader (every read of it goes through here)."""
    try:
        return paths.open_binary(path, MAX_DATA_BYTES, error=EvaluationError)
    except EvaluationError as exc:
        raise EvaluationError(f"data set {exc}") from None


def _size(count: int) -> str:
    return f"{count / 1024 ** 2:,.1f} MiB" if count >= 1024 ** 2 else f"{count:,} bytes"


def column_names(path: Path) -> list[str]:
    """The data set's column names, from its header (CSV) or schema (Parquet), without the data."""
    path = Path(path)
    _checked_size(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        pyarrow = _pyarrow()
        import pyarrow.parquet  # pylint: disable=import-outside-toplevel
        try:
            with _open(path) as stream:
                return list(pyarrow.parquet.read_schema(stream).names)
        except EvaluationError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any pyarrow failure: unreadable
            raise EvaluationError(f"cannot read data set {path}: {exc}") from exc
    try:
        with io.TextIOWrapper(_open(path), encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"cannot read data set {path}: {exc}") from exc
    if not header:
        raise EvaluationError(f"data set {path} is empty (no header row)")
    if len(set(header)) != len(header):
        raise EvaluationError(f"data set {path}: duplicate column names in the header")
    return header


def read_table(path: Path, names: Iterable[str] | None = None) -> Table:
    """The named columns (default: all) of a CSV (header row first) or Parquet file, each a
    pyarrow column: CSV cells as text, a blank cell missing. Only those columns are kept in
    memory. Raises EvaluationError (exit 3) when the file is missing, over MAX_DATA_BYTES or
    unreadable."""
    path = Path(path)
    header = column_names(path)
    wanted = [name for name in dict.fromkeys(names if names is not None else header) if name in header]
    if not wanted:
        return {}
    pyarrow = _pyarrow()
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet  # pylint: disable=import-outside-toplevel
        try:
            with _open(path) as stream:
                table = pyarrow.parquet.read_table(stream, columns=wanted)
        except EvaluationError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught  # any pyarrow failure: unreadable
            raise EvaluationError(f"cannot read data set {path}: {exc}") from exc
        return {name: table.column(name) for name in wanted}
    return _read_csv(path, header, wanted)


def _read_csv(path: Path, header: list[str], wanted: list[str]) -> Table:
    pyarrow = _pyarrow()
    import pyarrow.csv  # pylint: disable=import-outside-toplevel
    ragged: list = []

    def invalid(row) -> str:
        ragged.append(row)
        return "skip"

    try:
        with _open(path) as stream:
            table = pyarrow.csv.read_csv(
                stream, read_options=pyarrow.csv.ReadOptions(column_names=header, skip_rows=1),
                parse_options=pyarrow.csv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid),
                convert_options=pyarrow.csv.ConvertOptions(
                    include_columns=wanted, column_types={name: pyarrow.string() for name in wanted},
                    null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False))
    except EvaluationError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any pyarrow failure: unreadable
        raise EvaluationError(f"cannot read data set {path}: {exc}") from exc
    if ragged:
        raise EvaluationError(_ragged_row(path, len(header)))
    compute = pyarrow.compute
    columns: Table = {}
    for name in wanted:
        column = table.column(name)
        columns[name] = compute.if_else(compute.match_substring_regex(column, _BLANK), None, column)
    return columns


def _ragged_row(path: Path, width: int) -> str:
    """Where the first row with another number of fields than the header is (read again, on error only)."""
    with io.TextIOWrapper(_open(path), encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if row and len(row) != width:
                return f"data set {path}:{number}: {len(row)} fields, the header has {width}"
    return f"data set {path}: a row has another number of fields than the header"


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def infer_kind(values: Iterable) -> str:
    """numeric when every present value reads as a finite number, else categorical."""
    return NUMERIC if _values(values).numbers is not None else CATEGORICAL


def category(value) -> str:
    """One spelling per category: '12', 12 and 12.0 are the same category in CSV and Parquet."""
    number = _number(value)
    if number is not None and number.is_integer():
        return str(int(number))
    return str(value)


class _Values:
    """One column's present values (not missing, not NaN), read once: as finite numbers when
    every one is one, and as counts per category. Arrow does the per-row work; Python sees each
    distinct value at most once."""

    def __init__(self, values):
        pyarrow = _pyarrow()
        compute = pyarrow.compute
        if not isinstance(values, (pyarrow.Array, pyarrow.ChunkedArray)):
            try:
                values = pyarrow.chunked_array([pyarrow.array(list(values))])
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):  # mixed Python types: spelled one by one
                values = pyarrow.chunked_array([pyarrow.array([category(v) if v is not None else None
                                                               for v in values], pyarrow.string())])
        values = compute.drop_null(values)
        kind = values.type
        if pyarrow.types.is_floating(kind):
            values = compute.filter(values, compute.invert(compute.is_nan(values)))
        self.arrow, self.count = values, len(values)
        self.textual = pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind)
        self.numeric_type = pyarrow.types.is_integer(kind) or pyarrow.types.is_floating(kind)
        self.numbers = self._numbers()

    def _numbers(self):
        """float64 numpy array of the values when each reads as a finite number, else None."""
        pyarrow, compute = _pyarrow(), _pyarrow().compute
        if self.count == 0:
            return None
        if self.numeric_type or self.textual:
            try:
                floats = compute.cast(self.arrow, pyarrow.float64())
            except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):
                floats = None
            if floats is not None:  # a spelling arrow reads as a number, float() reads as the same one
                numbers = floats.to_numpy()
                return numbers if bool(_numpy().isfinite(numbers).all()) else None
            if self.textual and bool(compute.any(compute.match_substring_regex(self.arrow, _NOT_A_NUMBER)).as_py()):
                return None
        return self._numbers_one_by_one()

    def _numbers_one_by_one(self):
        """The exact rule (float() of each value, finite), on each distinct value once."""
        encoded = self._distinct()
        numbers = [_number(value) for value in encoded.dictionary.to_pylist()]
        if any(number is None for number in numbers):
            return None
        return _numpy().asarray(numbers, dtype=float)[encoded.indices.to_numpy()]

    def first_non_number(self):
        """The first value (in order) that is not a finite number, as the data has it."""
        for value in self._distinct().dictionary.to_pylist():
            if _number(value) is None:
                return value
        return None

    def _distinct(self):
        """The values dictionary-encoded: each distinct value once, in the order first seen."""
        compute = _pyarrow().compute
        return _combined(compute.dictionary_encode(self.arrow))

    def categories(self):
        """(category spellings as a pyarrow string array, their counts as a numpy array)."""
        pyarrow, compute = _pyarrow(), _pyarrow().compute
        counted = compute.value_counts(self.arrow)
        values, counts = counted.field("values"), counted.field("counts").to_numpy()
        if self.textual:
            values = values.cast(pyarrow.string())
            as_written = compute.match_substring_regex(values, _NOT_A_NUMBER).to_numpy(zero_copy_only=False)
            if bool(as_written.all()):
                return values, counts
        else:
            as_written = _numpy().zeros(len(values), dtype=bool)
        spelled = values.to_pylist()
        for index in _numpy().flatnonzero(~as_written):
            spelled[index] = category(spelled[index])
        merged: dict[str, int] = {}
        for name, count in zip(spelled, counts.tolist()):
            merged[name] = merged.get(name, 0) + count
        numbers = _numpy().fromiter(merged.values(), dtype="int64", count=len(merged))
        return pyarrow.array(list(merged), pyarrow.string()), numbers


def _numpy():
    import numpy  # pylint: disable=import-outside-toplevel  # comes with SciPy and pyarrow
    return numpy


def _combined(array):
    """One DictionaryArray from a chunked one (unified dictionary)."""
    pyarrow = _pyarrow()
    if isinstance(array, pyarrow.ChunkedArray):
        array = array.unify_dictionaries().combine_chunks() if array.num_chunks else pyarrow.array(
            [], pyarrow.dictionary(pyarrow.int32(), pyarrow.string()))
    return array


def _values(values) -> _Values:
    return values if isinstance(values, _Values) else _Values(values)


# ---------------------------------------------------------------------------- testing


def _scipy_stats():
    try:
        from scipy import stats  # pylint: disable=import-outside-toplevel  # the drift extra, only here
    except ImportError as exc:
        raise EvaluationError(f"the drift gate needs SciPy: {INSTALL_HINT} ({exc})") from exc
    return stats


def ks_test(reference, current) -> tuple[float, float]:
    """Two-sample, two-sided Kolmogorov-Smirnov: (D statistic, p-value)."""
    outcome = _scipy_stats().ks_2samp(reference, current)
    return float(outcome.statistic), float(outcome.pvalue)


def contingency(reference, current) -> tuple[list[str], list[list[int]]]:
    """The 2 x k table of category counts (reference row, current row), categories sorted."""
    categories, rows = _contingency(_values(reference), _values(current))
    return categories.to_pylist(), rows.tolist()


def _contingency(reference: _Values, current: _Values):
    """(sorted categories as a pyarrow array, 2 x k numpy counts): counted by pyarrow, no
    Python loop over the values (an id column has as many categories as rows)."""
    pyarrow, compute, numpy = _pyarrow(), _pyarrow().compute, _numpy()
    sides = [reference.categories(), current.categories()]
    every = compute.unique(pyarrow.concat_arrays([names for names, _ in sides]))
    categories = compute.take(every, compute.sort_indices(every))  # code point order, as sorted() of str
    rows = numpy.zeros((2, len(categories)), dtype="int64")
    for row, (names, counts) in enumerate(sides):
        rows[row, compute.index_in(names, value_set=categories).to_numpy()] = counts
    return categories, rows


def chi2_test(reference, current) -> tuple[float, float]:
    """Pearson's chi-squared test of homogeneity of the two category distributions."""
    _, table = _contingency(_values(reference), _values(current))
    return _chi2(table)


def _chi2(table) -> tuple[float, float]:
    if table.shape[1] < 2:
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


def _selected(reference: Iterable[str], policy: DriftPolicy) -> list[str]:
    names = list(policy.include) if policy.include else list(reference)
    return [name for name in names if name not in policy.exclude]


def _kinds(name: str, reference: _Values, current: _Values, policy: DriftPolicy) -> tuple[str, str]:
    declared = policy.columns.get(name)
    if declared is not None:
        return declared, declared
    return infer_kind(reference), infer_kind(current)


def _schema_break(name: str, what: str, actual: str, detail: str) -> tuple[FeatureDrift, Condition]:
    finding = FeatureDrift(name, CATEGORICAL, "none", None, None, verdict="schema-break", detail=detail)
    return finding, Condition(f"schema:{name}", "is", what, actual, Status.FAIL, detail)


def _test_feature(name: str, kind: str, reference: _Values, current: _Values) -> FeatureDrift:
    counts = {"reference_count": reference.count, "current_count": current.count}
    if not reference.count or not current.count:
        side = "reference" if not reference.count else "current"
        return FeatureDrift(name, kind, "none", None, None, verdict="empty", **counts,
                            detail=f"no values in the {side} data")
    if kind == NUMERIC:
        statistic, p_value = ks_test(reference.numbers, current.numbers)
        return FeatureDrift(name, kind, "ks", statistic, p_value, **counts)
    categories, table = _contingency(reference, current)
    statistic, p_value = _chi2(table)
    new = categories.filter(_pyarrow().array((table[0] == 0) & (table[1] > 0))).to_pylist()
    return FeatureDrift(name, kind, "chi2", statistic, p_value, **counts, new_categories=new)


def _listed(names: list[str], most: int = 20) -> str:
    """Names for a table cell: an id column can bring as many new categories as rows."""
    shown = ", ".join(names[:most])
    return shown + (f" (and {len(names) - most:,} more)" if len(names) > most else "")


def _describe(finding: FeatureDrift) -> str:
    if finding.test == "none":
        return finding.detail
    label = {"ks": "KS D", "chi2": "chi2"}[finding.test]
    text = f"{label}={finding.statistic:.4g}, p={finding.p_value:.3g}, corrected p={finding.p_adjusted:.3g}: " \
           f"{finding.verdict}"
    if finding.new_categories:
        text += f"; new categories: {_listed(finding.new_categories)}"
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
            elif ref_kind == NUMERIC and (bad := _non_number(current[name], reference[name])):
                finding, condition = _schema_break(name, NUMERIC, CATEGORICAL,
                                                   f"declared numeric, has non-numeric values such as {bad[0]!r}")
            else:
                testable.append(name)
                continue
        findings.append(finding)
        conditions.append(condition)
    return findings, conditions, testable


def _non_number(*sides: _Values) -> list:
    """[the first value that is not a finite number, current data first], or []."""
    for side in sides:
        if side.count and side.numbers is None:
            return [side.first_non_number()]
    return []


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
            f"categories:{finding.feature}", "seen in", "reference", _listed(finding.new_categories),
            Status.PASS if report else Status.FAIL,
            "categories the reference never had" + (" (new_categories: report)" if report else "")))
    return conditions


class _Prepared(dict):
    """A table's columns as `_Values`, each read the first time a test asks for it."""

    def __init__(self, table: Table):
        super().__init__()
        self.table = table

    def __contains__(self, name: object) -> bool:
        return name in self.table

    def __iter__(self):
        return iter(self.table)

    def __missing__(self, name: str) -> _Values:
        found = self[name] = _Values(self.table[name])
        return found


def compare(reference: Table, current: Table, policy: DriftPolicy, reference_columns: Iterable[str] | None = None,
            current_columns: Iterable[str] | None = None) -> GateResult:
    """Tests every selected feature and returns the gate's result; `result.data` carries the
    per-feature findings (test, statistic, raw and corrected p-value, verdict). The tables may
    hold only the tested columns: `*_columns` then name all of each data set's columns."""
    result = GateResult(gate=GATE_NAME)
    reference_columns = list(reference_columns if reference_columns is not None else reference)
    current_columns = list(current_columns if current_columns is not None else current)
    names = _selected(reference_columns, policy)
    reference, current = _Prepared(reference), _Prepared(current)
    findings, conditions, testable = _schema_conditions(reference, current, names, policy)
    tested = _tested(reference, current, testable, policy)
    for finding in tested:
        conditions += _feature_conditions(finding, policy)
        findings.append(finding)
    drifted = sorted(f.feature for f in findings if f.verdict == "drift")
    broken = sorted(f.feature for f in findings if f.verdict in ("schema-break", "empty"))
    new_columns = sorted(set(current_columns) - set(reference_columns) - set(policy.exclude))
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
    """Reads the tested columns of both data sets (exit 3 when one cannot be read) and compares them."""
    reference_columns, current_columns = column_names(reference_path), column_names(current_path)
    names = _selected(reference_columns, policy)
    result = compare(read_table(reference_path, names), read_table(current_path, names), policy,
                     reference_columns, current_columns)
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
