"""The --descriptor option and target selection shared by validate, generate and check."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.errors import UsageError

descriptor_option = click.option(
    "--descriptor", "-d", "descriptor_path", type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DESCRIPTOR_NAME), show_default=True, help="The project descriptor.")

target_option = click.option(
    "--target", "-t", "targets", multiple=True, type=click.Choice(["github", "gitlab", "azure", "jenkins"]),
    help="Only this target (repeatable). Default: every target in the descriptor.")


def select_targets(declared: tuple[str, ...], requested: tuple[str, ...]) -> tuple[str, ...]:
    missing = [target for target in requested if target not in declared]
    if missing:
        raise UsageError(f"target {', '.join(missing)} is not in the descriptor's targets ({', '.join(declared)})")
    return tuple(target for target in declared if not requested or target in requested)
