"""What each platform does differently from the plan because the platform forces it, gathered
from each platform's own list. The parity check (`pipegen.platforms.parity`) applies these rules
when it compares a file read back with the plan, and the documentation's table is rendered from
the same list (`markdown_table`; a test keeps the two equal)."""
from __future__ import annotations

from pipegen.platforms.azure.differences import DIFFERENCES as AZURE
from pipegen.platforms.difference import (
    GATE_OUTPUTS_IN_REPORT,
    IGNORED,
    OMITTED_AFTER_APPROVAL,
    SAME_STAGE_SUPERSET,
    SUBSET,
    SUPERSET,
    Difference,
)
from pipegen.platforms.github.differences import DIFFERENCES as GITHUB
from pipegen.platforms.gitlab.differences import DIFFERENCES as GITLAB
from pipegen.platforms.jenkins.differences import DIFFERENCES as JENKINS

__all__ = ["DIFFERENCES", "GATE_OUTPUTS_IN_REPORT", "IGNORED", "OMITTED_AFTER_APPROVAL", "SAME_STAGE_SUPERSET",
           "SUBSET", "SUPERSET", "Difference", "markdown_table", "rule"]

DIFFERENCES: tuple[Difference, ...] = (*GITHUB, *GITLAB, *AZURE, *JENKINS)


def rule(platform: str, aspect: str) -> str | None:
    return next((item.rule for item in DIFFERENCES if item.platform == platform and item.aspect == aspect), None)


def markdown_table() -> str:
    lines = ["| platform | aspect | what differs |", "|---|---|---|"]
    lines += [f"| {item.platform} | {item.aspect} | {item.what} |" for item in DIFFERENCES]
    return "\n".join(lines) + "\n"
