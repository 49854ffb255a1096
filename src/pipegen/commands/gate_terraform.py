"""`pipegen gate terraform`: a saved plan's summary, destroys and replacements flagged."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipegen.commands._gate_common import with_gate_options
from pipegen.errors import EvaluationError
from pipegen.gates.result import GateResult

MAX_PLAN_BYTES = 256 * 1024 * 1024


@click.command("terraform")
@click.option("--plan-json", required=True, help="`terraform show -json PLAN` output: a file, or - for stdin.")
@click.option("--environment", help="The environment the plan is for (shown in the summary).")
@click.option("--fail-on-destroy", is_flag=True, help="Fail when the plan destroys or replaces a resource "
                                                      "(default: flag it, pass).")
@with_gate_options
def gate_terraform(*, descriptor: Path | None, plan_json: str, environment: str | None,
                   fail_on_destroy: bool) -> GateResult:
    """Summarise a saved Terraform plan: resources to add, change, destroy and replace, each by
    address. Destroys and replacements are flagged, or fail with --fail-on-destroy.

    Exit 0 pass or flagged, 1 refused destroy, 2 bad usage, 3 not a readable plan."""
    del descriptor  # the switch comes as a flag: the pipeline carries it from the descriptor
    # pylint: disable-next=import-outside-toplevel  # each gate imports its own machinery on use
    from pipegen.gates import terraform
    if plan_json == "-":
        text = sys.stdin.read(MAX_PLAN_BYTES + 1)
    else:
        from pipegen.paths import read_bytes  # pylint: disable=import-outside-toplevel
        text = read_bytes(Path(plan_json), limit=MAX_PLAN_BYTES).decode("utf-8", errors="replace")
    if not text.strip():
        raise EvaluationError("no plan JSON on the input (did terraform show fail?)")
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise EvaluationError(f"the plan JSON is not readable: {exc}") from None
    return terraform.evaluate(plan, environment, fail_on_destroy)


command = gate_terraform
