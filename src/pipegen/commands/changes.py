"""`pipegen changes`: publish, per project, whether this run's commits changed it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pipegen.commands._descriptor_option import descriptor_option


@click.command("changes")
@descriptor_option
@click.option("--publish/--no-publish", default=True, show_default=True,
              help="Publish CHANGED_<PROJECT> as job outputs (`pipegen output set`); else only print.")
def command(descriptor_path: Path, publish: bool) -> None:
    """Say which projects this run's commit range changed (push: before..after; pull/merge request:
    from the merge base; an Azure CI build of a merge commit: from its first parent; every project on
    schedules, manual runs, first pushes, Azure's other CI builds and when pipegen's own files change),
    and publish CHANGED_<PROJECT>=true|false for the jobs gated on it."""
    # pylint: disable=import-outside-toplevel  # only when the command runs
    from pipegen.ci.changes import project_selection
    from pipegen.ci.outputs import set_output
    from pipegen.plan.projects import changed_output

    chosen, files, why = project_selection(descriptor_path, os.environ)
    click.echo(f"pipegen changes: {why}; " + (f"{len(files)} file(s) changed" if files is not None
                                              else "every project runs"))
    for name, runs in chosen.items():
        click.echo(f"  {name}: {'runs' if runs else 'unchanged, skipped'}")
        if publish:
            set_output(changed_output(name), "true" if runs else "false", sys.stdout)
