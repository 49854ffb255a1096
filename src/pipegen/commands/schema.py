"""`pipegen schema`: the descriptor's JSON Schema, for editors' YAML language servers."""
from __future__ import annotations

import click

from pipegen.descriptor.schema import schema_text


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of pipegen.yaml (point yaml-language-server at it)."""
    click.echo(schema_text(), nl=False)
