"""`pipegen validate`: the descriptor and the graph built from it."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.commands._descriptor_option import descriptor_option


@click.command("validate")
@descriptor_option
def command(descriptor_path: Path) -> None:
    """Check the descriptor; every problem as file:line:col: message (exit 2). Paths it names
    that do not exist, outputs a custom job reads without seeing them, and a PROD approval left to its
    default, are warnings on stderr (exit 0)."""
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel
    from pipegen.descriptor.paths import missing_paths  # pylint: disable=import-outside-toplevel
    from pipegen.plan import build_plan  # pylint: disable=import-outside-toplevel
    from pipegen.plan.advice import unseen_outputs  # pylint: disable=import-outside-toplevel
    from pipegen.plan.validate import approval_warnings  # pylint: disable=import-outside-toplevel

    descriptor = load_descriptor(descriptor_path)
    plan = build_plan(descriptor)
    for warning in (*missing_paths(descriptor), *unseen_outputs(descriptor, plan),
                    *approval_warnings(descriptor, plan)):
        click.echo(str(warning), err=True)
    stages = " -> ".join(stage.title for stage in plan.stages)
    click.echo(f"{descriptor_path}: OK ({len(plan.jobs)} jobs; {stages}; targets: {', '.join(plan.targets)})")
