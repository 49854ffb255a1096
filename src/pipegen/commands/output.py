"""`pipegen output set NAME VALUE`."""
from __future__ import annotations

import sys

import click

from pipegen.outputs import set_output


@click.group()
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
