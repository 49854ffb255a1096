"""`pipegen diff` output: changes found on several platforms are said once, with the
platforms named where they differ; text for the log, Markdown for a PR comment or CI
summary, JSON for tools."""
from __future__ import annotations

import json
from dataclasses import dataclass

from pipegen.diff.changes import Change


@dataclass(frozen=True)
class Finding:
    change: Change
    platforms: tuple[str, ...]


def merge(per_platform: dict[str, list[Change]], platforms: tuple[str, ...]) -> list[Finding]:
    """One finding per distinct change, listing the platforms it was found on, risky first."""
    seen: dict[Change, list[str]] = {}
    for platform in platforms:
        for change in per_platform.get(platform, []):
            seen.setdefault(change, [])
            if platform not in seen[change]:
                seen[change].append(platform)
    ordered = sorted(seen.items(), key=lambda item: not item[0].risky)  # stable: found order within each
    return [Finding(change, tuple(found)) for change, found in ordered]


def _where(finding: Finding, platforms: tuple[str, ...]) -> str:
    return "" if set(finding.platforms) == set(platforms) else f" [{', '.join(finding.platforms)}]"


def text(findings: list[Finding], platforms: tuple[str, ...], title: str) -> str:
    lines = [title]
    if not findings:
        lines.append("  no change in what the pipelines do")
    for finding in findings:
        mark = "RISKY " if finding.change.risky else "      "
        lines.append(f"  {mark}{finding.change.text}{_where(finding, platforms)}")
    return "\n".join(lines) + "\n"


def markdown(findings: list[Finding], platforms: tuple[str, ...], title: str) -> str:
    risky = sum(finding.change.risky for finding in findings)
    icon = "⚠️" if risky else "✅"
    lines = [f"### {icon} pipegen diff: {len(findings)} change(s), {risky} risky", "", title, ""]
    if not findings:
        lines.append("No change in what the pipelines do.")
    for finding in findings:
        flag = "**risky**: " if finding.change.risky else ""
        said = finding.change.text.replace("|", "\\|")
        lines.append(f"- {flag}{said}{_where(finding, platforms)}")
    return "\n".join(lines).rstrip() + "\n"


def as_json(findings: list[Finding], base: str, head: str) -> str:
    return json.dumps({"base": base, "head": head, "risky": any(f.change.risky for f in findings),
                       "changes": [{"text": f.change.text, "risky": f.change.risky, "kind": f.change.kind,
                                    "platforms": list(f.platforms)} for f in findings]}, indent=2) + "\n"
