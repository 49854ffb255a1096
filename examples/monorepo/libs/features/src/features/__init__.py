"""Feature helpers shared by the models and the scoring service."""


def scaled(value: float, low: float, high: float) -> float:
    """`value` mapped onto 0..1 between `low` and `high`, clipped at both ends."""
    if high <= low:
        raise ValueError("high must be greater than low")
    return min(1.0, max(0.0, (value - low) / (high - low)))
