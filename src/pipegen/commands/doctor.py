"""`pipegen doctor`: check, through each platform's API, that the settings the set-up
checklist names exist and are at least as strict as the plan."""
from __future__ import annotations

import os
from pathlib import Path

import click

from pipegen import scrub
from pipegen.commands._descriptor_option import descriptor_option, select_targets, target_option
from pipegen.doctor.scopes import LOCATIONS, TOKEN_FROM, TOKENS
from pipegen.errors import EXIT_UNAVAILABLE

_HELP = "\n\n".join(
    ["Ask each target's REST API whether the settings the set-up checklist names (secrets and variables by name, "
     "environments with their reviewers, approvals and branch rules, credentials ids) are in place and at least as "
     "strict as the plan. Only names and flags are read, never a secret's value.",
     "Exit 0 all ok; 1 something missing or weaker than the plan; 3 could not evaluate (no token, a token "
     "lacking a scope, the server unreachable).",
     "\b\nTokens (environment variables only) and the scopes they need:"
     + "".join(f"\n  {target}: {text}" for target, text in TOKENS.items()),
     "\b\nWhere to ask:" + "".join(f"\n  {target}: {text}" for target, text in LOCATIONS.items())])


@click.command(help=_HELP)
@descriptor_option
@target_option
@click.option("--api-url", default=None, help="The API's base URL (GitHub Enterprise, self-managed GitLab, the Azure "
                                              "organization, the Jenkins URL); with one --target.")
@click.option("--project", default=None, help="The repository, project or job to check (see above); with one --target.")
@click.option("--in-ci", is_flag=True, help="Check the platform of the CI running this command (the generated "
                                            "pipegen-check job's switch, settings.doctor).")
@click.option("--release-branch", default=None, help="With --in-ci: check only in a run of this branch (not on pull "
                                                     "requests); elsewhere say so and exit 0.")
@click.option("--token-env", default=None, help="Read the token from this environment variable instead of the "
                                                "platform's own (a CI secret named in settings.doctor.token_secret).")
@click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="What to print.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON report.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Markdown (default in CI: pipegen-reports/doctor.md, published to the CI summary).")
def command(descriptor_path: Path, targets: tuple[str, ...], api_url: str | None, project: str | None,
            in_ci: bool, release_branch: str | None, token_env: str | None, output_format: str,
            report_json: Path | None, markdown: Path | None) -> None:
    # pylint: disable=too-many-arguments,too-many-positional-arguments,too-many-locals  # one per option
    from pipegen.doctor import findings  # pylint: disable=import-outside-toplevel

    environ = dict(os.environ)
    if in_ci:
        targets, skipped = _this_ci(targets, release_branch, environ)
        if skipped:
            click.echo(f"pipegen doctor: {skipped}; not checked")
            return
    if token_env:
        scrub.register_names([token_env])
        environ[TOKEN_FROM] = token_env
    reports = _examine(descriptor_path, targets, api_url, project, environ)
    renderings = {"table": findings.render_table, "json": findings.render_json, "markdown": findings.render_markdown}
    click.echo(renderings[output_format](reports), nl=False)
    code = _write_reports(reports, report_json, markdown)
    for report in reports:
        if report.error:
            click.echo(f"pipegen doctor: {report.error}", err=True)
    click.get_current_context().exit(code)


def _write_reports(reports: list, report_json: Path | None, markdown: Path | None) -> int:
    """Writes the requested reports and the CI summary; the exit code (3 when a report could not be written)."""
    # pylint: disable=import-outside-toplevel
    from pipegen.commands._gate_common import _write, publish_markdown
    from pipegen.doctor import findings

    try:
        if report_json:
            _write(report_json, findings.render_json(reports))
        publish_markdown(findings.render_markdown(reports), "doctor", markdown)
    except OSError as exc:
        click.echo(scrub.clean(f"pipegen: could not write the doctor report: {exc}"), err=True)
        return EXIT_UNAVAILABLE
    return findings.exit_code(reports)


def _this_ci(targets: tuple[str, ...], release_branch: str | None, environ: dict[str, str]
             ) -> tuple[tuple[str, ...], str | None]:
    """The platform running this job as the one target, or why nothing is checked here (not in a
    CI, a pull request, another branch)."""
    from pipegen import ci  # pylint: disable=import-outside-toplevel

    platform = ci.detect(environ)
    if platform is None:
        return targets, "not running in GitHub Actions, GitLab CI, Azure Pipelines or Jenkins"
    if release_branch and (ci.is_pull_request(environ) or ci.branch_being_built(environ) != release_branch):
        return targets, f"runs on the release branch {release_branch} only"
    return (platform,), None


def _examine(descriptor_path: Path, targets: tuple[str, ...], api_url: str | None, project: str | None,
             environ: dict[str, str]) -> list:
    # pylint: disable=import-outside-toplevel  # requests, the plan and the backends on use only
    from pipegen.descriptor import load_descriptor
    from pipegen.doctor.registry import diagnose

    descriptor = load_descriptor(descriptor_path)
    return diagnose(descriptor, select_targets(descriptor.targets, targets), environ, api_url, project)
