"""The lint gate: pylint's score (from its `json2` report) and flake8's issue count (from
its default text report), read from files or produced by running the tools."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError, shorten
from pipegen.gates import numbers
from pipegen.paths import read_text
from pipegen.gates.result import Condition, GateResult, Status

GATE = "lint"
ISSUES_LISTED = 10  # flake8 issues shown in the notes; the JUnit/JSON carry the count
# flake8's default format: path:row:col: CODE text
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<row>[0-9]+):(?P<col>[0-9]+): (?P<code>[A-Z]+[0-9]+)\b")
FLAKE8_COUNT = re.compile(r"[0-9]+")
PYLINT_USAGE_ERROR = 32  # bit 32 of pylint's exit status; bit 1 is a fatal message


@dataclass(frozen=True)
class PylintReport:
    """The parts of a pylint json2 report the gate uses."""

    score: float
    messages_by_type: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """Message counts by type, e.g. '3 convention, 1 warning'."""
        counts = ", ".join(f"{count} {kind}" for kind, count in sorted(self.messages_by_type.items()) if count)
        return counts or "no messages"


@dataclass(frozen=True)
class Flake8Report:
    """flake8's issue lines."""

    issues: list[str]

    def by_code(self) -> str:
        """The most frequent codes, e.g. 'E501x3, F401x1'."""
        codes = Counter(match.group("code") for line in self.issues if (match := FLAKE8_LINE.match(line)))
        return ", ".join(f"{code}x{count}" for code, count in codes.most_common(5)) or "no issues"


def parse_pylint_json2(text: str, source: str) -> PylintReport:
    """`statistics.score` of pylint's json2 report; a fatal message (a module pylint
    could not lint) means the score is not a verdict on the code, so it fails closed."""
    try:
        data = json.loads(text)
        statistics = data["statistics"]
        score = statistics["score"]
        counts = statistics.get("messageTypeCount", {})
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(
            f"{source} is not a pylint json2 report with statistics.score "
            f"(write it with `pylint --output-format=json2`): {type(exc).__name__} {exc}") from None
    score = numbers.within(score, 0.0, 10.0, f"{source}: statistics.score")
    if not isinstance(counts, dict):
        raise EvaluationError(f"{source}: statistics.messageTypeCount is not a mapping")
    counts = {shorten(kind): numbers.count(value, f"{source}: messageTypeCount.{shorten(kind)}")
              for kind, value in counts.items()}
    if counts.get("fatal"):
        messages = data.get("messages") if isinstance(data.get("messages"), list) else []
        fatal = [shorten(f"{message.get('messageId')} {message.get('message')}", 200)
                 for message in messages if isinstance(message, dict) and message.get("type") == "fatal"]
        raise EvaluationError(f"pylint could not lint everything ({source}): {'; '.join(fatal[:3]) or 'fatal message'}")
    return PylintReport(score=score, messages_by_type=counts)


def parse_flake8(text: str, source: str) -> Flake8Report:
    """Issues in flake8's default format. A bare number (from --count) is allowed and
    must agree; any other line means the report is not what the gate can count, and
    miscounting would pass silently, so it fails closed."""
    issues: list[str] = []
    stated_count: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if FLAKE8_LINE.match(line):
            issues.append(line)
        elif FLAKE8_COUNT.fullmatch(line.strip()):
            if stated_count is not None:
                raise EvaluationError(f"{source}:{number}: a second issue count; the report is two reports joined")
            stated_count = numbers.count(line, f"{source}:{number}: issue count")
        else:
            raise EvaluationError(
                f"{source}:{number} is not in flake8's default format (path:row:col: CODE message): "
                f"{shorten(repr(line), 80)}; "
                "write the report with `flake8 --output-file FILE` and no --format/--show-source/--statistics")
    if stated_count is not None and stated_count != len(issues):
        raise EvaluationError(f"{source}: flake8 --count says {stated_count} issues but {len(issues)} are listed")
    return Flake8Report(issues=issues)


def read_report(path: Path, tool: str) -> str:
    """A report's text; missing or unreadable (a FIFO, a directory, not UTF-8) fails closed."""
    if not path.exists():
        raise EvaluationError(f"{tool} report {path} not found")
    try:
        return read_text(path)
    except UsageError as exc:
        raise EvaluationError(f"{tool} report is not readable: {exc}") from None


def _run_module(module: str, args: list[str]) -> subprocess.CompletedProcess:
    """Runs `python -m MODULE` with this interpreter, so the tool versions are the ones
    installed next to pipegen (the project's dev requirements)."""
    if importlib.util.find_spec(module) is None:
        raise EvaluationError(f"{module} is not installed for {sys.executable}; install it "
                              f"(`python -m pip install {module}`) or pass a --{module}-report")
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)


def run_pylint(paths: list[Path], extra_args: tuple[str, ...] = ()) -> PylintReport:
    """pylint on `paths` (its config found as usual: pyproject.toml, .pylintrc)."""
    done = _run_module("pylint", [*extra_args, "--output-format=json2", "--score=y", *map(str, paths)])
    if done.returncode & PYLINT_USAGE_ERROR or not done.stdout.strip():
        raise EvaluationError(f"pylint did not run (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return parse_pylint_json2(done.stdout, "pylint output")


def run_flake8(paths: list[Path], extra_args: tuple[str, ...] = ()) -> Flake8Report:
    """flake8 on `paths` (its config found as usual: setup.cfg, tox.ini, .flake8)."""
    done = _run_module("flake8", [*extra_args, "--format=default", *map(str, paths)])
    if done.returncode not in (0, 1) or (done.returncode == 1 and not done.stdout.strip()):
        raise EvaluationError(f"flake8 did not run (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return parse_flake8(done.stdout, "flake8 output")


def pylint_condition(report: PylintReport, min_score: float) -> Condition:
    """score >= min_score."""
    status = Status.PASS if report.score >= min_score else Status.FAIL
    return Condition("pylint_score", ">=", min_score, round(report.score, 2), status, report.describe())


def flake8_condition(report: Flake8Report, max_issues: int) -> Condition:
    """issue count <= max_issues."""
    status = Status.PASS if len(report.issues) <= max_issues else Status.FAIL
    return Condition("flake8_issues", "<=", max_issues, len(report.issues), status, report.by_code())


def evaluate(*, pylint_report: Path | None, flake8_report: Path | None, paths: list[Path],
             min_score: float | None, max_issues: int | None,
             pylint_args: tuple[str, ...] = (), flake8_args: tuple[str, ...] = ()) -> GateResult:
    """Each tool is checked from its report when given, else by running it on `paths`;
    a tool with neither, or without a threshold, is not checked (and says so)."""
    numbers.threshold(min_score, 0, 10, "pylint min_score")
    if max_issues is not None and (isinstance(max_issues, bool) or not isinstance(max_issues, int) or max_issues < 0):
        raise UsageError(f"flake8 max_issues must be a whole number >= 0, not {max_issues!r}")
    result = GateResult(gate=GATE)
    if min_score is None:
        result.notes.append("pylint not checked: no min_score")
    elif pylint_report is not None:
        result.conditions.append(pylint_condition(parse_pylint_json2(read_report(pylint_report, "pylint"),
                                                                     str(pylint_report)), min_score))
    elif paths:
        result.conditions.append(pylint_condition(run_pylint(paths, pylint_args), min_score))
    else:
        result.notes.append("pylint not checked: no --pylint-report and no --path")
    if max_issues is None:
        result.notes.append("flake8 not checked: no max_issues")
    elif flake8_report is not None:
        flake8 = parse_flake8(read_report(flake8_report, "flake8"), str(flake8_report))
        result.conditions.append(flake8_condition(flake8, max_issues))
        result.notes.extend(flake8.issues[:ISSUES_LISTED])
    elif paths:
        flake8 = run_flake8(paths, flake8_args)
        result.conditions.append(flake8_condition(flake8, max_issues))
        result.notes.extend(flake8.issues[:ISSUES_LISTED])
    else:
        result.notes.append("flake8 not checked: no --flake8-report and no --path")
    return result
