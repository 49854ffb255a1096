"""`pipegen report comment`: one self-updating comment with every gate's Markdown."""
from __future__ import annotations

import os
from pathlib import Path

import click

from pipegen.ci import PROJECT_VARIABLE
from pipegen.errors import EXIT_UNAVAILABLE
from pipegen.plan import REPORT_HOST_ENV, REPORT_TOKEN_ENV

HOSTS = ("github", "gitlab", "azure", "bitbucket")
# The generated report job maps the token there; the Jenkinsfile also sets the host (report.host).
TOKEN_ENV, HOST_ENV = REPORT_TOKEN_ENV, REPORT_HOST_ENV
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION", "GIT_COMMIT")


def _commit() -> str | None:
    return next((os.environ[name] for name in COMMIT_VARIABLES if os.environ.get(name)), None)


@click.group("report")
def group() -> None:
    """Reports for reviewers, collected from the gates' Markdown."""


@group.command("comment")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("pipegen-reports"),
              show_default=True, help="Where the gates wrote their Markdown (*.md, searched recursively).")
@click.option("--host", type=click.Choice(HOSTS), envvar=HOST_ENV,
              help=f"The repository host's API (Jenkins: required; elsewhere the platform running the job). "
                   f"Default: ${HOST_ENV}.")
@click.option("--api-url", help="API root, for self-hosted servers (default: from the CI's variables).")
@click.option("--token-env", default=TOKEN_ENV, show_default=True,
              help="Environment variable holding the API token (its value is never printed).")
@click.option("--print-body", is_flag=True, help="Print the comment body instead of posting it.")
@click.option("--strict", is_flag=True,
              help="In a pull/merge-request run, exit 3 whenever the comment was not posted (refused, unreachable, "
                   "no token, a fork's read-only token); default: report it, exit 0.")
# pylint: disable-next=too-many-arguments,too-many-positional-arguments  # one parameter per click option
def comment(reports_dir: Path, host: str | None, api_url: str | None, token_env: str, print_body: bool,
            strict: bool) -> None:
    """Post (or update in place) one comment on this run's pull/merge request with every
    gate report. A failure to post never fails the pipeline unless --strict: it is reported,
    and the report goes to the CI's summary instead."""
    # pylint: disable=import-outside-toplevel  # requests and the hosts on use only
    from pipegen import report_comment, scrub
    from pipegen.ci import ci_run_url
    from pipegen.report_comment import context

    scrub.register_names([token_env])
    ci, target = context.resolve(os.environ, host, api_url)
    # Several projects in one repository: each project's jobs carry its name; each keeps its own comment.
    project = os.environ.get(PROJECT_VARIABLE) or None
    body = report_comment.compose(report_comment.collect(reports_dir), ci or "local", _commit(), ci_run_url(),
                                  project=project)
    if print_body:
        click.echo(body, nl=False)
        return
    if target is None:
        click.echo("pipegen report comment: not a pull/merge-request run: nothing to post")
        return
    outcome = report_comment.post_report(target, os.environ.get(token_env), body, ci or "local",
                                         report_comment.default_fallback(), token_variable=token_env,
                                         project=project)
    click.echo(scrub.clean(f"pipegen report comment: {outcome.message}"))
    if outcome.action not in report_comment.POSTED:
        click.echo("pipegen report comment: the report was not posted as a comment"
                   + (" (--strict: exit 3)" if strict else " (this does not fail the pipeline)"), err=True)
        if strict:
            click.get_current_context().exit(EXIT_UNAVAILABLE)


command = group
