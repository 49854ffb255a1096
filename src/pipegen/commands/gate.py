"""`pipegen gate coverage|lint|sonar|model`: each gate is its own module, imported on use."""
from __future__ import annotations

import click

from pipegen.cli import LazyGroup

GATES = {
    "coverage": "pipegen.commands.gate_coverage:command",
    "lint": "pipegen.commands.gate_lint:command",
    "sonar": "pipegen.commands.gate_sonar:command",
    "model": "pipegen.commands.gate_model:command",
}


@click.group(cls=LazyGroup, lazy_commands=GATES)
def group() -> None:
    """Quality gates: exit 0 pass, 1 fail, 2 bad usage, 3 could not evaluate (fails closed)."""
