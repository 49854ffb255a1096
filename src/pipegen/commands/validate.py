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
    # pylint: disable=import-outside-toplevel  # `pipegen --help` stays light
    from pipegen.descriptor.loader import read_any
    from pipegen.descriptor.paths import missing_paths
    from pipegen.descriptor.projects import ProjectSet
    from pipegen.plan import build_plan
    from pipegen.plan.advice import unseen_outputs
    from pipegen.plan.projects import build_projects_plan
    from pipegen.plan.validate import approval_warnings

    parsed = read_any(descriptor_path)
    # Several projects: each one's warnings (a shared key's once), and the plan holding them all.
    descriptors = [entry.descriptor for entry in parsed.projects] if isinstance(parsed, ProjectSet) else [parsed]
    plan = build_projects_plan(parsed) if isinstance(parsed, ProjectSet) else build_plan(parsed)
    warnings = []
    for descriptor in descriptors:
        own = plan if len(descriptors) == 1 else build_plan(descriptor)
        warnings += [*missing_paths(descriptor), *unseen_outputs(descriptor, own), *approval_warnings(descriptor, own)]
    for warning in dict.fromkeys(str(warning) for warning in warnings):
        click.echo(warning, err=True)
    stages = " -> ".join(stage.title for stage in plan.stages)
    click.echo(f"{descriptor_path}: OK ({len(plan.jobs)} jobs; {stages}; targets: {', '.join(plan.targets)})")
