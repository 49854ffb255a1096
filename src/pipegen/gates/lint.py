"""The lint gate: pylint's score (from its `json2` report), flake8's issue count (from its
default text report) and ruff's (from its JSON report), read from files or produced by
running the tools. For adopting an existing code base, two ratchets instead of absolute
bars: no issue on a changed line (diff-cover's git diff against the compare branch) and no
more issues than the compare branch has (its reports, written by the pipeline)."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError, shorten
from pipegen.gates import numbers
from pipegen.gates.compare_branch import DEFAULT_COMPARE_BRANCH, Base, changed_lines_diff, find_base
from pipegen.gates.report_formats import FLAKE8_FORMAT, FLAKE8_MARKER, RUFF_ARGS
from pipegen.gates.result import Condition, GateResult, Status
from pipegen.paths import read_text

GATE = "lint"
ISSUES_LISTED = 10  # flake8 issues shown in the notes; the JUnit/JSON carry the count
# flake8's default format: path:row:col: CODE text
FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<row>[0-9]+):(?P<col>[0-9]+): (?P<code>[A-Z]+[0-9]+)\b")
FLAKE8_COUNT = re.compile(r"[0-9]+")
PYLINT_USAGE_ERROR = 32  # bit 32 of pylint's exit status; bit 1 is a fatal message


@dataclass(frozen=True)
class Issue:
    """One finding of any linter, where it is (path as the tool wrote it)."""

    path: str
    line: int
    code: str
    text: str = ""

    def describe(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.text}".rstrip()


@dataclass(frozen=True)
class PylintReport:
    """The parts of a pylint json2 report the gate uses."""

    score: float
    messages_by_type: dict[str, int] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

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
    messages = data.get("messages") if isinstance(data.get("messages"), list) else []
    issues = tuple(Issue(str(message.get("path", "")), numbers.count(message.get("line") or 0, f"{source}: line"),
                         str(message.get("messageId", "")), str(message.get("message", "")))
                   for message in messages if isinstance(message, dict))
    return PylintReport(score=score, messages_by_type=counts, issues=issues)


def parse_ruff_json(text: str, source: str) -> list[Issue]:
    """ruff's `--output-format=json`: a list of {code, message, filename, location.row}."""
    try:
        data = json.loads(text or "[]")
        issues = [Issue(_shown_path(str(item["filename"])), int(item["location"]["row"]),
                        str(item.get("code") or "syntax"), str(item.get("message", ""))) for item in data]
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluationError(f"{source} is not a ruff JSON report (write it with `ruff check "
                              f"--output-format=json --output-file FILE`): {type(exc).__name__} {exc}") from None
    return issues


def _shown_path(path: str) -> str:
    """ruff writes absolute paths: shown relative to the working directory when under it."""
    if os.path.isabs(path):
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else Path(relative).as_posix()
    return path


def flake8_issues(report: "Flake8Report") -> list[Issue]:
    found = []
    for line in report.issues:
        match = FLAKE8_LINE.match(line)
        if match:
            found.append(Issue(match.group("path"), int(match.group("row")), match.group("code"),
                               line[match.end():].strip()))
    return found


def parse_flake8(text: str, source: str) -> Flake8Report:
    """Issues in flake8's default format. A bare number (from --count) is allowed and
    must agree; any other line means the report is not what the gate can count, and
    miscounting would pass silently, so it fails closed. A report written with the gate's
    marked format (what pipegen's pipelines and its own runs ask flake8 for) holds the issues
    on the marked lines; the lines a repository's show-source/statistics/count add are left aside."""
    if any(line.startswith(FLAKE8_MARKER) for line in text.splitlines()):
        text = "\n".join(line[len(FLAKE8_MARKER):] for line in text.splitlines() if line.startswith(FLAKE8_MARKER))
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
    if not os.path.lexists(path):
        raise EvaluationError(f"{tool} report {path} not found")
    try:
        return read_text(path, error=EvaluationError)  # the one safe reader
    except EvaluationError as exc:
        raise EvaluationError(f"{tool} report is not readable: {exc}") from None


@dataclass(frozen=True)
class Interpreter:
    """How a linter is started: `command -m MODULE ...` with `env`. The gate runs the linters installed
    next to pipegen (the lint job's environment); `pipegen init` runs them from an environment of its own."""

    command: tuple[str, ...] = (sys.executable,)
    env: dict[str, str] | None = None
    installed_here: bool = True  # the module is looked up in pipegen's own environment before it runs


HERE = Interpreter()


def _run_module(module: str, args: list[str], cwd: Path | None = None,
                interpreter: Interpreter = HERE) -> subprocess.CompletedProcess:
    """Runs `python -m MODULE` with this interpreter, so the tool versions are the ones
    installed next to pipegen (the project's dev requirements), or with `interpreter`."""
    if interpreter.installed_here and importlib.util.find_spec(module) is None:
        raise EvaluationError(f"{module} is not installed for {sys.executable}; install it "
                              f"(`python -m pip install {module}`) or pass a --{module}-report")
    return subprocess.run([*interpreter.command, "-m", module, *args], capture_output=True, text=True, check=False,
                          cwd=cwd, env=interpreter.env)


def run_pylint(paths: list[Path], extra_args: tuple[str, ...] = (), cwd: Path | None = None,
               interpreter: Interpreter = HERE) -> PylintReport:
    """pylint on `paths` (its config found as usual: pyproject.toml, .pylintrc)."""
    done = _run_module("pylint", [*extra_args, "--output-format=json2", "--score=y", *map(str, paths)], cwd,
                       interpreter)
    if done.returncode & PYLINT_USAGE_ERROR or not done.stdout.strip():
        raise EvaluationError(f"pylint did not run (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return parse_pylint_json2(done.stdout, "pylint output")


def run_flake8(paths: list[Path], extra_args: tuple[str, ...] = (), cwd: Path | None = None,
               interpreter: Interpreter = HERE) -> Flake8Report:
    """flake8 on `paths` (its config found as usual: setup.cfg, tox.ini, .flake8). Each issue is
    printed behind a marker in the gate's own format, so the repository's `format =`,
    `show-source`, `statistics` or `count` settings add lines the gate leaves aside."""
    done = _run_module("flake8", [*extra_args, "--no-show-source", f"--format={FLAKE8_MARKER}{FLAKE8_FORMAT}",
                                  *map(str, paths)], cwd, interpreter)
    if done.returncode not in (0, 1) or (done.returncode == 1 and FLAKE8_MARKER not in done.stdout):
        raise EvaluationError(f"flake8 did not run (exit {done.returncode}): "
                              f"{(done.stderr.strip() or done.stdout.strip())[-500:]}")
    return parse_flake8(done.stdout, "flake8 output")


def run_ruff(paths: list[Path], extra_args: tuple[str, ...] = (), cwd: Path | None = None,
             interpreter: Interpreter = HERE) -> list[Issue]:
    """ruff on `paths` (its config found as usual: pyproject.toml, ruff.toml), never fixing: a `fix = true`
    in the repository's settings would rewrite the files and leave the fixable issues uncounted."""
    done = _run_module("ruff", ["check", *RUFF_ARGS, *extra_args, "--output-format=json", "--exit-zero",
                                *map(str, paths)], cwd, interpreter)
    if done.returncode != 0:
        raise EvaluationError(f"ruff did not run (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return parse_ruff_json(done.stdout, "ruff output")


def ruff_condition(issues: list[Issue], max_issues: int) -> Condition:
    """issue count <= max_issues."""
    codes = Counter(issue.code for issue in issues)
    detail = ", ".join(f"{code}x{count}" for code, count in codes.most_common(5)) or "no issues"
    status = Status.PASS if len(issues) <= max_issues else Status.FAIL
    return Condition("ruff_issues", "<=", max_issues, len(issues), status, detail)


def pylint_condition(report: PylintReport, min_score: float) -> Condition:
    """score >= min_score."""
    status = Status.PASS if report.score >= min_score else Status.FAIL
    return Condition("pylint_score", ">=", min_score, round(report.score, 2), status, report.describe())


def flake8_condition(report: Flake8Report, max_issues: int) -> Condition:
    """issue count <= max_issues."""
    status = Status.PASS if len(report.issues) <= max_issues else Status.FAIL
    return Condition("flake8_issues", "<=", max_issues, len(report.issues), status, report.by_code())


def _git_root() -> Path:
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EvaluationError(f"changed lines need a git repository: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def _repo_path(path: str, root: Path) -> str:
    """A tool's path (absolute, ./relative, relative) as a path from the repository root."""
    return Path(os.path.relpath(os.path.abspath(path), root)).as_posix()


def changed_lines_map(base: Base) -> dict[str, set[int]]:
    """Lines added or edited against `base`, per file (diff-cover's git diff: committed,
    staged and unstaged changes, as diff-quality counts them)."""
    # pylint: disable=import-outside-toplevel  # diff-cover only when a ratchet runs
    from diff_cover.command_runner import CommandError

    try:
        diff = changed_lines_diff(base)
        return {path: set(diff.lines_changed(path)) for path in diff.src_paths_changed()}
    except (ValueError, CommandError, OSError) as exc:
        raise EvaluationError(f"could not diff against {base.shown}: {str(exc).strip()}") from None


def _changed_lines(compare_branch: str | None, result: GateResult) -> tuple[Base, dict[str, set[int]]]:
    """The base the changed-lines ratchet counts from (noted when it is not the branch as named) and
    the lines changed since."""
    base = find_base(compare_branch)
    if base.note:
        result.notes.append(base.note)
    return base, changed_lines_map(base)


def changed_line_condition(tool: str, issues: list[Issue], changed: dict[str, set[int]],
                           base: Base, result: GateResult) -> None:
    root = _git_root()
    hits = [issue for issue in issues if issue.line in changed.get(_repo_path(issue.path, root), ())]
    status = Status.PASS if not hits else Status.FAIL
    result.conditions.append(Condition(f"{tool}_issues_on_changed_lines", "<=", 0, len(hits), status,
                                       f"lines changed against {base.shown}"))
    result.notes.extend(f"changed line: {issue.describe()}" for issue in hits[:ISSUES_LISTED])


def baseline_condition(tool: str, issues: list[Issue], baseline: list[Issue], compare_branch: str) -> Condition:
    status = Status.PASS if len(issues) <= len(baseline) else Status.FAIL
    return Condition(f"{tool}_issues_vs_compare_branch", "<=", len(baseline), len(issues), status,
                     f"{compare_branch} has {len(baseline)}")


def _read_issues(tool: str, path: Path) -> tuple[list[Issue], PylintReport | Flake8Report | None]:
    text = read_report(path, tool)
    if tool == "pylint":
        report = parse_pylint_json2(text, str(path))
        return list(report.issues), report
    if tool == "flake8":
        flake8 = parse_flake8(text, str(path))
        return flake8_issues(flake8), flake8
    return parse_ruff_json(text, str(path)), None


def _run_tool(tool: str, paths: list[Path], args: tuple[str, ...]):
    if tool == "pylint":
        report = run_pylint(paths, args)
        return list(report.issues), report
    if tool == "flake8":
        flake8 = run_flake8(paths, args)
        return flake8_issues(flake8), flake8
    return run_ruff(paths, args), None


def _threshold_condition(tool: str, issues: list[Issue], report, threshold) -> Condition:
    if tool == "pylint":
        return pylint_condition(report, threshold)
    if tool == "flake8":
        return flake8_condition(report, threshold)
    return ruff_condition(issues, threshold)


def evaluate(*, pylint_report: Path | None, flake8_report: Path | None, paths: list[Path],  # noqa: C901
             min_score: float | None, max_issues: int | None,
             pylint_args: tuple[str, ...] = (), flake8_args: tuple[str, ...] = (),
             ruff_report: Path | None = None, max_ruff_issues: int | None = None, ruff_args: tuple[str, ...] = (),
             changed_lines: bool = False, baselines: dict[str, Path] | None = None,
             compare_branch: str | None = None) -> GateResult:
    """Each tool is checked from its report when given, else by running it on `paths`;
    a tool with neither, or with no threshold and no ratchet, is not checked (and says so).
    `changed_lines`: issues on lines changed against the compare branch fail (None: the default
    one, see pipegen.gates.compare_branch). `baselines`: tool -> its report on the compare
    branch; more issues than that fails."""
    # pylint: disable=too-many-arguments,too-many-locals  # one per gate option
    numbers.threshold(min_score, 0, 10, "pylint min_score")
    for tool, limit in (("flake8", max_issues), ("ruff", max_ruff_issues)):
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise UsageError(f"{tool} max_issues must be a whole number >= 0, not {limit!r}")
    result = GateResult(gate=GATE)
    baselines = baselines or {}
    base, changed = _changed_lines(compare_branch, result) if changed_lines else (None, None)
    setup = (("pylint", pylint_report, min_score, pylint_args, "min_score"),
             ("flake8", flake8_report, max_issues, flake8_args, "max_issues"),
             ("ruff", ruff_report, max_ruff_issues, ruff_args, "max_issues"))
    for tool, report_path, threshold, args, key in setup:
        ratcheted = changed is not None or tool in baselines
        if threshold is None and not ratcheted:
            if tool != "ruff" or report_path is not None:
                result.notes.append(f"{tool} not checked: no {key}")
            continue
        if report_path is not None:
            issues, report = _read_issues(tool, report_path)
        elif paths:
            issues, report = _run_tool(tool, paths, args)
        else:
            if tool != "ruff" or threshold is not None:
                result.notes.append(f"{tool} not checked: no --{tool}-report and no --path")
            continue
        if threshold is not None:
            result.conditions.append(_threshold_condition(tool, issues, report, threshold))
        if changed is not None and base is not None:
            changed_line_condition(tool, issues, changed, base, result)
        if tool in baselines:
            baseline, _ = _read_issues(tool, baselines[tool])
            result.conditions.append(baseline_condition(tool, issues, baseline,
                                                        compare_branch or DEFAULT_COMPARE_BRANCH))
        if tool == "flake8":
            result.notes.extend(report.issues[:ISSUES_LISTED])
        elif tool == "ruff":
            result.notes.extend(issue.describe() for issue in issues[:ISSUES_LISTED])
    return result
