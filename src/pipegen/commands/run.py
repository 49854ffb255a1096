"""`pipegen run`: the plan executed on this machine (see pipegen.run)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from pipegen.commands._descriptor_option import descriptor_option


def _services(_context, _param, values: tuple[str, ...]) -> tuple[tuple[str, str, int], ...]:
    """NAME=HOST:PORT values as (name, host, port); a malformed one is a usage error (exit 2)."""
    parsed = []
    for value in values:
        name, _, address = value.partition("=")
        host, _, port = address.rpartition(":")
        if not name or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{value!r}: expected NAME=HOST:PORT, e.g. postgres=127.0.0.1:15432")
        parsed.append((name, host, int(port)))
    return tuple(parsed)


@click.command("run")
@descriptor_option
@click.option("--event", type=click.Choice(["push", "pull_request", "schedule", "manual"]), default="push",
              show_default=True, help="What started the run: decides which jobs run, as on CI.")
@click.option("--branch", default=None, help="The branch the run is for (default: the current git branch).")
@click.option("--stage", "stages", multiple=True, help="Run only this stage's jobs (repeatable).")
@click.option("--job", "job_ids", multiple=True, help="Run only this job (repeatable; adds to --stage).")
@click.option("--project", "projects", multiple=True,
              help="Several projects: run only this project's jobs and what they need (repeatable; adds to "
                   "--stage/--job).")
@click.option("--changed-since", default=None, metavar="REF",
              help="Several projects: run the jobs of the projects changed since REF's merge base (committed and "
                   "uncommitted changes), as CI runs those a push changed. Default: every project.")
@click.option("--approve", is_flag=True, help="Give the approvals environments require (PROD) without asking.")
@click.option("--parallel", type=click.IntRange(1, 32), default=min(4, os.cpu_count() or 1), show_default=True,
              help="Jobs run at the same time, at most.")
@click.option("--dry-run", is_flag=True, help="Print what would run and the exact commands, run nothing.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the summary (or with --dry-run, the commands) as JSON to this file.")
@click.option("--keep", is_flag=True, help="Keep the jobs' working copies and venvs (for debugging).")
@click.option("--venv-cache", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="PIPEGEN_RUN_VENV_CACHE",
              help="Seed each job's venv (hard links) from one made earlier with the same Python and install "
                   "inputs, then run its install command as usual. Default: every venv made from scratch.")
# uv is the jobs' default installer now (settings.installer): the flag that once made it an opt-in stays accepted.
@click.option("--uv", "use_uv", is_flag=True, envvar="PIPEGEN_RUN_UV", hidden=True)
@click.option("--service", "services", multiple=True, metavar="NAME=HOST:PORT", callback=_services,
              help="Where a service of tests.services runs on this machine (pipegen run starts no containers): "
                   "the jobs using it get $<NAME>_HOST and $<NAME>_PORT set to it. Repeatable.")
@click.option("--verbose", "-v", is_flag=True,
              help="Stream every line every job prints, prefixed with its job. Default: one line per job "
                   "(redrawn in place on a terminal, one per state change elsewhere), then the summary and "
                   "the failing jobs' last lines; every job's full output is in .pipegen/run/logs/.")
def command(  # pylint: disable=too-many-arguments,too-many-locals  # one per click option
        descriptor_path: Path, event: str, branch: str | None, stages: tuple[str, ...],
        job_ids: tuple[str, ...], projects: tuple[str, ...], changed_since: str | None, approve: bool,
        parallel: int, dry_run: bool, report_json: Path | None,
        keep: bool, venv_cache: Path | None, use_uv: bool, services: tuple[tuple[str, str, int], ...],
        verbose: bool) -> None:
    """Run the pipeline here: jobs in dependency order, each in a clean copy of the
    repository and a fresh venv, outputs passed as in CI, approvals asked or given.

    Exit 0 every job passed, 1 a job failed, was skipped or not approved, 2 bad usage or
    descriptor (or a value the jobs read is not set)."""
    # pylint: disable=import-outside-toplevel
    from pipegen import scrub
    from pipegen.ci.changes import BASE_VARIABLE
    from pipegen.commands._descriptor_option import load_plan
    from pipegen.generate.files import atomic_write
    from pipegen.paths import explicit_target
    from pipegen.run.console import is_terminal
    from pipegen.run.venv import find_uv
    from pipegen.run.runner import RunOptions, run
    from pipegen.run.selection import Event

    del use_uv  # accepted and ignored: uv is the default
    uv = find_uv(os.environ)
    _, plan = load_plan(descriptor_path)
    environ = dict(os.environ)
    if changed_since is not None:
        environ[BASE_VARIABLE] = changed_since
    scrub.register_names(plan.secrets)  # their values stay out of every line and file the run writes
    options = RunOptions(event=Event(event), branch=branch, stages=stages, job_ids=job_ids, projects=projects,
                         approve=approve,
                         interactive=sys.stdin.isatty() and sys.stdout.isatty(), parallel=parallel,
                         dry_run=dry_run, keep=keep, venv_cache=venv_cache.resolve() if venv_cache else None,
                         uv=uv, services=services, verbose=verbose, live=is_terminal(sys.stdout))
    try:
        code, report = run(plan, descriptor_path, options, environ,
                           confirm=lambda question: click.confirm(question, default=False))
    except KeyboardInterrupt:
        click.echo("pipegen run: interrupted; the running jobs were stopped", err=True)
        raise click.exceptions.Abort() from None
    if dry_run:
        _print_dry_run(report)
    if report_json is not None:
        atomic_write(explicit_target(Path.cwd(), report_json), scrub.redact(json.dumps(report, indent=2)) + "\n")
    click.get_current_context().exit(code)


def _print_dry_run(report: dict) -> None:
    click.echo(f"pipegen run --dry-run: event {report['event']}, branch {report['branch']}")
    for job in report["jobs"]:
        extra = f", after {', '.join(job['waits_for'])}" if job["waits_for"] else ""
        approval = f", approval: {job['approval']}" if job["approval"] else ""
        click.echo(f"\n{job['id']} ({job['stage']}): {job['status']}{extra}{approval}")
        if job["status"] != "would run":
            continue
        for step in job["commands"]:
            click.echo(f"  # {step['title']}")
            for line in step["script"].splitlines():
                click.echo(f"  {line}")
