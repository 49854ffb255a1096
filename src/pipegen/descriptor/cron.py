"""Five-field cron as GitHub, GitLab and Azure accept it (and Jenkins' `cron` trigger):
minute hour day-of-month month day-of-week, with *, lists, ranges and steps."""
from __future__ import annotations

import re

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_NAMES = {
    3: {m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)},
    4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_PART = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def _number(token: str, index: int) -> int:
    names = _NAMES.get(index, {})
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ValueError(f"{token!r} is not a number")
    return int(token)


def cron_error(expression: str) -> str | None:
    """None when valid, else what is wrong, naming the field."""
    fields = expression.split()
    if len(fields) != 5:
        return f"cron {expression!r} must have 5 fields (minute hour day-of-month month day-of-week), has {len(fields)}"
    for index, (text, (name, low, high)) in enumerate(zip(fields, _FIELDS)):
        for part in text.lower().split(","):
            match = _PART.match(part)
            if not match:
                return f"cron field {name} {text!r} is not valid"
            base, step = match.groups()
            if step is not None and int(step) == 0:
                return f"cron field {name} {text!r}: a step must be at least 1"
            if base == "*":
                continue
            try:
                bounds = [_number(token, index) for token in base.split("-")]
            except ValueError as exc:
                return f"cron field {name} {text!r}: {exc}"
            if any(not low <= value <= high for value in bounds):
                return f"cron field {name} {text!r}: values must be {low}-{high}"
            if len(bounds) == 2 and bounds[0] > bounds[1]:
                return f"cron field {name} {text!r}: range runs backwards"
    return None
