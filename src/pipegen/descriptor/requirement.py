"""The pip requirement the generated jobs install pipegen from.

The distribution is `pipegen-ci`: the PyPI name `pipegen` belongs to an unrelated project,
so a requirement that names anything else would run a stranger's code in jobs that hold
the pipeline's secrets. `packaging` is imported only for a requirement the user wrote;
the default needs no parsing (keeps `generate` light).
"""
from __future__ import annotations

from pipegen import __version__

DISTRIBUTION = "pipegen-ci"


def requirement_error(text: str) -> str | None:
    """Why `text` cannot be pipegen's requirement, or None when it can."""
    from packaging.requirements import InvalidRequirement, Requirement  # pylint: disable=import-outside-toplevel
    from packaging.utils import canonicalize_name  # pylint: disable=import-outside-toplevel

    try:
        parsed = Requirement(text)
    except InvalidRequirement as exc:
        return f"not a pip requirement ({str(exc).splitlines()[0]})"
    if canonicalize_name(parsed.name) != DISTRIBUTION:
        return (f"names the distribution {parsed.name!r}; pipegen's distribution is {DISTRIBUTION!r} "
                "(the PyPI name 'pipegen' is an unrelated project), e.g. 'pipegen-ci==0.2.0' or "
                "'pipegen-ci @ file:///wheels/pipegen_ci-0.2.0-py3-none-any.whl'")
    if parsed.marker is not None:
        return "environment markers would skip installing pipegen on some runners; remove the ';' part"
    return None


def pipegen_requirement(requirement: str | None, extras: tuple[str, ...] = ()) -> str:
    """The requirement a job installs: the descriptor's (validated) or `pipegen-ci==<this
    version>`, with `extras` (e.g. mlflow) added to whatever extras it already names."""
    if requirement is None:
        suffix = f"[{','.join(extras)}]" if extras else ""
        return f"{DISTRIBUTION}{suffix}=={__version__}"
    if not extras:
        return requirement
    from packaging.requirements import Requirement  # pylint: disable=import-outside-toplevel

    parsed = Requirement(requirement)
    parsed.extras = set(parsed.extras) | set(extras)
    return str(parsed)
