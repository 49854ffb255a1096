"""The scoring service's answer: both scores for one customer event."""
from features import scaled


def answer(idle_months: float, amount: float, usual: float) -> dict:
    return {"churn": scaled(idle_months, 0, 12), "fraud": scaled(amount / usual, 1, 10)}
