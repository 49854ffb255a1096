"""What every gate command shares: the report options, the mode, and how a result is
printed, written and published to the CI's summary surface."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Callable

import click

from pipegen import ci
from pipegen.gates.result import GateResult, Mode, render_json, render_junit, render_markdown, render_table

REPORT_DIR = Path("pipegen-reports")


def gate_options(func: Callable) -> Callable:
    """Adds --mode, --report-json, --junit, --markdown and --descriptor to a gate command."""
    options = [
        click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.ENFORCE.value,
                     show_default=True, envvar="PIPEGEN_GATE_MODE",
                     help="enforce: fail the build; dry-run: report only, exit 0; off: skip the gate."),
        click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the result as JSON."),
        click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write JUnit XML, one testcase per condition."),
        click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write Markdown (default in CI: pipegen-reports/GATE.md, published to the CI summary)."),
        click.option("--descriptor", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Read thresholds from this descriptor (default: ./pipegen.yaml when present)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def publish_markdown(text: str, gate: str, explicit: Path | None, environ=None) -> Path | None:
    """Puts the Markdown where the current CI shows summaries; returns the file written."""
    env = os.environ if environ is None else environ
    platform = ci.detect(env)
    path = explicit
    if path is None and platform is not None:
        path = REPORT_DIR / f"{gate}.md"
    if path is not None:
        _write(path, text)
    if platform == "github" and env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(text + "\n")
    elif platform == "azure" and path is not None:
        click.echo(f"##vso[task.uploadsummary]{path.resolve()}")
    return path


def finish(result: GateResult, mode: str, report_json: Path | None, junit: Path | None,
           markdown: Path | None) -> int:
    """Prints the table, writes every requested report, and returns the exit code."""
    gate_mode = Mode(mode)
    click.echo(render_table(result, gate_mode))
    if report_json:
        _write(report_json, render_json(result, gate_mode))
    if junit:
        _write(junit, render_junit(result))
    publish_markdown(render_markdown(result, gate_mode), result.gate, markdown)
    return result.exit_code(gate_mode)


def skip_when_off(mode: str, gate: str) -> bool:
    if Mode(mode) is Mode.OFF:
        click.echo(f"gate {gate}: off (not evaluated)")
        return True
    return False


def with_gate_options(func: Callable) -> Callable:
    """Decorator for a gate command body `func(**kwargs) -> GateResult`: applies the
    shared options, honours --mode off, and exits with the result's code."""

    @gate_options
    @functools.wraps(func)
    def wrapper(mode: str, report_json: Path | None, junit: Path | None, markdown: Path | None,
                descriptor: Path | None, **kwargs) -> None:
        if skip_when_off(mode, func.__name__.removeprefix("gate_")):
            return
        result = func(descriptor=descriptor, **kwargs)
        click.get_current_context().exit(finish(result, mode, report_json, junit, markdown))

    return wrapper
