"""`pipegen gate lint`: pylint score, flake8 and ruff issue counts against their thresholds,
and the adoption ratchets (no issue on changed lines, no more issues than the compare branch)."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.commands._gate_common import FiniteFloatRange, with_gate_options
from pipegen.errors import UsageError
from pipegen.gates import lint, profiles
from pipegen.gates.result import GateResult


@click.command("lint")
@click.option("--pylint-report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="pylint report written with --output-format=json2.")
@click.option("--flake8-report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="flake8 report in its default format (flake8 --output-file FILE).")
@click.option("--ruff-report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="ruff report written with `ruff check --output-format=json`.")
@click.option("--path", "paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Run pylint/flake8 on this file or package for the tools without a report. Repeatable.")
@click.option("--pylint-arg", "pylint_args", multiple=True,
              help="Extra argument for pylint when run on --path, e.g. --pylint-arg=--max-line-length=120. Repeatable.")
@click.option("--flake8-arg", "flake8_args", multiple=True,
              help="Extra argument for flake8 when run on --path, e.g. --flake8-arg=--max-line-length=120. Repeatable.")
@click.option("--min-score", type=FiniteFloatRange(0, 10), default=None,
              help="Minimum pylint score, 0..10 (default: descriptor, then profile).")
@click.option("--max-issues", type=click.IntRange(0), default=None,
              help="Maximum flake8 issues (default: descriptor, then profile).")
@click.option("--max-ruff-issues", type=click.IntRange(0), default=None,
              help="Maximum ruff issues (default: descriptor, then profile).")
@click.option("--changed-lines", "changed_lines", is_flag=True,
              help="Ratchet: fail on any issue on a line changed against --compare-branch.")
@click.option("--baseline", "baselines", multiple=True, metavar="TOOL=REPORT",
              help="Ratchet: the tool's report on the compare branch; more issues than it has fails. Repeatable.")
@click.option("--compare-branch", default=None,
              help="The branch changed lines are measured against, as for `gate coverage` (default: the "
                   "descriptor's lint.compare_branch, else its coverage.compare_branch, else origin/main).")
@click.option("--profile", default=None, help="Gate profile (gates/NAME.yaml) instead of the descriptor's.")
@with_gate_options
def gate_lint(  # pylint: disable=too-many-arguments  # one per click option
        *, descriptor: Path | None, pylint_report: Path | None, flake8_report: Path | None,
        paths: tuple[Path, ...], pylint_args: tuple[str, ...], flake8_args: tuple[str, ...],
        min_score: float | None, max_issues: int | None, ruff_report: Path | None, max_ruff_issues: int | None,
        changed_lines: bool, baselines: tuple[str, ...], compare_branch: str | None,
        profile: str | None) -> GateResult:
    """pylint score and flake8 issue count, from reports or by running the tools on --path.

    Exit 0 pass, 1 below a threshold, 2 bad usage, 3 a report missing or unreadable, or a
    tool not installed."""
    if pylint_report is None and flake8_report is None and ruff_report is None and not paths:
        raise UsageError("gate lint needs --pylint-report, --flake8-report, --ruff-report or --path")
    baseline_reports: dict[str, Path] = {}
    for entry in baselines:
        tool, _, report = entry.partition("=")
        if tool not in ("pylint", "flake8", "ruff") or not report:
            raise UsageError(f"--baseline {entry!r}: expected TOOL=REPORT with TOOL pylint, flake8 or ruff")
        baseline_reports[tool] = Path(report)
    the_descriptor = profiles.read_descriptor(descriptor)
    ratchet = changed_lines or bool(baseline_reports)
    pylint_settings = profiles.resolve("pylint", {"min_score": min_score}, the_descriptor, profile, ratchet)
    flake8_settings = profiles.resolve("flake8", {"max_issues": max_issues}, the_descriptor, profile, ratchet)
    ruff_settings = profiles.resolve("ruff", {"max_issues": max_ruff_issues}, the_descriptor, profile, ratchet)
    result = lint.evaluate(pylint_report=pylint_report, flake8_report=flake8_report, paths=list(paths),
                           min_score=pylint_settings.get("min_score"), max_issues=flake8_settings.get("max_issues"),
                           pylint_args=pylint_args, flake8_args=flake8_args, ruff_report=ruff_report,
                           max_ruff_issues=ruff_settings.get("max_issues") if _ruff_wanted(
                               ruff_report, max_ruff_issues, the_descriptor) else None,
                           changed_lines=changed_lines, baselines=baseline_reports,
                           compare_branch=compare_branch or _descriptor_compare_branch(the_descriptor))
    result.notes.append(f"pylint {pylint_settings.note()}")
    result.notes.append(f"flake8 {flake8_settings.note()}")
    if _ruff_wanted(ruff_report, max_ruff_issues, the_descriptor):
        result.notes.append(f"ruff {ruff_settings.note()}")
    return result


def _descriptor_compare_branch(descriptor) -> str | None:
    """The compare branch the plan gives the lint job: lint's own, else coverage's (when written)."""
    if descriptor is None:
        return None
    return descriptor.quality.lint.compare_branch or profiles.resolve("coverage", {}, descriptor).get("compare_branch")


def _ruff_wanted(report: Path | None, flag: int | None, descriptor) -> bool:
    """ruff is checked when it has a report, a flag, or the descriptor asks for it (its
    section or its lint tools); the profiles' ruff bar alone does not make every
    `--path` run need ruff installed."""
    if report is not None or flag is not None:
        return True
    if descriptor is None or "ruff" in descriptor.quality.off or not descriptor.quality.lint.enabled:
        return False
    tools = descriptor.quality.lint.tools
    return descriptor.quality.ruff is not None or (tools is not None and "ruff" in tools)


command = gate_lint
