"""The one result every gate returns, and its renderings: a table for the log, JSON,
JUnit XML (one testcase per condition, so each CI's test tab shows it) and Markdown."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from xml.etree import ElementTree as ET

from pipegen.errors import EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, printable


class Status(str, Enum):
    """A condition's outcome; a gate's is the worst of its conditions'."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # could not be evaluated: fails closed
    SKIP = "skip"  # not applicable (for example no changed lines)
    # Not better than the baseline, but no rule broken (the model gate): nothing fails, and
    # nothing is promoted. DESIGN §4 "Verdicts: pass/keep/fail".
    KEEP = "keep"
    # Flagged for the reviewer, failing nothing: a Terraform plan that destroys or replaces a
    # resource when the descriptor lets it (terraform.fail_on_destroy false).
    WARN = "warn"


class Mode(str, Enum):
    """How a gate's outcome reaches the build: enforce fails it, dry-run only reports."""

    ENFORCE = "enforce"
    DRY_RUN = "dry-run"
    OFF = "off"


Value = float | int | str | None


@dataclass(frozen=True)
class Condition:
    """One checked rule: `actual` must be `comparator` `threshold`."""

    metric: str
    comparator: str  # ">=", "<=", ">", "<", "==", or a word such as "is"
    threshold: Value
    actual: Value
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class Link:
    """Where to look next (a dashboard, a report)."""

    label: str
    url: str


@dataclass
class GateResult:
    """Everything a gate found; every rendering and the exit code come from it."""

    gate: str
    conditions: list[Condition] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    error: str | None = None  # set when the gate could not evaluate at all
    notes: list[str] = field(default_factory=list)
    # Gate-specific structured findings for --report-json (e.g. drift's per-feature tests).
    data: dict = field(default_factory=dict)

    @property
    def status(self) -> Status:
        """ERROR if anything could not be evaluated, else FAIL if any condition failed."""
        if self.error or any(c.status is Status.ERROR for c in self.conditions):
            return Status.ERROR
        if any(c.status is Status.FAIL for c in self.conditions):
            return Status.FAIL
        if any(c.status is Status.KEEP for c in self.conditions):
            return Status.KEEP
        if any(c.status is Status.WARN for c in self.conditions):
            return Status.WARN
        return Status.PASS

    @property
    def passed(self) -> bool:
        """True when the gate passed."""
        return self.status is Status.PASS

    def exit_code(self, mode: Mode = Mode.ENFORCE) -> int:
        """DESIGN §1: 0 pass, 1 failed, 3 could not evaluate; always 0 outside enforce."""
        if mode is not Mode.ENFORCE:
            return EXIT_OK
        codes = {Status.PASS: EXIT_OK, Status.KEEP: EXIT_OK, Status.WARN: EXIT_OK, Status.FAIL: EXIT_FAILED}
        return codes.get(self.status, EXIT_UNAVAILABLE)

    def to_dict(self) -> dict:
        """Plain data for JSON, statuses as their string values."""
        data = asdict(self)
        data["status"] = self.status.value
        for condition in data["conditions"]:
            condition["status"] = condition["status"].value
        return data


def format_value(value: Value) -> str:
    """A threshold or actual value as a short, stable string ('-' when absent)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.6e}"
    return str(value)


def _rows(result: GateResult) -> list[tuple[str, ...]]:
    return [(c.metric, c.comparator, format_value(c.threshold), format_value(c.actual),
             c.status.value.upper(), c.detail) for c in result.conditions]


def render_table(result: GateResult, mode: Mode = Mode.ENFORCE) -> str:
    """The aligned plain-text table printed to the job log: one line per condition, whatever
    the data holds (a line break in a cell is shown as \\n)."""
    header = ("metric", "rule", "threshold", "actual", "status", "detail")
    rows = [tuple(printable(cell) for cell in row) for row in _rows(result)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    suffix = "" if mode is Mode.ENFORCE else f" ({mode.value})"
    lines = [f"gate {result.gate}: {result.status.value.upper()}{suffix}"]
    if result.error:
        lines.append(f"  could not evaluate: {printable(result.error)}")
    if rows:
        fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
        lines.append(fmt.format(*header).rstrip())
        lines.append("  " + "  ".join("-" * w for w in widths))
        lines.extend(fmt.format(*r).rstrip() for r in rows)
    lines.extend(f"  note: {printable(n)}" for n in result.notes)
    lines.extend(f"  {printable(link.label)}: {printable(link.url)}" for link in result.links)
    return "\n".join(lines)


def render_json(result: GateResult, mode: Mode = Mode.ENFORCE) -> str:
    """The result with its mode and exit code, for tools (--report-json)."""
    data = result.to_dict()
    data["mode"] = mode.value
    data["exit_code"] = result.exit_code(mode)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _condition_message(c: Condition) -> str:
    text = f"{c.metric}: actual {format_value(c.actual)}, required {c.comparator} {format_value(c.threshold)}"
    return f"{text} ({c.detail})" if c.detail else text


def render_junit(result: GateResult) -> str:
    """One testsuite, one testcase per condition; a gate that could not evaluate at all
    is one testcase in error, so the CI's test tab never shows a silent pass."""
    suite = ET.Element("testsuite", name=f"pipegen.gate.{result.gate}")
    cases = 0
    failures = errors = skipped = 0
    for c in result.conditions:
        case = ET.SubElement(suite, "testcase", classname=f"pipegen.gate.{result.gate}", name=c.metric)
        cases += 1
        if c.status is Status.FAIL:
            failures += 1
            # The message also as text: some test tabs show only one of the two.
            failure = ET.SubElement(case, "failure", message=_condition_message(c), type="threshold")
            failure.text = _condition_message(c)
        elif c.status is Status.ERROR:
            errors += 1
            ET.SubElement(case, "error", message=_condition_message(c), type="unavailable")
        elif c.status is Status.SKIP:
            skipped += 1
            ET.SubElement(case, "skipped", message=c.detail or "not applicable")
    if result.error:
        case = ET.SubElement(suite, "testcase", classname=f"pipegen.gate.{result.gate}", name="evaluate")
        cases += 1
        errors += 1
        ET.SubElement(case, "error", message=result.error, type="unavailable")
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(result: GateResult, mode: Mode = Mode.ENFORCE) -> str:
    """The summary a CI shows on the run's page."""
    icon = {Status.PASS: "✅", Status.KEEP: "⏸️", Status.WARN: "🚩", Status.FAIL: "❌", Status.ERROR: "⚠️"}[result.status]
    suffix = "" if mode is Mode.ENFORCE else f" ({mode.value}: does not fail the build)"
    lines = [f"### {icon} pipegen gate `{result.gate}`: {result.status.value.upper()}{suffix}", ""]
    if result.error:
        lines += [f"Could not evaluate: {_md_cell(result.error)}", ""]
    if result.conditions:
        lines += ["| metric | rule | threshold | actual | status | detail |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in _rows(result)]
        lines.append("")
    if result.status is Status.KEEP:
        lines += ["Kept out: not better than the baseline, but no rule broken. Nothing is promoted; the rest "
                  "of the release goes on.", ""]
    if result.status is Status.WARN:
        lines += ["Flagged for the reviewer: nothing failed, read the flagged rows before approving.", ""]
    lines += [f"- {_md_cell(n)}" for n in result.notes]
    lines += [f"- [{_md_cell(link.label)}]({link.url})" for link in result.links]
    return "\n".join(lines).rstrip() + "\n"
