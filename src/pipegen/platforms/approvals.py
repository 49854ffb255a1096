"""The approvals a pipeline file relies on, said in the file itself.

GitHub and Azure keep approvals in the platform's settings (environment reviewers, an
Approvals check): the YAML only names the environment, so a file whose PROD lost its approval
would read exactly like one that has it. The backends therefore write, near the top, which
environments must ask for an approval and who approves; `pipegen diff` and the parity check
read it back (`declared`). The body hash makes it as trustworthy as the rest of the file.
"""
from __future__ import annotations

import re

from pipegen.plan import Plan

NONE_LINE = "Approvals: none (no environment of this pipeline asks for one)"
TITLE_LINE = "Approvals this file relies on (kept in the platform's settings, see the setup checklist):"
_ENTRY = re.compile(r"^[#/]+ {3}environment (\S+): approval by (.*)$", re.MULTILINE)
_ENTRY_WORDS = " " * 3 + "environment "  # in every line _ENTRY matches
_PRESENT = re.compile(r"^[#/]+ (?:Approvals: none|Approvals this file relies on)", re.MULTILINE)
ANYONE = "anyone the environment allows"


def approvers_of(plan: Plan) -> tuple[tuple[str, str], ...]:
    """(environment, approvers) for every environment of the plan that asks for an approval."""
    return tuple((name, ", ".join(approval.approvers) or ANYONE) for name, approval in plan.environments
                 if approval is not None)


def comment_block(plan: Plan, comment: str = "#") -> str:
    found = approvers_of(plan)
    if not found:
        return f"{comment} {NONE_LINE}\n"
    lines = [f"{comment} {TITLE_LINE}"]
    lines += [f"{comment}   environment {name}: approval by {' '.join(who.split())}" for name, who in found]
    return "\n".join(lines) + "\n"


def declared(text: str) -> dict[str, str] | None:
    """environment -> approvers as the file declares them; None for a file that does not say
    (written before pipegen declared approvals)."""
    if not _PRESENT.search(text):
        return None
    found = {}
    at = text.find(_ENTRY_WORDS)  # a plain search, then the pattern on that line: far quicker on a large file
    while at >= 0:
        match = _ENTRY.match(text, text.rfind("\n", 0, at) + 1)
        if match:
            found[match.group(1)] = match.group(2).strip()
        at = text.find(_ENTRY_WORDS, max(at + 1, match.end() if match else 0))
    return found
