"""Fraud score from how far an amount is above the customer's usual one."""
from features import scaled


def fraud_score(amount: float, usual: float) -> float:
    return scaled(amount / usual, 1, 10)
