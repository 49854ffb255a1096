"""The --descriptor option and target selection shared by validate, generate and check."""
from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import click

from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.errors import UsageError

if TYPE_CHECKING:
    from pipegen.descriptor.model import Descriptor
    from pipegen.plan import Plan

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


def descriptor_name(descriptor_path: Path, root: Path) -> str:
    """The descriptor as the generated files' header names it: relative to the repository root they
    are written into (so two descriptors writing into one repository never name the same owner)."""
    relative = os.path.relpath(descriptor_path.resolve(), root.resolve())
    return descriptor_path.name if relative.startswith("..") else PurePath(relative).as_posix()


def load_plan(descriptor_path: Path, root: Path | None = None) -> tuple[Descriptor, Plan]:
    """(the descriptor with the shared settings, the plan) of a descriptor file: one project, or
    several (`projects:`), whose one plan holds every project's jobs."""
    # pylint: disable=import-outside-toplevel  # generate's imports stay light
    from pipegen.descriptor.loader import read_any
    from pipegen.descriptor.projects import ProjectSet
    from pipegen.plan import build_plan
    from pipegen.records import replace

    parsed = read_any(descriptor_path)
    if isinstance(parsed, ProjectSet):
        from pipegen.plan.projects import build_projects_plan
        descriptor, plan = parsed.first, build_projects_plan(parsed)
    else:
        descriptor, plan = parsed, build_plan(parsed)
    if root is None:
        return descriptor, plan
    return descriptor, replace(plan, descriptor_path=descriptor_name(descriptor_path, root))
