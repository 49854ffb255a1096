"""Churn risk from months without activity."""
from features import scaled


def churn_risk(idle_months: float) -> float:
    return scaled(idle_months, 0, 12)
