"""Synthetic customer data with a known churn signal, reproducible from a seed."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("tenure_months", "monthly_charges", "support_calls", "late_payments", "contract_months")
# The true (standardised) effect of each feature on the log-odds of churning.
TRUE_EFFECTS = np.array([-1.2, 0.6, 0.9, 0.8, -1.0])
BASE_LOG_ODDS = -0.8


@dataclass(frozen=True)
class Dataset:
    """Customer features (one row each, columns as FEATURES) and whether each churned."""

    features: np.ndarray  # shape (n, len(FEATURES))
    churned: np.ndarray  # shape (n,), 0 or 1

    def __len__(self) -> int:
        return len(self.churned)


def make_dataset(n_customers: int = 2000, seed: int = 7) -> Dataset:
    """Customers whose churn follows TRUE_EFFECTS plus noise; same seed, same data."""
    if n_customers < 10:
        raise ValueError("n_customers must be at least 10")
    rng = np.random.default_rng(seed)
    raw = np.column_stack([
        rng.integers(1, 72, n_customers),  # tenure_months
        rng.normal(70, 25, n_customers).clip(15, 150),  # monthly_charges
        rng.poisson(1.5, n_customers),  # support_calls
        rng.poisson(0.7, n_customers),  # late_payments
        rng.choice([1, 12, 24], n_customers),  # contract_months
    ]).astype(float)
    standardised = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    log_odds = BASE_LOG_ODDS + standardised @ TRUE_EFFECTS
    churned = (rng.random(n_customers) < 1 / (1 + np.exp(-log_odds))).astype(int)
    return Dataset(raw, churned)


def flip_labels(churned: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy with `fraction` of the labels flipped: deliberately bad training data."""
    rng = np.random.default_rng(seed)
    flipped = churned.copy()
    chosen = rng.random(len(churned)) < fraction
    flipped[chosen] = 1 - flipped[chosen]
    return flipped


LABEL = "churned"


def write_csv(dataset: Dataset, path: Path) -> Path:
    """The data set as CSV (FEATURES then the label): the snapshot a training run logs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURES, LABEL])
        for row, label in zip(dataset.features, dataset.churned):
            writer.writerow([*(format(value, "g") for value in row), int(label)])
    return path


def read_csv(path: Path) -> Dataset:
    """A data set written by `write_csv` (or by the data team, same columns)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    features = np.array([[float(row[name]) for name in FEATURES] for row in rows])
    return Dataset(features, np.array([int(row[LABEL]) for row in rows]))


if __name__ == "__main__":
    # `python -m churn.data data/customers.csv`: (re)write the committed data set.
    import sys

    print(write_csv(make_dataset(), Path(sys.argv[1] if len(sys.argv) > 1 else "data/customers.csv")))
