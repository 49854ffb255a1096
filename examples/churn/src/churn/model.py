"""The classifier and its evaluation; no MLflow here, so it is testable on its own."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from churn.data import FEATURES, Dataset, flip_labels

# The degraded model sees one weak feature and a quarter of its labels flipped:
# a realistic "someone broke the feature pipeline" candidate the gate must stop.
DEGRADED_FEATURES = ("monthly_charges",)
DEGRADED_LABEL_NOISE = 0.25


@dataclass(frozen=True)
class TrainingResult:
    """A fitted pipeline, the features it uses, and its held-out metrics."""

    pipeline: Pipeline
    features: tuple[str, ...]
    metrics: dict[str, float]


def feature_columns(features: tuple[str, ...]) -> list[int]:
    """Column indexes of `features` in the data set."""
    return [FEATURES.index(name) for name in features]


def train(dataset: Dataset, *, degraded: bool = False, regularisation: float = 1.0,
          seed: int = 7) -> TrainingResult:
    """Fits on 75 % of the data, evaluates on the held-out 25 % (auc, log_loss)."""
    features = DEGRADED_FEATURES if degraded else FEATURES
    columns = feature_columns(features)
    x_train, x_test, y_train, y_test = train_test_split(
        dataset.features[:, columns], dataset.churned, test_size=0.25, random_state=seed,
        stratify=dataset.churned)
    if degraded:
        y_train = flip_labels(y_train, DEGRADED_LABEL_NOISE, seed)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=1000))
    pipeline.fit(x_train, y_train)
    return TrainingResult(pipeline, features, evaluate(pipeline, x_test, y_test))


def evaluate(pipeline: Pipeline, features: np.ndarray, churned: np.ndarray) -> dict[str, float]:
    """The metrics the model gate compares: auc (higher is better), log_loss (lower is better)."""
    probabilities = pipeline.predict_proba(features)[:, 1]
    return {"auc": float(roc_auc_score(churned, probabilities)),
            "log_loss": float(log_loss(churned, probabilities))}
