"""Unit: the generated data and the classifier, no MLflow."""
import numpy as np
import pytest

from churn.data import FEATURES, flip_labels, make_dataset, read_csv, write_csv
from churn.model import train


def test_same_seed_same_data():
    first, second = make_dataset(300, seed=3), make_dataset(300, seed=3)
    assert np.array_equal(first.features, second.features)
    assert np.array_equal(first.churned, second.churned)
    assert first.features.shape == (300, len(FEATURES))


def test_churn_rate_is_realistic():
    rate = make_dataset(2000).churned.mean()
    assert 0.15 < rate < 0.6


def test_too_few_customers_is_an_error():
    with pytest.raises(ValueError, match="at least 10"):
        make_dataset(5)


def test_flip_labels_flips_about_the_requested_fraction():
    labels = np.zeros(10_000, dtype=int)
    assert 0.2 < flip_labels(labels, 0.25, seed=1).mean() < 0.3
    assert labels.sum() == 0  # the input is left alone


def test_the_model_learns_the_signal_and_the_degraded_one_does_not():
    dataset = make_dataset(2000)
    good, degraded = train(dataset), train(dataset, degraded=True)
    assert good.metrics["auc"] > 0.8
    assert degraded.metrics["auc"] < good.metrics["auc"] - 0.1
    assert degraded.metrics["log_loss"] > good.metrics["log_loss"]
    assert degraded.features == ("monthly_charges",)


def test_csv_round_trip(tmp_path):
    """The committed data set and the logged snapshot are this CSV: same numbers back."""
    dataset = make_dataset(50, seed=5)
    again = read_csv(write_csv(dataset, tmp_path / "customers.csv"))
    assert (again.churned == dataset.churned).all()
    assert abs(again.features - dataset.features).max() < 1e-3 * abs(dataset.features).max()
