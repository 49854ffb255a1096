"""`pipegen check`: fail CI when committed pipeline files are stale or edited by hand."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen import scrub
from pipegen.commands._descriptor_option import descriptor_option, load_plan, select_targets, target_option
from pipegen.cycle_gc import paused
from pipegen.errors import EXIT_FAILED, UsageError


@click.command("check")
@descriptor_option
@target_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Repository root holding the files (default: the descriptor's folder).")
@paused()  # many short-lived objects, no cycles worth collecting early (see cycle_gc)
def command(descriptor_path: Path, targets: tuple[str, ...], out_dir: Path | None) -> None:
    """Exit 1 with a unified diff when a generated file differs from what generate would write."""
    # pylint: disable=import-outside-toplevel
    from pipegen.generate.files import read_existing, unified_diff
    from pipegen.generate.render import is_hand_edited, owner_conflict, render_file

    root = out_dir if out_dir is not None else descriptor_path.parent
    descriptor, plan = load_plan(descriptor_path, root)
    problems = 0
    for target in select_targets(descriptor.targets, targets):
        expected = render_file(plan, target)
        path = root / expected.path
        _, actual = read_existing(root, expected.path)  # refuses a symlink out of the repository, a FIFO...
        owner = owner_conflict(actual, plan.descriptor_path)
        if owner is not None:
            raise UsageError(f"{path} is generated from {owner}, not {plan.descriptor_path}: check it with "
                             f"--descriptor {owner}, or declare both as projects of one descriptor (projects:)")
        if actual is None:
            problems += 1
            click.echo(f"missing    {path} (run `pipegen generate`)")
            continue
        if actual == expected.text:
            click.echo(f"current    {path}")
            continue
        problems += 1
        state = "edited" if is_hand_edited(actual) else "stale"
        click.echo(f"{state:<10} {path}")
        # The committed side is data (an Azure file holds `##vso[...]` lines): scrubbed before it reaches the log.
        click.echo(scrub.clean(unified_diff(actual, expected.text, expected.path, "committed", "pipegen generate")),
                   nl=False)
    if problems:
        click.echo(f"pipegen check: {problems} file(s) differ from {descriptor_path}; "
                   "run `pipegen generate` and commit the result.", err=True)
        click.get_current_context().exit(EXIT_FAILED)
