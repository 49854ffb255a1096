"""The drift gate on scikit-learn's bundled wine data set, with known shifts injected:
verdicts, p-values equal to SciPy's, the corrections, and schema breaks."""
from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_wine

from pipegen.gates import drift
from pipegen.gates.result import Status, render_json, render_junit, render_markdown

SEED = 11


def wine_halves(seed: int = SEED) -> tuple[dict, dict]:
    """Two random halves of the wine data (same distribution), as columns, with the class as
    a categorical column `cultivar` (values class_0..class_2)."""
    data = load_wine(as_frame=False)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.target))
    halves = []
    for rows in (order[: len(order) // 2], order[len(order) // 2:]):
        table = {name: [float(v) for v in data.data[rows, index]] for index, name in enumerate(data.feature_names)}
        table["cultivar"] = [f"class_{t}" for t in data.target[rows]]
        halves.append(table)
    return halves[0], halves[1]


def write_csv(table: dict, path: Path) -> Path:
    names = list(table)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*(table[name] for name in names)))
    return path


def finding(result, feature: str) -> dict:
    return next(f for f in result.data["features"] if f["feature"] == feature)


def test_no_change_means_no_drift():
    reference, current = wine_halves()
    result = drift.compare(reference, current, drift.DriftPolicy())
    assert result.status is Status.PASS
    assert result.data["drifted"] == [] and result.data["data_drift"] is False
    assert len(result.data["features"]) == 14
    assert {f["test"] for f in result.data["features"]} == {"ks", "chi2"}


def test_mean_shift_in_one_column_is_drift_in_that_column_only():
    reference, current = wine_halves()
    spread = float(np.std(reference["alcohol"]))
    current["alcohol"] = [v + spread for v in current["alcohol"]]
    result = drift.compare(reference, current, drift.DriftPolicy(on_drift="fail"))
    assert result.data["drifted"] == ["alcohol"]
    assert result.status is Status.FAIL
    failed = [c.metric for c in result.conditions if c.status is Status.FAIL]
    assert failed == ["alcohol"]
    # report (the default) and retrain: the same finding, and the gate passes
    for on_drift in ("report", "retrain"):
        reported = drift.compare(reference, current, drift.DriftPolicy(on_drift=on_drift))
        assert reported.status is Status.PASS and reported.data["drifted"] == ["alcohol"]


def test_p_values_equal_scipys_and_corrections_are_right():
    reference, current = wine_halves()
    current["alcohol"] = [v + 0.4 for v in current["alcohol"]]
    result = drift.compare(reference, current, drift.DriftPolicy(correction="bonferroni"))
    features = result.data["features"]
    for name in ("alcohol", "malic_acid", "proline"):
        expected = stats.ks_2samp(reference[name], current[name])
        got = finding(result, name)
        assert got["test"] == "ks"
        assert got["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
        assert got["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    categories = sorted(set(reference["cultivar"]) | set(current["cultivar"]))
    table = [[column.count(c) for c in categories] for column in (reference["cultivar"], current["cultivar"])]
    chi2, p_value, _dof, _expected = stats.chi2_contingency(table, correction=False)
    got = finding(result, "cultivar")
    assert got["test"] == "chi2"
    assert got["statistic"] == pytest.approx(chi2) and got["p_value"] == pytest.approx(p_value)
    count = len(features)
    for item in features:
        assert item["p_adjusted"] == pytest.approx(min(1.0, item["p_value"] * count))


def test_benjamini_hochberg_matches_the_textbook_example():
    # Benjamini & Hochberg (1995)'s step-up rule on a small set, adjusted by hand.
    p_values = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005 (x4/1=0.02), 0.01 (x4/2=0.02), 0.03 (x4/3=0.04), 0.04 (x4/4=0.04)
    assert drift.benjamini_hochberg(p_values) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert drift.bonferroni(p_values) == pytest.approx([0.04, 0.16, 0.12, 0.02])
    assert drift.benjamini_hochberg([0.5, 0.9]) == pytest.approx([0.9, 0.9])


def test_new_category_fails_or_is_reported():
    reference, current = wine_halves()
    current["cultivar"][:5] = ["class_9"] * 5
    failed = drift.compare(reference, current, drift.DriftPolicy())
    assert failed.status is Status.FAIL
    rule = next(c for c in failed.conditions if c.metric == "categories:cultivar")
    assert rule.actual == "class_9" and rule.status is Status.FAIL
    assert finding(failed, "cultivar")["new_categories"] == ["class_9"]
    reported = drift.compare(reference, current, drift.DriftPolicy(new_categories="report"))
    assert reported.status is Status.PASS
    assert any(c.metric == "categories:cultivar" and c.status is Status.PASS for c in reported.conditions)


def test_dropped_column_and_changed_type_are_schema_breaks_whatever_on_drift_says():
    reference, current = wine_halves()
    del current["magnesium"]
    current["hue"] = ["high" if v > 1 else "low" for v in current["hue"]]
    result = drift.compare(reference, current, drift.DriftPolicy(on_drift="report"))
    assert result.status is Status.FAIL
    assert result.data["schema_breaks"] == ["hue", "magnesium"]
    by_metric = {c.metric: c for c in result.conditions}
    assert by_metric["schema:magnesium"].actual == "missing"
    assert (by_metric["schema:hue"].threshold, by_metric["schema:hue"].actual) == ("numeric", "categorical")


def test_declared_types_include_exclude():
    reference, current = wine_halves()
    policy = drift.DriftPolicy(columns={"proline": "categorical"}, include=("proline", "alcohol", "hue"),
                               exclude=("hue",))
    result = drift.compare(reference, current, policy)
    assert [f["feature"] for f in result.data["features"]] == ["proline", "alcohol"]
    assert finding(result, "proline")["test"] == "chi2"


def test_csv_round_trip_and_reports(tmp_path):
    reference, current = wine_halves()
    current["alcohol"] = [v + 2 for v in current["alcohol"]]
    result = drift.evaluate(write_csv(reference, tmp_path / "ref.csv"), write_csv(current, tmp_path / "cur.csv"),
                            drift.DriftPolicy())
    assert result.data["drifted"] == ["alcohol"]
    report = json.loads(render_json(result))
    assert report["data"]["features"][0]["p_adjusted"] is not None
    assert "alcohol" in render_markdown(result) and 'name="alcohol"' in render_junit(result)
    tags = drift.tags_from_report(render_json(result))
    assert tags["pipegen.drift.drifted_features"] == "alcohol"
    assert tags["pipegen.drift.data_drift"] == "true"


def test_unreadable_data_is_an_evaluation_error(tmp_path):
    with pytest.raises(drift.EvaluationError):
        drift.read_table(tmp_path / "missing.csv")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(drift.EvaluationError, match="ragged.csv:3"):
        drift.read_table(ragged)


def test_parquet_when_pyarrow_is_installed(tmp_path):
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet  # pylint: disable=import-outside-toplevel

    reference, current = wine_halves()
    pyarrow.parquet.write_table(pyarrow.table(reference), tmp_path / "ref.parquet")
    result = drift.evaluate(tmp_path / "ref.parquet", write_csv(current, tmp_path / "cur.csv"), drift.DriftPolicy())
    assert result.status is Status.PASS and len(result.data["features"]) == 14


SCENARIOS = {
    "no change": lambda current: None,
    "mean shift in alcohol": lambda current: current.update(alcohol=[v + 0.8 for v in current["alcohol"]]),
    "flavanoids scaled": lambda current: current.update(flavanoids=[v * 1.6 for v in current["flavanoids"]]),
    "cultivar mix moved": lambda current: current.update(
        cultivar=["class_0" if i % 2 else v for i, v in enumerate(current["cultivar"])]),
    "a new cultivar": lambda current: current["cultivar"].__setitem__(slice(0, 5), ["class_9"] * 5),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_decisions_agree_with_evidently(scenario):
    """An established drift library on the same data in the same test: Evidently's per-column
    drift (its `ks` and `chisquare` methods) with the per-column threshold alpha/m, which is
    exactly the Bonferroni rule. The KS p-values are the same numbers; Evidently's chi-squared
    is the goodness-of-fit variant (expected counts from the reference), so its p-values differ
    from Pearson's homogeneity test while the decisions agree. A category the reference never had
    is infinitely surprising there (p = 0); pipegen flags that column too, as a schema break
    (`new_categories: fail`, the default) rather than through its p-value."""
    # pylint: disable=import-outside-toplevel  # Evidently takes seconds to import: this test only
    import evidently
    import pandas
    from evidently.metrics import ValueDrift

    reference, current = wine_halves()
    SCENARIOS[scenario](current)
    policy = drift.DriftPolicy(correction="bonferroni")
    result = drift.compare(reference, current, policy)
    features = result.data["features"]
    definition = evidently.DataDefinition(
        numerical_columns=[f["feature"] for f in features if f["kind"] == drift.NUMERIC],
        categorical_columns=[f["feature"] for f in features if f["kind"] == drift.CATEGORICAL])
    per_column = policy.alpha / len(features)
    report = evidently.Report([ValueDrift(column=f["feature"], method="ks" if f["test"] == "ks" else "chisquare",
                                          threshold=per_column) for f in features])
    with warnings.catch_warnings():  # Evidently's chisquare divides by a zero expected count for a new category
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = report.run(evidently.Dataset.from_pandas(pandas.DataFrame(current), data_definition=definition),
                              evidently.Dataset.from_pandas(pandas.DataFrame(reference), data_definition=definition))
    theirs = {metric["config"]["column"]: float(metric["value"]) for metric in snapshot.dict()["metrics"]}
    assert set(theirs) == {f["feature"] for f in features}
    for item in features:
        name = item["feature"]
        if item["test"] == "ks":
            assert item["p_value"] == pytest.approx(theirs[name], rel=1e-9, abs=1e-300), name
        flagged = item["verdict"] == "drift" or bool(item["new_categories"])
        assert (theirs[name] < per_column) == flagged, (name, item, theirs[name])
    expected = {"no change": ([], "pass"), "mean shift in alcohol": (["alcohol"], "pass"),
                "flavanoids scaled": (["flavanoids"], "pass"), "cultivar mix moved": (["cultivar"], "pass"),
                "a new cultivar": ([], "fail")}[scenario]
    assert (result.data["drifted"], result.status.value) == expected


def test_benjamini_hochberg_equals_statsmodels():
    """The FDR correction against statsmodels' fdr_bh on the gate's own raw p-values."""
    from statsmodels.stats import multitest  # pylint: disable=import-outside-toplevel
    reference, current = wine_halves()
    current["alcohol"] = [v + 0.5 for v in current["alcohol"]]
    current["hue"] = [v * 1.1 for v in current["hue"]]
    result = drift.compare(reference, current, drift.DriftPolicy(correction="fdr_bh"))
    raw = [f["p_value"] for f in result.data["features"]]
    rejected, adjusted, _sidak, _bonf = multitest.multipletests(raw, alpha=0.05, method="fdr_bh")
    assert [f["p_adjusted"] for f in result.data["features"]] == pytest.approx(list(adjusted), rel=1e-12)
    assert [f["verdict"] == "drift" for f in result.data["features"]] == list(rejected)


def test_an_id_column_with_as_many_categories_as_rows_is_counted_exactly(tmp_path):
    """Ids and timestamps: tens of thousands of categories, spelled as written (a number-like id
    as a number), tested against SciPy on a table counted here with a Counter."""
    from collections import Counter  # pylint: disable=import-outside-toplevel

    rng = np.random.default_rng(SEED)
    reference = {"customer": [f"c-{v}" for v in rng.integers(0, 30_000, 40_000)],
                 "order": [str(v) if v % 3 else f"{v}.0" for v in rng.integers(0, 20_000, 40_000)]}
    current = {"customer": [f"c-{v}" for v in rng.integers(0, 30_000, 40_000)],
               "order": [str(v) for v in rng.integers(0, 20_000, 40_000)]}
    policy = drift.DriftPolicy(columns={"order": "categorical"}, new_categories="report")
    result = drift.evaluate(write_csv(reference, tmp_path / "ref.csv"), write_csv(current, tmp_path / "cur.csv"),
                            policy)
    for name in ("customer", "order"):
        ref, cur = Counter(map(drift.category, reference[name])), Counter(map(drift.category, current[name]))
        categories = sorted(set(ref) | set(cur))
        statistic, p_value, _dof, _expected = stats.chi2_contingency(
            [[ref[c] for c in categories], [cur[c] for c in categories]], correction=False)
        found = finding(result, name)
        assert (found["test"], found["reference_count"]) == ("chi2", 40_000)
        assert found["statistic"] == pytest.approx(statistic, rel=1e-9)
        assert found["p_value"] == pytest.approx(p_value, rel=1e-9, abs=1e-300)
        assert found["new_categories"] == sorted(set(cur) - set(ref))
