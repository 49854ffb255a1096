"""`pipegen init`: inspect the repository and write a starter pipegen.yaml."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen import scrub
from pipegen.descriptor.model import DESCRIPTOR_NAME
from pipegen.errors import PipegenError
from pipegen.init.detect.ci_files import written_by_pipegen
from pipegen.init.measure.lint_today import Progress
from pipegen.init.projects import inspect_projects, render_projects
from pipegen.init.starter import (
    NO_TESTS,
    TARGETS,
    Detection,
    check_rendered,
    inspect_repository,
    render_descriptor,
    write_descriptor,
)
from pipegen.paths import explicit_target


def _tests_row(detection: Detection) -> str:
    if not detection.tests:
        return NO_TESTS
    levels = ", ".join(f"{level} {path}" for level, path in detection.tests.items())
    app = detection.app_folder
    return levels + (f" (importing {app}/'s code: run from the root with PYTHONPATH={app})" if app else "")


def _summary(detection: Detection, root: Path) -> list[tuple[str, str]]:
    """(label, what was found) rows, in the order the descriptor lists them."""
    rows = [("project", f"{detection.name.value} ({detection.name.source})"),
            ("python", f"{detection.python.value} ({detection.python.source})"),
            ("targets", f"{', '.join(detection.targets)} ({detection.targets_source})"),
            ("mainline", f"{detection.git.default_branch} ({detection.git.branch_source}); changed lines count "
                         f"against {detection.git.compare_branch}"),
            ("requirements", ", ".join(f"{kind} {path}" for kind, path in detection.requirements.items()) or "none"),
            ("install", f"{'; '.join(detection.install.value.splitlines())} ({detection.install.source})"
             if detection.install else "requirements files only"),
            ("source", f"{', '.join(detection.source)} ({detection.source_why})" if detection.source
             else "none (lint runs on the whole repository)"),
            ("tests", _tests_row(detection))]
    if detection.submodules:
        rows.append(("submodules", f"{', '.join(detection.submodules)} (.gitmodules): every job's checkout "
                                   "fetches them"))
    if detection.unplaced_tests:
        rows.append(("tests (left)", f"{', '.join(detection.unplaced_tests)}: one folder per level; merge it "
                                     "or run it from a custom job"))
    if detection.services:
        rows.append(("services", f"{', '.join(s.name for s in detection.services)} (from {detection.compose_file})"))
    for service, context in detection.test_env.built:
        rows.append(("built", f"{service} (build: {context}) is built from this repository: no CI service; "
                              "the tests run its code in the job"))
    for service, context in detection.test_env.built_services:
        rows.append(("built", f"{service} (build: {context}) is a service built from this repository with no "
                              "published image: publish it or use a stock image (see pipegen.yaml)"))
    if detection.test_env.env:
        rows.append(("test env", f"{', '.join(key for key, _ in detection.test_env.env)} "
                                 f"(from {', '.join(detection.test_env.sources)})"))
    rows.append(("lint", f"{', '.join(detection.linters)} ({detection.linters_why}); "
                         + ("ratchet on changed lines" if detection.ratchet else "held at zero")))
    for tool in detection.linters:  # one line each: a linter not measured says how to measure it
        today = detection.lint_today.get(tool)
        rows.append(("lint today", f"{tool} {today.why if today else 'not measured (--no-measure)'}"
                                   + (f"; {today.partial}: no min_score yet" if today and today.partial else "")))
    rows += _ci_rows(detection, root)
    for path in detection.other_ci:
        rows.append(("other CI", f"{path}: retire it once the pipegen pipeline runs"))
    if detection.dockerfile:
        rows.append(("image", f"{detection.dockerfile}: image block written; set REGISTRY in CI; "
                              "deployments left commented (write your deploy command)"))
    if detection.training:
        rows.append(("model", f"{detection.training.found}: model block written commented out "
                              "(pick metrics, publish MODEL_VERSION, then uncomment)"))
    if detection.dags:
        rows.append(("airflow", "dags/ found: a commented custom job shows where to publish them"))
    return rows


def _projects_summary(detection: Detection, projects: list) -> list[tuple[str, str]]:
    """Several projects: the repository's targets, then one row per project."""
    rows = [("targets", f"{', '.join(detection.targets)} ({detection.targets_source})")]
    for project in projects:
        found = project.detection
        after = f"; after {', '.join(project.depends_on)}" if project.depends_on else ""
        rows.append(("project", f"{project.name} in {project.folder}: python {found.python.value}; "
                                f"{_tests_row(found)}{after}"))
    return rows


def _ci_rows(detection: Detection, root: Path) -> list[tuple[str, str]]:
    """Each CI file already there: competing with pipegen's pipeline, kept beside it, or pipegen's own path."""
    rows = []
    for target, competing in detection.foreign_ci.items():
        for pipeline in competing:
            rows.append(("competing CI", f"{pipeline.path}: a {target} pipeline pipegen did not write that "
                                         f"{pipeline.why}; both would run on every push. Move what it does into "
                                         "pipegen.yaml (a custom job) and delete it: `pipegen generate` refuses to "
                                         "write beside it until then (or with --force)"))
    for pipeline in detection.kept_ci:
        rows.append(("kept CI", f"{pipeline.path}: {pipeline.why}"))
    for target, files in detection.ci_files.items():
        others = {pipeline.path for pipeline in detection.existing_ci.get(target, ())}
        for path in (path for path in files if path not in others):
            rows.append(("existing CI", f"{path}: written by pipegen; `pipegen generate` keeps it in step with the "
                                        "descriptor" if written_by_pipegen(root / path) else
                                        f"{path}: `pipegen generate` writes there and refuses to replace a file "
                                        "it did not write without --force"))
    return rows


class _Stderr(Progress):
    """Measuring says what it does on stderr as it goes (stdout keeps the summary)."""

    def begin(self, text: str) -> None:
        click.echo(text, nl=False, err=True)

    def end(self, text: str) -> None:
        click.echo(f" {text}" if text else "", err=True)


def _starter(root: Path, targets: tuple[str, ...], measure: bool, repository_code: bool
             ) -> tuple[Detection, list, str]:
    """(the repository's detection, its projects when it holds several, the descriptor's text)."""
    several = inspect_projects(root, targets, measure, repository_code=repository_code, progress=_Stderr())
    if several is not None:
        return several[0], several[1], render_projects(*several)
    detection = inspect_repository(root, targets, measure_lint=measure, repository_code=repository_code,
                                   progress=_Stderr())
    return detection, [], render_descriptor(detection)


@click.command("init")
@click.option("--path", "root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Root of the repository to inspect.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Descriptor to write (default: {DESCRIPTOR_NAME} in the --path root).")
@click.option("--target", "targets", type=click.Choice(TARGETS), multiple=True,
              help="CI platform to generate for; repeat for several. Overrides detection from the git remote.")
@click.option("--force", is_flag=True,
              help="Replace an existing descriptor; the old one is kept as <file>.bak (or .bak.N).")
@click.option("--measure/--no-measure", default=True, show_default=True,
              help="Measure today's lint to set thresholds the code passes: the repository's linters at the "
                   "versions the lint job installs (in an environment pipegen makes once, with uv when it can), "
                   "on a throw-away copy of the code, without running any of the repository's code.")
@click.option("--run-repository-code", "repository_code", is_flag=True,
              help="Measure with the repository's own linter plugins and hooks (pylint init-hook and "
                   "load-plugins, flake8 local plugins, plugins installed here), using the linters installed "
                   "where pipegen runs. This RUNS CODE FROM THE REPOSITORY: use it only on code you trust. "
                   "Files are still linted in a throw-away copy.")
def command(root: Path, output: Path | None, targets: tuple[str, ...], force: bool, measure: bool,
            repository_code: bool) -> None:
    """Inspect the repository (git remote, packaging metadata, lock files, requirements*.txt,
    tests/, linters' settings, docker-compose, Dockerfile, MLproject or train.py, existing CI
    files) and write a starter pipegen.yaml that validates and that the code passes today.
    Writes that one file and nothing else, runs none of the repository's code (unless
    --run-repository-code), and never overwrites an existing file without --force."""
    ctx = click.get_current_context()
    output = output if output is not None else root / DESCRIPTOR_NAME
    try:
        if measure:
            click.echo("pipegen init: measuring today's lint", err=True)
        detection, projects, text = _starter(root, targets, measure, repository_code)
        check_rendered(text, output)
        # Never through a symlink out of the repository; a path the user names outside it is theirs.
        outcome = write_descriptor(text, explicit_target(root, output), force)
    except PipegenError as exc:
        # Handled here as well as in main() so the exit code is the same when the command
        # is invoked directly (tests, other entry points).
        click.echo(scrub.clean(f"pipegen: {exc}"), err=True)
        ctx.exit(exc.exit_code)
    click.echo(scrub.clean(f"pipegen init: inspected {root.resolve()}"))
    rows = _projects_summary(detection, projects) if projects else _summary(detection, root)
    for label, found in rows:  # what the repository's files say is data: scrubbed
        click.echo(scrub.clean(f"  {label:<13}{found}"))
    if not outcome.written:
        click.echo(f"{output} is already up to date; nothing written")
    elif outcome.backup is not None:
        click.echo(f"wrote {output} (the previous file is kept as {outcome.backup})")
    else:
        click.echo(f"wrote {output}")
    click.echo(f"next: review {output}, then run `pipegen generate`")
