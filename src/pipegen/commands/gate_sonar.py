"""`pipegen gate sonar`: the quality gate of the analysis the scanner just submitted."""
from __future__ import annotations

import os
from pathlib import Path

import click

from pipegen import scrub
from pipegen.commands._gate_common import FiniteFloatRange, with_gate_options
from pipegen.gates import profiles, sonar
from pipegen.gates.result import GateResult


@click.command("sonar")
@click.option("--report-task", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(".scannerwork/report-task.txt"), show_default=True,
              help="The scanner's report-task.txt (serverUrl, ceTaskId, dashboardUrl).")
@click.option("--timeout", type=FiniteFloatRange(0, 86400, min_open=True), default=None,
              help="Seconds to wait for Sonar's background task (default: descriptor, then profile).")
@click.option("--poll-interval", type=FiniteFloatRange(0, min_open=True), default=5.0, show_default=True,
              help="Seconds between polls of the background task.")
@click.option("--host-url", default=None,
              help="Sonar server URL; default: $SONAR_HOST_URL, else the report task's serverUrl.")
@click.option("--allow-no-gate/--no-allow-no-gate", default=None,
              help="Pass when no quality gate is attached (status NONE); default: descriptor, then profile.")
@click.option("--retries", type=click.IntRange(0, 20), default=5, show_default=True,
              help="Retries per request on connection errors and HTTP 429/5xx, with exponential backoff.")
@click.option("--retry-backoff", type=FiniteFloatRange(0), default=1.0, show_default=True,
              help="Backoff factor: waits factor * 2**(n-1) seconds before retry n.")
@click.option("--request-timeout", type=FiniteFloatRange(0, min_open=True), default=30.0, show_default=True,
              help="Seconds per HTTP request.")
@click.option("--profile", default=None, help="Gate profile (gates/NAME.yaml) instead of the descriptor's.")
@with_gate_options
def gate_sonar(  # pylint: disable=too-many-arguments  # one per click option
        *, descriptor: Path | None, report_task: Path, timeout: float | None, poll_interval: float,
        host_url: str | None, allow_no_gate: bool | None, retries: int, retry_backoff: float,
        request_timeout: float, profile: str | None) -> GateResult:
    """Wait for the Sonar analysis in report-task.txt, then check its quality gate.
    ERROR fails; NONE (no gate attached) fails unless allowed. The token is read from
    SONAR_TOKEN only, never from a flag, and never printed.

    Exit 0 pass, 1 gate failed, 2 bad usage, 3 Sonar unreachable, unauthorized, analysis
    failed, or timeout."""
    settings = profiles.resolve("sonar", {"timeout": timeout, "allow_no_gate": allow_no_gate},
                                profiles.read_descriptor(descriptor), profile)
    result = sonar.evaluate(
        report_task,
        token=scrub.credential(os.environ.get("SONAR_TOKEN"), "SONAR_TOKEN"),
        host_url=host_url or os.environ.get("SONAR_HOST_URL") or None,
        allow_no_gate=bool(settings.get("allow_no_gate", False)),
        poll=sonar.PollSettings(timeout=float(settings.get("timeout", 300.0)), poll_interval=poll_interval),
        http=sonar.HttpSettings(retries=retries, backoff=retry_backoff, request_timeout=request_timeout),
    )
    result.notes.append(settings.note())
    return result


command = gate_sonar
