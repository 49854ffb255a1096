"""What every gate command shares: the report options, the mode, and how a result is
printed, written and published to the CI's summary surface."""
from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Callable

import click

from pipegen import ci, paths, scrub
from pipegen.errors import EXIT_UNAVAILABLE, EvaluationError, PipegenError, UsageError
from pipegen.gates import profiles
from pipegen.gates.result import GateResult, Mode, render_json, render_junit, render_markdown, render_table

REPORT_DIR = Path("pipegen-reports")
AUTO = "auto"


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, without nan and infinities (which every range check lets
    through: `nan < 0` and `nan > 100` are both false)."""

    name = "finite float range"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def resolve_mode(mode: str, environ=None) -> str:
    """`auto` becomes dry-run in a pull/merge-request run (detected from the CI's own
    variables) and enforce everywhere else; other modes stay as they are."""
    if mode != AUTO:
        return mode
    return (Mode.DRY_RUN if ci.is_pull_request(environ) else Mode.ENFORCE).value


MODES = (*(mode.value for mode in Mode), AUTO)


def effective_mode(gate: str, flag: str | None, descriptor: Path | None, environ=None) -> str:
    """--mode, else the descriptor's `quality.mode` for this gate, else $PIPEGEN_GATE_MODE, else
    enforce; `auto` resolved for this run. A CI variable, which nobody reviews, cannot relax a mode
    the descriptor wrote (the generated commands carry that one as --mode anyway)."""
    env = os.environ if environ is None else environ
    mode = flag
    if mode is None:
        found = profiles.read_descriptor(descriptor)
        mode = found.quality.gate_mode(gate) if found is not None else None
    if mode is None:
        mode = env.get(ci.GATE_MODE_VARIABLE) or Mode.ENFORCE.value
        if mode not in MODES:
            raise UsageError(f"{ci.GATE_MODE_VARIABLE}={mode!r} is not a gate mode ({', '.join(MODES)})")
    return resolve_mode(mode, env)


def gate_options(func: Callable) -> Callable:
    """Adds --mode, --report-json, --junit, --markdown and --descriptor to a gate command."""
    options = [
        click.option("--mode", type=click.Choice(MODES), default=None,
                     help="enforce: fail the build; dry-run: report only, exit 0; off: skip the gate; "
                          "auto: dry-run in pull/merge-request runs, enforce otherwise. Default: the descriptor's "
                          f"quality.mode for this gate, else ${ci.GATE_MODE_VARIABLE}, else enforce."),
        click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the result as JSON."),
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
    """A report file, written whole (atomically) and never through a symlink out of the
    repository, over a FIFO or a directory."""
    from pipegen.generate.files import atomic_write  # pylint: disable=import-outside-toplevel

    try:
        atomic_write(paths.explicit_target(Path.cwd(), path), text)
    except PipegenError as exc:
        raise OSError(str(exc)) from None


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
        try:
            paths.append_text(Path(env["GITHUB_STEP_SUMMARY"]), text + "\n")
        except PipegenError as exc:
            raise OSError(str(exc)) from None
    elif platform == "azure" and path is not None:
        click.echo(scrub.logging_command("##vso[task.uploadsummary]", str(path.resolve())))
    return path


def finish(result: GateResult, mode: str, report_json: Path | None, junit: Path | None,
           markdown: Path | None) -> int:
    """Prints the table, writes every requested report, and returns the exit code. Every
    rendering comes from the scrubbed result: no secret, no CI logging command from data."""
    gate_mode = Mode(mode)
    result = scrub.clean_data(result)
    click.echo(render_table(result, gate_mode))
    try:
        if report_json:
            _write(report_json, render_json(result, gate_mode))
        if junit:
            _write(junit, render_junit(result))
        publish_markdown(render_markdown(result, gate_mode), result.gate, markdown)
    except OSError as exc:
        # A report nobody can read is a gate nobody can trust: fail closed.
        click.echo(scrub.clean(f"pipegen: could not write the gate report: {exc}"), err=True)
        return EXIT_UNAVAILABLE
    return result.exit_code(gate_mode)


def skip_when_off(mode: str, gate: str) -> bool:
    """True (after saying so) when the gate is switched off."""
    if Mode(mode) is Mode.OFF:
        click.echo(f"gate {gate}: off (not evaluated)")
        return True
    return False


def evaluate_safely(gate: str, body: Callable[..., GateResult], **kwargs) -> GateResult:
    """Runs a gate body so that nothing it meets becomes a traceback: anything it could
    not read or reach (EvaluationError, OSError, or a bug) is a result in error, which
    fails closed with exit 3 and still lands in the JSON/JUnit/Markdown reports. Usage
    and descriptor errors (exit 2) propagate: they are not a gate outcome."""
    try:
        return body(**kwargs)
    except EvaluationError as exc:
        return GateResult(gate=gate, error=str(exc))
    except OSError as exc:
        return GateResult(gate=gate, error=f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except (PipegenError, click.ClickException, click.exceptions.Exit):
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught  # fail closed, never a traceback
        if os.environ.get("PIPEGEN_DEBUG"):
            raise
        return GateResult(gate=gate, error=f"unexpected {type(exc).__name__}: {exc} (PIPEGEN_DEBUG=1 shows where)")


def with_gate_options(func: Callable) -> Callable:
    """Decorator for a gate command body `func(descriptor=..., **kwargs) -> GateResult`:
    applies the shared options, honours --mode off, evaluates failing closed, writes the
    reports and exits with the result's code. The gate's name is the function's name
    without its `gate_` prefix."""
    gate = func.__name__.removeprefix("gate_")

    @gate_options
    @functools.wraps(func)
    def wrapper(mode: str | None, report_json: Path | None, junit: Path | None, markdown: Path | None,
                descriptor: Path | None, **kwargs) -> None:
        ctx = click.get_current_context()
        try:
            mode = effective_mode(gate, mode, descriptor)
            if skip_when_off(mode, gate):
                return
            result = evaluate_safely(gate, func, descriptor=descriptor, **kwargs)
        except PipegenError as exc:
            # Under `pipegen` main() would print these too; handled here so the exit code
            # is the same when the command is invoked directly (tests, other entry points).
            click.echo(scrub.clean(f"pipegen: {exc}" if "\n" not in str(exc) else str(exc)), err=True)
            ctx.exit(exc.exit_code)
        ctx.exit(finish(result, mode, report_json, junit, markdown))

    return wrapper
