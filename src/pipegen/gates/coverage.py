"""The coverage gate: the total from a Cobertura XML report (as written by `coverage xml`)
and the coverage of the lines a change adds or edits (through diff-cover's library).

Figures follow `coverage report`'s rules so the gate and the team's own coverage output
agree: the total counts lines and branches together, it is compared after rounding to
the precision the threshold needs (coverage.py's `fail_under` rule, 100 means exactly
100), and a figure is never shown as 0 or 100 unless it is exactly that."""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.parsers import expat

from pipegen import paths
from pipegen.errors import EvaluationError, shorten
from pipegen.gates import numbers
from pipegen.gates.compare_branch import Base, changed_lines_diff, find_base
from pipegen.gates.result import Condition, GateResult, Status

GATE = "coverage"
MAX_FILES_LISTED = 5  # uncovered changed lines listed per result; the rest are counted


@dataclass(frozen=True)
class CoverageTotals:
    """The totals on the report's root element."""

    line_rate: float  # 0..1
    branch_rate: float | None  # 0..1, None when the report has no branch data
    lines_valid: int | None = None
    lines_covered: int | None = None
    branches_valid: int | None = None
    branches_covered: int | None = None

    @property
    def has_branches(self) -> bool:
        """True when the report measured branches."""
        if self.branches_valid is not None:
            return self.branches_valid > 0
        return self.branch_rate is not None

    @property
    def counts_known(self) -> bool:
        """True when the root carries line counts (coverage.py writes them), not only rates."""
        return self.lines_valid is not None and self.lines_covered is not None

    def percent(self) -> float:
        """Total percent as `coverage report` computes it: covered lines plus covered
        branches over all lines plus all branches. Reports without counts (other tools)
        give the line rate."""
        if not self.counts_known:
            return 100.0 * self.line_rate
        covered = (self.lines_covered or 0) + (self.branches_covered or 0)
        total = (self.lines_valid or 0) + (self.branches_valid or 0)
        return 100.0 * covered / total if total else 100.0

    def describe(self) -> str:
        """The counts behind the figure, e.g. 'lines 6/8, branches 2/4'."""
        if not self.counts_known:
            text = f"line rate {100.0 * self.line_rate:.2f}%"
            return text + (f", branch rate {100.0 * self.branch_rate:.2f}%" if self.branch_rate is not None else "")
        text = f"lines {self.lines_covered}/{self.lines_valid}"
        if self.has_branches:
            text += f", branches {self.branches_covered}/{self.branches_valid}"
        return text


def _attribute(attributes: dict[str, str], name: str, read, path: Path) -> float | int | None:
    raw = attributes.get(name)
    if raw is None:
        return None
    return read(raw, f"coverage report {path}: attribute {name}")


def _reject_entity(*_args) -> None:
    raise EvaluationError("entity declarations are not allowed in a coverage report")


def read_root(path: Path) -> tuple[str, dict[str, str]]:
    """The root element's tag and attributes. The whole file is streamed through expat
    (no tree is kept), so a report truncated after its root, or broken anywhere, is
    refused instead of trusted; memory stays flat whatever its size."""
    if not os.path.lexists(path):
        raise EvaluationError(f"coverage report {path} not found; write it with `coverage xml -o {path}`")
    try:
        parser = expat.ParserCreate()
        root: list[tuple[str, dict[str, str]]] = []

        def first_element(tag: str, attributes: dict[str, str]) -> None:
            root.append((tag, attributes))
            parser.StartElementHandler = None  # the rest is only checked, at expat's own speed
        parser.StartElementHandler = first_element
        parser.EntityDeclHandler = _reject_entity
        with paths.open_binary(path, error=EvaluationError) as stream:  # the one safe reader
            while chunk := stream.read(1024 * 1024):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except FileNotFoundError:
        raise EvaluationError(f"coverage report {path} not found; write it with `coverage xml -o {path}`") from None
    except expat.ExpatError as exc:
        reason = f"{expat.ErrorString(exc.code)}: line {exc.lineno}, column {exc.offset + 1}"
        raise EvaluationError(f"coverage report {path} is not readable XML: {reason}") from None
    except OSError as exc:
        raise EvaluationError(f"coverage report {path} is not readable: {exc.strerror or exc}") from None
    return root[0]


def read_totals(path: Path) -> CoverageTotals:
    """The totals from the root element's attributes, each checked: a rate outside 0..1,
    a figure that is not finite, or more covered than valid fails closed (exit 3)."""
    tag, attributes = read_root(path)
    if tag != "coverage":
        raise EvaluationError(f"coverage report {path} is not Cobertura XML: its root is <{shorten(tag)}>, "
                              "not <coverage>")
    line_rate = _attribute(attributes, "line-rate", numbers.rate, path)
    if line_rate is None:
        raise EvaluationError(f"coverage report {path} has no line-rate on <coverage>")
    totals = CoverageTotals(
        line_rate=float(line_rate),
        branch_rate=_attribute(attributes, "branch-rate", numbers.rate, path),
        lines_valid=_attribute(attributes, "lines-valid", numbers.count, path),
        lines_covered=_attribute(attributes, "lines-covered", numbers.count, path),
        branches_valid=_attribute(attributes, "branches-valid", numbers.count, path),
        branches_covered=_attribute(attributes, "branches-covered", numbers.count, path),
    )
    numbers.part_of_whole(totals.lines_covered, totals.lines_valid, f"coverage report {path}: lines")
    numbers.part_of_whole(totals.branches_covered, totals.branches_valid, f"coverage report {path}: branches")
    if totals.lines_covered is not None and totals.lines_valid is None:
        raise EvaluationError(f"coverage report {path}: lines-covered without lines-valid")
    return totals


def effective_precision(threshold: float | None, precision: int) -> int:
    """coverage.py's rule: a threshold such as 80.25 implies two decimals."""
    if threshold is None:
        return precision
    text = f"{threshold:.10f}".rstrip("0")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(precision, decimals)


def displayed_percent(percent: float, precision: int) -> float:
    """coverage.py's display_covered: rounding never shows 0 or 100 unless exact."""
    near_zero = 1.0 / 10 ** precision
    if 0 < percent < near_zero:
        return near_zero
    if 100.0 - near_zero < percent < 100.0:
        return round(100.0 - near_zero, precision)
    return round(percent, precision)


def below(percent: float, threshold: float, precision: int) -> bool:
    """coverage.py's should_fail_under: compare after rounding; 100 must be exact."""
    if threshold >= 100.0:
        return percent < 100.0
    return round(percent, effective_precision(threshold, precision)) < threshold


def percent_condition(metric: str, percent: float, threshold: float, precision: int, detail: str) -> Condition:
    """A `>=` condition judged and shown by coverage.py's rules."""
    status = Status.FAIL if below(percent, threshold, precision) else Status.PASS
    shown = displayed_percent(percent, effective_precision(threshold, precision))
    return Condition(metric, ">=", threshold, shown, status, detail)


@dataclass(frozen=True)
class ChangedLines:
    """What diff-cover measured on the lines changed against the compare branch."""

    measured: int  # changed lines the report measures (code lines, not blanks or comments)
    uncovered: dict[str, list[int]]  # file -> changed lines not covered

    @property
    def uncovered_count(self) -> int:
        """Changed lines that no test ran."""
        return sum(len(lines) for lines in self.uncovered.values())

    def percent(self) -> float:
        """Percent of the measured changed lines that ran."""
        return 100.0 * (self.measured - self.uncovered_count) / self.measured

    def describe(self) -> str:
        """e.g. '4/5 changed lines covered'."""
        return f"{self.measured - self.uncovered_count}/{self.measured} changed lines covered"


def changed_lines(report: Path, base: Base) -> ChangedLines:
    """Changed-lines coverage through diff-cover's library, run in the current
    directory's git repository against `base` (committed, staged and unstaged changes,
    as the diff-cover command counts them).

    The report is streamed and only the changed files' `<class>` elements are kept
    (see `_changed_files_report`), so memory follows the change, not the report."""
    # pylint: disable=import-outside-toplevel  # diff-cover and git only when this runs
    from diff_cover.command_runner import CommandError
    from diff_cover.report_generator import JsonReportGenerator
    from diff_cover.violationsreporters.violations_reporter import XmlCoverageReporter

    diff_error: Exception | None = None
    try:
        diff = changed_lines_diff(base)
        try:
            changed = diff.src_paths_changed()
        except (ValueError, CommandError, OSError) as exc:
            changed, diff_error = [], exc  # reported after the report is read, as before
        xml_root = _changed_files_report(report, {_file_name(path) for path in changed})
        if diff_error is not None:
            raise diff_error
        generator = JsonReportGenerator(XmlCoverageReporter([xml_root]), diff)
        measured = generator.total_num_lines()
        uncovered = {path: lines for path in generator.src_paths() if (lines := generator.violation_lines(path))}
    except ET.ParseError as exc:
        raise EvaluationError(f"coverage report {report} is not readable XML: {exc}") from None
    except (ValueError, CommandError, OSError) as exc:
        raise EvaluationError(f"could not diff against {base.shown}: {str(exc).strip()}") from None
    return ChangedLines(measured=measured, uncovered=uncovered)


def _file_name(path: str) -> str:
    """The last part of a path as diff-cover compares paths (Unix separators, normalised)."""
    return posixpath.basename(posixpath.normpath(os.path.normcase(path).replace("\\", "/")))


def _may_be_wanted(filename: str | None, wanted: set[str]) -> bool:
    """Whether diff-cover could match this `<class filename>` to a changed file: it
    compares whole normalised paths (as written, or joined to a `<source>`), which
    end with the same file name; odd names that normalise away are kept too."""
    if not filename:
        return False
    name = _file_name(filename)
    return name in wanted or name in ("", ".", "..")


def _changed_files_report(report: Path, wanted: set[str]) -> ET.Element:
    """The report's root with its attributes, its `<sources>` and only the `<class>`
    elements that may belong to files named as in `wanted`, read as a stream: everything else is
    dropped as soon as it is parsed. diff-cover then matches exactly as on the whole
    report. A Clover-shaped document (`<file><line num count>`) is parsed whole, since
    diff-cover reads those differently."""
    root: ET.Element | None = None
    parents: list[ET.Element] = []
    kept = ET.Element("classes")
    with paths.open_binary(report, error=EvaluationError) as stream:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = ET.Element(element.tag, element.attrib)
                parents.append(element)
                continue
            parents.pop()
            parent = parents[-1] if parents else None
            if element.tag == "line" and parent is not None and parent.tag == "file" \
                    and element.get("num") is not None and element.get("count") is not None:
                stream.seek(0)
                return ET.parse(stream).getroot()
            if element.tag == "class":
                if _may_be_wanted(element.get("filename"), wanted):
                    kept.append(element)
                if parent is not None:
                    del parent[-1]  # the element just closed is its parent's last child
            elif element.tag == "sources" and len(parents) == 1:
                root.append(element)  # type: ignore[union-attr]  # set at the first start event
            elif len(parents) == 1 and parent is not None:
                parent.remove(element)  # other top-level content (packages...) is not needed
    if root is None:
        raise ET.ParseError("no element found")
    packages = ET.SubElement(root, "packages")
    ET.SubElement(packages, "package").append(kept)
    return root


def _line_ranges(lines: list[int]) -> str:
    ranges: list[str] = []
    start = previous = lines[0]
    for line in [*lines[1:], None]:
        if line is not None and line == previous + 1:
            previous = line
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if line is not None:
            start = previous = line
    return ",".join(ranges)


def uncovered_notes(changes: ChangedLines) -> list[str]:
    """Where the uncovered changed lines are, a few files at most."""
    notes = [f"not covered: {path}:{_line_ranges(lines)}"
             for path, lines in sorted(changes.uncovered.items())[:MAX_FILES_LISTED]]
    hidden = len(changes.uncovered) - MAX_FILES_LISTED
    if hidden > 0:
        notes.append(f"... and uncovered changed lines in {hidden} more files")
    return notes


def evaluate(report: Path, *, min_total: float | None, diff_min: float | None, compare_branch: str | None = None,
             precision: int = 0) -> GateResult:
    """The coverage gate's result. `diff_min` None skips the changed-lines check;
    `compare_branch` None is the default one (see pipegen.gates.compare_branch)."""
    numbers.threshold(min_total, 0, 100, "coverage min")
    numbers.threshold(diff_min, 0, 100, "coverage diff_min")
    totals = read_totals(report)
    result = GateResult(gate=GATE)
    total = totals.percent()
    if min_total is not None:
        result.conditions.append(percent_condition("total_coverage", total, min_total, precision, totals.describe()))
    result.notes.append(f"total {total:.4f}% ({totals.describe()}) from {report}")
    if diff_min is None:
        return result
    base = find_base(compare_branch)
    if base.note:
        result.notes.append(base.note)
    changes = changed_lines(report, base)
    if changes.measured == 0:
        result.conditions.append(Condition("changed_lines_coverage", ">=", diff_min, None, Status.SKIP,
                                           f"no measured lines changed against {base.shown}"))
        return result
    result.conditions.append(percent_condition("changed_lines_coverage", changes.percent(), diff_min, precision,
                                               f"{changes.describe()} against {base.shown}"))
    result.notes.extend(uncovered_notes(changes))
    return result
