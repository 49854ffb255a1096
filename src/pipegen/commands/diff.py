"""`pipegen diff`: what a change to the committed pipeline files means, per platform."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen import ci, scrub
from pipegen.errors import EXIT_FAILED, EXIT_OK, EvaluationError

DEFAULT_COMPARE = "origin/main"


@click.command("diff")
@click.argument("head", required=False)
@click.option("--base", "base", metavar="REF", help="The old side (default: the merge base with --compare-branch).")
@click.option("--compare-branch", default=DEFAULT_COMPARE, show_default=True,
              help="The branch whose merge base is the default --base.")
@click.option("--markdown", "output", flag_value="markdown", help="Markdown, for a pull request comment.")
@click.option("--json", "output", flag_value="json", help="JSON.")
@click.option("--text", "output", flag_value="text", default=True, hidden=True)
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the Markdown here and publish it to the CI's summary (as the gates do).")
@click.option("--fail-on", type=click.Choice(["risky", "never"]), default="never", show_default=True,
              help="risky: exit 1 when a change weakens an approval, a gate or a branch restriction, or widens "
                   "a secret's reach.")
@click.option("--pull-requests-only", is_flag=True,
              help="Outside a pull/merge-request run, say so and exit 0 (for the generated TEST stage).")
@click.option("--repo", "repo_path", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The repository.")
# pylint: disable-next=too-many-locals  # the command's options
def command(head: str | None, base: str | None, compare_branch: str, output: str, summary: Path | None,
            fail_on: str, pull_requests_only: bool, repo_path: Path) -> int:
    """Compare the pipeline files at REF (default: the merge base with --compare-branch) with the
    working tree, or with HEAD when given, and say what changed: approvals, gates, branch rules,
    secret reach, needs, triggers, per platform where they differ."""
    if pull_requests_only and not ci.is_pull_request():
        click.echo("pipegen diff: not a pull/merge-request run; nothing to compare")
        return EXIT_OK
    from pipegen.diff import compare, render, sources  # pylint: disable=import-outside-toplevel  # git, on use

    repo = sources.open_repo(repo_path)
    base_sha = sources.resolve(repo, base) if base else sources.merge_base(repo, compare_branch)
    head_sha = sources.resolve(repo, head) if head else None
    old, new = sources.files_at(repo, base_sha), sources.files_at(repo, head_sha)
    per_platform = compare.compare_files(old, new, compare.release_branch(Path(repo.working_tree_dir)))
    platforms = tuple(sorted(per_platform))
    findings = render.merge(per_platform, platforms)
    head_name = head_sha[:12] if head_sha else "the working tree"
    title = f"Pipelines at {base_sha[:12]} → {head_name} ({', '.join(platforms) or 'no pipeline files'})"
    # What the files say (job names, commands, values) is data: scrubbed on its way out.
    if output == "json":
        click.echo(scrub.clean(render.as_json(findings, base_sha, head_sha or "working-tree")), nl=False)
    elif output == "markdown":
        click.echo(scrub.clean(render.markdown(findings, platforms, title)), nl=False)
    else:
        click.echo(scrub.clean(render.text(findings, platforms, title)), nl=False)
    if summary is not None:
        # pylint: disable-next=import-outside-toplevel  # the gates' modules: only for --summary
        from pipegen.commands._gate_common import publish_markdown

        try:
            publish_markdown(scrub.clean(render.markdown(findings, platforms, title)), "pipeline-diff", summary)
        except OSError as exc:
            raise EvaluationError(f"could not write the summary: {exc}") from None
    risky = any(finding.change.risky for finding in findings)
    return EXIT_FAILED if fail_on == "risky" and risky else EXIT_OK
