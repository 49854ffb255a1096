"""`pipegen generate`: write the pipeline files and print the set-up checklist."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.commands._descriptor_option import descriptor_option, load_plan, select_targets, target_option
from pipegen.cycle_gc import paused
from pipegen.errors import EXIT_FAILED, UsageError


@click.command("generate")
@descriptor_option
@target_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Repository root to write into (default: the descriptor's folder).")
@click.option("--force", is_flag=True,
              help="Overwrite files edited by hand or not written by pipegen (a .pipegen-backup is kept), and "
                   "write beside another pipeline of the same platform.")
@click.option("--checklist", "checklist_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the set-up checklist (of the pipelines in place) as Markdown to this file.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the set-up checklist.")
@paused()  # many short-lived objects, no cycles worth collecting early (see cycle_gc)
def command(descriptor_path: Path, targets: tuple[str, ...], out_dir: Path | None, force: bool,
            checklist_path: Path | None, quiet: bool) -> None:
    """Write .github/workflows/pipegen.yml, .gitlab-ci.yml, azure-pipelines.yml and/or Jenkinsfile."""
    # Imported here so `pipegen --help` stays light; none of these imports mlflow, requests or git.
    # pylint: disable=import-outside-toplevel
    from pipegen.generate import checklist
    from pipegen.generate.files import PendingWrite, WriteStatus, plan_write, write_all
    from pipegen.generate.render import render_file
    from pipegen.paths import check_regular, explicit_target

    root = out_dir if out_dir is not None else descriptor_path.parent
    descriptor, plan = load_plan(descriptor_path, root)
    selected = select_targets(descriptor.targets, targets)
    rendered = [render_file(plan, target) for target in selected]
    _refuse_owned(root, rendered, plan.descriptor_path)
    writable = [target for target in selected if not _competing(root, target, descriptor, force)]
    refused = len(selected) - len(writable)
    # Everything is read and checked first, then every file is written at once (all or nothing).
    outcomes = [plan_write(root, file, force=force) for file in rendered if file.target in writable]
    pending = [write for outcome in outcomes for write in outcome.writes]
    # The checklist is for the pipelines now in place: nothing to set up for one that was refused.
    in_place = tuple(target for target, outcome in zip(writable, outcomes) if outcome.status is not WriteStatus.REFUSED)
    items = checklist.checklist(plan, in_place)
    if checklist_path is not None and in_place:
        checklist_target = explicit_target(root, checklist_path)
        check_regular(checklist_target)
        pending.append(PendingWrite(checklist_target, checklist.render_markdown(items, plan.project)))
    write_all(pending)
    for outcome in outcomes:
        click.echo(f"{outcome.status.value:>9}  {outcome.path}")
        if outcome.status is WriteStatus.REFUSED:
            refused += 1
            from pipegen import scrub  # pylint: disable=import-outside-toplevel  # refusals only
            click.echo(scrub.clean(outcome.diff), err=True, nl=False)
            click.echo(f"pipegen: not overwriting {outcome.path}: {outcome.reason}. Move your change into "
                       f"{descriptor_path} (or a custom job), or run with --force (keeps a backup).", err=True)
        elif outcome.status is WriteStatus.FORCED:
            click.echo(f"           previous content kept in {outcome.backup}")
    if not quiet and in_place:
        click.echo("")
        click.echo(checklist.render_text(items), nl=False)
    if refused:
        click.get_current_context().exit(EXIT_FAILED)


def _refuse_owned(root: Path, rendered: list, descriptor: str) -> None:
    """Refuses (exit 2, nothing written) when a file to write was generated from another descriptor:
    two descriptors writing into one repository must not overwrite each other's pipelines."""
    # pylint: disable=import-outside-toplevel  # read only when generate runs
    from pipegen.generate.files import read_existing
    from pipegen.generate.render import owner_conflict

    owned = []
    for file in rendered:
        _, existing = read_existing(root, file.path)
        owner = owner_conflict(existing, descriptor)
        if owner is not None:
            owned.append(f"{root / file.path} is generated from {owner}, not {descriptor}")
    if owned:
        raise UsageError("not writing: " + "; ".join(owned) + ". Declare both as projects of one descriptor "
                         "(projects:), or write into another folder (--out); --force does not take a file over "
                         "from another descriptor (delete it first if that is what you mean)")


def _competing(root: Path, target: str, descriptor, force: bool) -> bool:
    """Says (on stderr) which pipelines pipegen did not write would run beside this platform's,
    each on its own line with why; True when that stops the write (no --force)."""
    # pylint: disable=import-outside-toplevel  # read only when generate runs
    from pipegen.init.detect.ci_competition import Mainline
    from pipegen.init.detect.ci_files import foreign_files

    foreign = foreign_files(root, target, Mainline(descriptor.triggers.branches, descriptor.triggers.pull_requests))
    if foreign and not force:
        several = len(foreign) > 1
        click.echo(f"pipegen: not writing the {target} pipeline: {'these' if several else 'this'} {target} "
                   f"pipeline{'s' if several else ''} pipegen did not write would run beside it on every push:",
                   err=True)
        for pipeline in foreign:
            click.echo(f"  {pipeline.path}: {pipeline.why}", err=True)
        click.echo(f"Move what {'they do' if several else 'it does'} into {descriptor.path} (custom jobs) and "
                   f"delete {'them' if several else 'it'}, or run with --force to write anyway. Pipelines that "
                   "run on other events (release, schedule, labels, docs) are kept and do not stop this.", err=True)
        return True
    for pipeline in foreign:
        click.echo(f"pipegen: warning: {pipeline.path} still runs beside pipegen's {target} pipeline "
                   f"({pipeline.why}); delete it once pipegen's does its work", err=True)
    return False
