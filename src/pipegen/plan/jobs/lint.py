"""The lint job: the chosen linters write reports in the formats the lint gate parses, never fixing."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.gates.compare_branch import candidates
from pipegen.gates.report_formats import FLAKE8_FORMAT, FLAKE8_MARKER, PYLINT_ARGS, RUFF_ARGS
from pipegen.plan.jobs.common import (
    gate_command,
    gate_mode,
    number,
    pipegen_for,
    project_environment,
    quote,
    report_path,
    source_targets,
)
from pipegen.plan.model import REPORT_DIR, Job, Step

LINTER_REQUIREMENTS = {"ruff": "ruff>=0.5,<1", "pylint": "pylint>=3.2,<5", "flake8": "flake8>=7,<8"}


def lint_tools(descriptor: Descriptor, thresholds) -> tuple[str, ...]:
    lint = descriptor.quality.lint
    if not lint.enabled:
        return ()
    off = descriptor.quality.off
    if lint.tools is not None:
        return tuple(tool for tool in lint.tools if tool not in off)
    return tuple(tool for tool in ("ruff", "pylint", "flake8")
                 if thresholds[tool] is not None or (lint.ratchet and tool != "ruff" and tool not in off))


def lint_command(tool: str, targets: str, out: str) -> str:
    """The tool's report in the format the gate parses, whatever the repository's settings."""
    if tool == "ruff":
        # Never fixing, whatever `fix` the repository's settings say: the gate counts what the change contains.
        return (f"python -m ruff check {' '.join(RUFF_ARGS)} --output-format=json --exit-zero {targets} "
                f"> {out}")
    if tool == "pylint":
        return f"python -m pylint {targets} {' '.join(PYLINT_ARGS)} --output-format=json2 > {out} || true"
    # Marked lines in the default format: the repository's format=/show-source/statistics cannot change them.
    return (f"python -m flake8 {targets} --no-show-source {quote('--format=' + FLAKE8_MARKER + FLAKE8_FORMAT)} "
            f"--output-file={out} --exit-zero")


def base_ref_shell(compare: str) -> str:
    """Sets $base_ref to the commit the baseline is linted at: the first of the gates' candidates
    for `compare` that exists (origin's branch, else the local one, or the other way round; see
    pipegen.gates.compare_branch), else the name itself, so `git worktree add` says what is missing."""
    tries = [f"git rev-parse --verify --quiet {quote(ref + '^{commit}')}" for ref, _ in candidates(compare)]
    return 'base_ref="$(' + " || ".join([*tries, f"echo {quote(compare)}"]) + ')"'


_LINT_FLAGS = {"ruff": ("--ruff-report", "--max-ruff-issues"), "pylint": ("--pylint-report", "--min-score"),
               "flake8": ("--flake8-report", "--max-issues")}


_LINT_REPORTS = {"ruff": "ruff.json", "pylint": "pylint.json", "flake8": "flake8.txt"}


def lint_job(descriptor: Descriptor, thresholds) -> Job | None:
    tools = lint_tools(descriptor, thresholds)
    if not tools:
        return None
    lint = descriptor.quality.lint
    compare = lint.compare_branch or thresholds["compare_branch"]
    targets = source_targets(descriptor)
    steps = [Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=())]
    flags = []
    for tool in tools:
        report = report_path(_LINT_REPORTS[tool])
        steps.append(Step(f"{tool} (report only; the gate decides)", lint_command(tool, targets, report)))
        flags.append(f"{_LINT_FLAGS[tool][0]} {report}")
        if thresholds[tool] is not None:
            flags.append(f"{_LINT_FLAGS[tool][1]} {number(thresholds[tool])}")
    if "compare-branch" in lint.ratchet:
        base = ['reports="$PWD/' + REPORT_DIR + '"', 'base="$(mktemp -d)/base"', base_ref_shell(compare),
                'git worktree add --detach "$base" "$base_ref"', 'cd "$base"']
        for tool in tools:
            base.append(lint_command(tool, targets, f'"$reports/base-{_LINT_REPORTS[tool]}"'))
            flags.append(f"--baseline {tool}={report_path('base-' + _LINT_REPORTS[tool])}")
        steps.append(Step(f"The same linters on {compare} (the ratchet's baseline)", "\n".join(base)))
    if "changed-lines" in lint.ratchet:
        flags.append("--changed-lines")
    if lint.ratchet:
        flags.append(f"--compare-branch {quote(compare)}")
    mode = gate_mode(descriptor, "lint")
    steps.append(Step("Lint gate", gate_command("lint", mode, *flags)))
    ratchet = f"; ratchet: {', '.join(lint.ratchet)} against {compare}" if lint.ratchet else ""
    linters = tuple(LINTER_REQUIREMENTS[tool] for tool in tools)
    if tools == ("ruff",):
        # ruff reads source files only (no imports followed, no plugins): the project's environment
        # would add minutes and change nothing it reports.
        environment = {"pip_packages": linters}
        note = "ruff only: it reads the source files and follows no imports. pipegen (core): the lint gate."
    else:
        environment = project_environment(descriptor, ("runtime", "dev"), linters)
        why = {"pylint": "pylint follows the project's imports",
               "flake8": "flake8's plugins come with the dev requirements"}
        reasons = [why[tool] for tool in tools if tool in why]
        note = (f"The project's runtime and dev requirements, the project and {', '.join(tools)}: "
                f"{'; '.join(reasons)}. pipegen (core): the lint gate.")
    return Job(
        id="lint", title=f"Lint ({' + '.join(tools)})", stage="test",
        comment="Static analysis in the project's environment; the lint gate fails the job"
                f"{ratchet or ' below the thresholds'}.",
        steps=tuple(steps), pipegen=pipegen_for(descriptor), install_note=note, **environment, timeout_minutes=15,
        full_history=bool(lint.ratchet), compare_branch=compare if lint.ratchet else None,
        artifacts=(REPORT_DIR,), junit=(report_path("lint.junit.xml"),), gate="lint", gate_mode=mode)
