"""Numbers checked before a gate compares them. A figure read from a report that is not
finite, or outside what it means (a rate above 1, a score above 10, more covered than
valid), cannot be judged: the gate fails closed (EvaluationError, exit 3) instead of
letting `nan >= 80` or a 750 % rate pass. A threshold like that, from a flag, a profile
or the descriptor, is bad usage (UsageError, exit 2). Every parser calls these."""
from __future__ import annotations

import math
import re

from pipegen.errors import EvaluationError, UsageError, shorten

_COUNT = re.compile(r"[0-9]{1,18}")  # ASCII digits only; 18 keeps int() cheap and exact


def number(raw: str, what: str) -> float:
    """A finite float from report text."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise EvaluationError(f"{what}={shorten(repr(raw))} is not a number") from None
    return finite(value, what)


def finite(value: float, what: str) -> float:
    """`value` when it is a finite number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvaluationError(f"{what} is {shorten(repr(value))}, not a number")
    try:
        value = float(value)
    except OverflowError:
        raise EvaluationError(f"{what} is too large to be a measurement") from None
    if not math.isfinite(value):
        raise EvaluationError(f"{what} is {value}, not a finite number")
    return value


def within(value: float, low: float, high: float, what: str) -> float:
    """A finite `value` in [low, high]."""
    value = finite(value, what)
    if not low <= value <= high:
        raise EvaluationError(f"{what} is {value:g}, outside {low:g}..{high:g}")
    return value


def rate(raw: str, what: str) -> float:
    """A rate between 0 and 1 (Cobertura's line-rate, branch-rate)."""
    return within(number(raw, what), 0.0, 1.0, what)


def count(raw: str | int, what: str) -> int:
    """A whole number >= 0, written with ASCII digits."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise EvaluationError(f"{what} is {shorten(repr(raw))}, not a whole number")
    if not _COUNT.fullmatch(text):
        raise EvaluationError(f"{what}={shorten(repr(raw))} is not a whole number >= 0")
    return int(text)


def part_of_whole(part: int | None, whole: int | None, what: str) -> None:
    """Covered can never exceed valid."""
    if part is not None and whole is not None and part > whole:
        raise EvaluationError(f"{what}: {part} covered is more than the {whole} measured")


def threshold(value: float | None, low: float, high: float, what: str) -> float | None:
    """A threshold in [low, high] and finite; None (not set) passes through."""
    if value is None:
        return None
    try:
        within(value, low, high, what)
    except EvaluationError:
        raise UsageError(f"{what} must be a finite number in {low:g}..{high:g}, not {shorten(repr(value))}") from None
    return value
