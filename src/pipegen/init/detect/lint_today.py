"""Where the repository's code stands today with each linter it uses: the issue counts (and
pylint's score) init turns into thresholds the repository passes now. The linters read the
code, they do not run it; a linter that is not installed where init runs is not measured."""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

from pipegen.errors import EvaluationError


@dataclass(frozen=True)
class LintToday:
    tool: str
    issues: int | None = None  # None: not measured
    score: float | None = None  # pylint only
    why: str = ""

    @property
    def clean(self) -> bool:
        return self.issues == 0

    @property
    def score_floor(self) -> float | None:
        """Today's pylint score rounded down to one decimal: a bar today's code meets."""
        return None if self.score is None else math.floor(self.score * 10) / 10


def measure(root: Path, tools: tuple[str, ...], targets: tuple[str, ...]) -> dict[str, LintToday]:
    # pylint: disable-next=import-outside-toplevel  # the gate module is only needed when init measures
    from pipegen.gates import lint
    from pipegen.gates.report_formats import PYLINT_ARGS  # pylint: disable=import-outside-toplevel

    paths = [Path(target) for target in targets] or [Path(".")]
    found = {}
    for tool in tools:
        if importlib.util.find_spec(tool) is None:
            found[tool] = LintToday(tool, why=f"{tool} is not installed where pipegen runs: not measured")
            continue
        try:
            if tool == "pylint":
                report = lint.run_pylint(paths, PYLINT_ARGS, cwd=root)  # as the lint job runs it
                found[tool] = LintToday(tool, len(report.issues), report.score,
                                        f"{len(report.issues)} messages, score {report.score:.2f}")
            elif tool == "flake8":
                count = len(lint.run_flake8(paths, cwd=root).issues)
                found[tool] = LintToday(tool, count, why=f"{count} issues")
            else:
                count = len(lint.run_ruff(paths, cwd=root))
                found[tool] = LintToday(tool, count, why=f"{count} issues")
        except EvaluationError as exc:
            found[tool] = LintToday(tool, why=f"{tool} could not measure the code: {str(exc)[:200]}")
    return found
