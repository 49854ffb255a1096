"""The setup checklist: what each target needs configured outside the generated files."""
from __future__ import annotations

from pipegen.plan import Plan
from pipegen.platforms import get_backend
from pipegen.platforms.base import ChecklistItem

TARGET_TITLES = {"github": "GitHub Actions", "gitlab": "GitLab CI", "azure": "Azure Pipelines", "jenkins": "Jenkins"}


def checklist(plan: Plan, targets: tuple[str, ...]) -> dict[str, list[ChecklistItem]]:
    return {target: get_backend(target).checklist(plan) for target in targets}


def render_text(items: dict[str, list[ChecklistItem]]) -> str:
    lines = ["Set-up checklist (configured outside the generated files):"]
    for target, entries in items.items():
        lines.append(f"  {TARGET_TITLES[target]}:")
        lines.extend(f"    [ ] {item.kind} {item.name}: {item.detail}" for item in entries)
        if not entries:
            lines.append("    nothing to configure")
    return "\n".join(lines) + "\n"


def render_markdown(items: dict[str, list[ChecklistItem]], project: str) -> str:
    lines = [f"# pipegen set-up checklist: {project}", "",
             "Configure these outside the generated files before the first run.", ""]
    for target, entries in items.items():
        lines += [f"## {TARGET_TITLES[target]}", ""]
        lines += [f"- [ ] **{item.kind}** `{item.name}`: {item.detail}" for item in entries] \
            or ["Nothing to configure."]
        lines.append("")
    return "\n".join(lines)
