"""`pipegen gate coverage`: total and changed-lines coverage against their thresholds."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.commands._gate_common import FiniteFloatRange, with_gate_options
from pipegen.gates import coverage, profiles
from pipegen.gates.result import GateResult


@click.command("coverage")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=Path("coverage.xml"),
              show_default=True, help="Cobertura XML written by `coverage xml`.")
@click.option("--min", "min_total", type=FiniteFloatRange(0, 100), default=None,
              help="Minimum total coverage percent (default: descriptor, then profile).")
@click.option("--diff-min", type=FiniteFloatRange(0, 100), default=None,
              help="Minimum coverage percent of the changed lines (default: descriptor, then profile).")
@click.option("--compare-branch", default=None,
              help="The branch changes are merged into: origin/X (else the local X) or X (else origin/X). "
                   "Default: descriptor, else origin/main (with no remote, the local main). Building that "
                   "branch itself, nothing committed counts as changed.")
@click.option("--no-diff", is_flag=True, help="Do not check changed lines (no git needed).")
@click.option("--precision", type=click.IntRange(0, 10), default=0, show_default=True,
              help="Decimals of the figure, as coverage's [report] precision; a threshold with more "
                   "decimals implies more.")
@click.option("--profile", default=None, help="Gate profile (gates/NAME.yaml) instead of the descriptor's.")
@with_gate_options
def gate_coverage(  # pylint: disable=too-many-arguments  # one per click option
        *, descriptor: Path | None, report: Path, min_total: float | None, diff_min: float | None,
        compare_branch: str | None, no_diff: bool, precision: int, profile: str | None) -> GateResult:
    """Total coverage (lines and branches, as `coverage report` counts them) from a Cobertura
    XML report, and coverage of the lines changed against a compare branch (diff-cover).

    Exit 0 pass, 1 below a threshold, 2 bad usage, 3 report missing or unreadable."""
    thresholds = profiles.resolve(
        "coverage", {"min": min_total, "diff_min": diff_min, "compare_branch": compare_branch},
        profiles.read_descriptor(descriptor), profile)
    result = coverage.evaluate(report, min_total=thresholds.get("min"),
                               diff_min=None if no_diff else thresholds.get("diff_min"),
                               compare_branch=thresholds.get("compare_branch"), precision=precision)
    result.notes.append(thresholds.note())
    if no_diff:
        result.notes.append("changed lines not checked (--no-diff)")
    return result


command = gate_coverage
