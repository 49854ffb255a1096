"""The one result doctor returns per platform, and its renderings: a table for the log,
JSON for tools and Markdown for a CI summary (the gates' conventions, the gates' exit codes)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum

from pipegen.errors import EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, printable


class Status(str, Enum):
    """How a setting compares with what the plan's checklist asks for."""

    OK = "ok"
    MISSING = "missing"  # not there at all
    WEAKER = "weaker"  # there, but less strict than the plan (no required reviewers, not masked, ...)
    UNCHECKED = "unchecked"  # the API cannot tell (a group of an external security realm): check by hand


FAILING = frozenset({Status.MISSING, Status.WEAKER})


@dataclass(frozen=True)
class Finding:
    """One checklist item (or one part of it) as the platform's API reports it."""

    item: str  # "secret SONAR_TOKEN", "environment prod: required reviewers"
    expected: str
    found: str
    status: Status
    fix: str = ""  # one line: what to change, where


@dataclass
class PlatformReport:
    """Every finding for one platform, or why it could not be evaluated."""

    platform: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # set when the platform could not be asked (no token, 403, network)
    unchecked_items: int = 0  # checklist items no API can confirm (schedules, agents, plugins)

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_UNAVAILABLE
        return EXIT_FAILED if any(finding.status in FAILING for finding in self.findings) else EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "OK", EXIT_FAILED: "FAIL", EXIT_UNAVAILABLE: "ERROR"}[self.exit_code]


def exit_code(reports: list[PlatformReport]) -> int:
    """3 when any platform could not be evaluated, else 1 when anything is missing or weaker, else 0."""
    codes = {report.exit_code for report in reports}
    return EXIT_UNAVAILABLE if EXIT_UNAVAILABLE in codes else max(codes, default=EXIT_OK)


HEADER = ("item", "expected", "found", "status", "fix")


def _rows(report: PlatformReport) -> list[tuple[str, ...]]:
    return [(f.item, f.expected, f.found, f.status.value, f.fix) for f in report.findings]


def _note(report: PlatformReport) -> str:
    return (f"{report.unchecked_items} other item(s) of the set-up checklist (schedules, agents, ...) no API "
            "confirms: check them by hand" if report.unchecked_items else "")


def render_table(reports: list[PlatformReport]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"doctor {report.platform}: {report.verdict}")
        if report.error:
            lines.append(f"  could not evaluate: {printable(report.error)}")
        rows = [tuple(printable(cell) for cell in row) for row in _rows(report)]
        if rows:
            widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
            fmt = "  " + "  ".join(f"{{:<{width}}}" for width in widths)
            lines.append(fmt.format(*HEADER).rstrip())
            lines.append("  " + "  ".join("-" * width for width in widths))
            lines.extend(fmt.format(*row).rstrip() for row in rows)
        if _note(report):
            lines.append(f"  note: {_note(report)}")
    return "\n".join(lines) + "\n"


def render_json(reports: list[PlatformReport]) -> str:
    platforms = []
    for report in reports:
        data = asdict(report)
        data["verdict"], data["exit_code"] = report.verdict.lower(), report.exit_code
        for finding in data["findings"]:
            finding["status"] = finding["status"].value
        platforms.append(data)
    return json.dumps({"exit_code": exit_code(reports), "platforms": platforms}, indent=2, sort_keys=True) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(reports: list[PlatformReport]) -> str:
    icons = {"OK": "✅", "FAIL": "❌", "ERROR": "⚠️"}
    lines: list[str] = []
    for report in reports:
        lines += [f"### {icons[report.verdict]} pipegen doctor `{report.platform}`: {report.verdict}", ""]
        if report.error:
            lines += [f"Could not evaluate: {_md_cell(report.error)}", ""]
        if report.findings:
            lines += ["| " + " | ".join(HEADER) + " |", "|---|---|---|---|---|"]
            lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in _rows(report)]
            lines.append("")
        if _note(report):
            lines += [f"- {_note(report)}", ""]
    return "\n".join(lines).rstrip() + "\n"
