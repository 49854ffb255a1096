"""The drift gate on scikit-learn's bundled wine data set, with known shifts injected:
verdicts, p-values equal to SciPy's, the corrections, and schema breaks."""
from __future__ import annotations

import csv
import json
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


def test_decisions_agree_with_frouros():
    """An established drift library on the same data: frouros' KS and chi-squared tests
    give the same raw p-values, so the same features drift. frouros pins numpy<2.2 and
    scipy<1.15 (and pulls in matplotlib), so it is not in the test extra; this runs where
    it is installed (see README, "Data drift")."""
    pytest.importorskip("frouros")
    from frouros.detectors.data_drift import ChiSquareTest, KSTest  # pylint: disable=import-outside-toplevel

    reference, current = wine_halves()
    current["alcohol"] = [v + 0.8 for v in current["alcohol"]]
    current["flavanoids"] = [v * 1.6 for v in current["flavanoids"]]
    result = drift.compare(reference, current, drift.DriftPolicy(correction="bonferroni"))
    count = len(result.data["features"])
    for item in result.data["features"]:
        name = item["feature"]
        detector = KSTest() if item["test"] == "ks" else ChiSquareTest()
        detector.fit(X=np.array(reference[name]))
        outcome, _ = detector.compare(X=np.array(current[name]))
        assert item["p_value"] == pytest.approx(outcome.p_value, rel=1e-6, abs=1e-300), name
        assert (min(1.0, outcome.p_value * count) < 0.05) == (item["verdict"] == "drift"), name
    assert result.data["drifted"] == ["alcohol", "flavanoids"]
