"""`pipegen doctor`: check, through each platform's API, that the settings the set-up
checklist names exist and are at least as strict as the plan."""
from __future__ import annotations

import os
from pathlib import Path

import click

from pipegen import scrub
from pipegen.commands._descriptor_option import descriptor_option, select_targets, target_option
from pipegen.doctor.scopes import LOCATIONS, TOKENS
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
@click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="What to print.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Also write the JSON report.")
@click.option("--markdown", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write Markdown (default in CI: pipegen-reports/doctor.md, published to the CI summary).")
def command(descriptor_path: Path, targets: tuple[str, ...], api_url: str | None, project: str | None,
            output_format: str, report_json: Path | None, markdown: Path | None) -> None:
    # pylint: disable=import-outside-toplevel  # requests, the plan and the backends on use only
    from pipegen.commands._gate_common import _write, publish_markdown
    from pipegen.doctor import findings

    reports = _examine(descriptor_path, targets, api_url, project)
    renderings = {"table": findings.render_table, "json": findings.render_json, "markdown": findings.render_markdown}
    click.echo(renderings[output_format](reports), nl=False)
    code = findings.exit_code(reports)
    try:
        if report_json:
            _write(report_json, findings.render_json(reports))
        publish_markdown(findings.render_markdown(reports), "doctor", markdown)
    except OSError as exc:
        click.echo(scrub.clean(f"pipegen: could not write the doctor report: {exc}"), err=True)
        code = EXIT_UNAVAILABLE
    for report in reports:
        if report.error:
            click.echo(f"pipegen doctor: {report.error}", err=True)
    click.get_current_context().exit(code)


def _examine(descriptor_path: Path, targets: tuple[str, ...], api_url: str | None, project: str | None) -> list:
    # pylint: disable=import-outside-toplevel  # requests, the plan and the backends on use only
    from pipegen.descriptor import load_descriptor
    from pipegen.doctor.registry import diagnose

    descriptor = load_descriptor(descriptor_path)
    return diagnose(descriptor, select_targets(descriptor.targets, targets), os.environ, api_url, project)
