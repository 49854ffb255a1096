"""`pipegen output set NAME VALUE`."""
from __future__ import annotations

import sys

import click

from pipegen.ci.outputs import check_output, set_output, unpublished
from pipegen.errors import CheckFailed


@click.group("output")
def group() -> None:
    """Publish values to later jobs and stages in the CI's native way."""


@group.command("set")
@click.argument("name")
@click.argument("value")
def set_command(name: str, value: str) -> None:
    """Publish NAME=VALUE: GitHub $GITHUB_OUTPUT, Azure ##vso output variable,
    GitLab dotenv report, Jenkins outputs file (read back into env.NAME)."""
    platform = set_output(name, value, sys.stdout)
    click.echo(f"pipegen: output {name} published ({platform})", err=True)


@group.command("check")
@click.argument("names", nargs=-1, required=True)
def check_command(names: tuple[str, ...]) -> None:
    """Fail (exit 1) unless this job published every NAME with `pipegen output set`: a job
    that promised an output must not pass without it, or the failure shows one job later."""
    for name in names:
        check_output(name, "")
    missing = unpublished(list(names))
    if missing:
        verb = "was" if len(missing) == 1 else "were"
        raise CheckFailed(f"{', '.join(missing)} {verb} not published by this job: its step must call "
                          "`pipegen output set NAME VALUE` (is pipegen installed in the step's environment?)")
    click.echo(f"pipegen: outputs published: {', '.join(names)}", err=True)
