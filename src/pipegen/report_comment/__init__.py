"""`pipegen report comment`: every gate's Markdown in one comment on the pull/merge request,
updated in place on each run (found by a hidden marker), on GitHub, GitLab, Azure DevOps
and Bitbucket (Jenkins posts through its repository's host).

Posting is best effort by design: the report helps reviewers, it is not a gate. Any
failure is reported and `post_report` returns normally; the token is only ever put in a
request header sent to the API's own host (pipegen.http_client). The reports are read
through the safe reader (pipegen.paths), and the body and every message go through the
scrubber (pipegen.scrub): no secret, no CI logging command from a report's text."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from pipegen import paths, scrub
from pipegen.generate.files import atomic_write
from pipegen.errors import EvaluationError, PipegenError
from pipegen.report_comment.base import CommentHost, HostError, Target

MARKER_PREFIX = "<!-- pipegen:report-comment"
# Reviewers read gates in pipeline order, the pipeline diff last.
ORDER = ("coverage", "lint", "sonar", "drift", "model")
DIFF_NAMES = ("diff", "pipeline-diff")  # `pipegen diff --summary` in pipegen-check
MAX_BODY = 60000  # under GitHub's 65536-character limit, the smallest of the hosts'
MAX_REPORT_BYTES = 1024 * 1024  # one gate's Markdown; the body is cut at MAX_BODY anyway
# Outcomes in which the comment is on the pull request; `--strict` fails on every other one.
POSTED = ("created", "updated")


def marker(ci: str, project: str | None = None) -> str:
    """One comment per pull request, CI system and project: GitHub Actions and Jenkins building the
    same pull request each keep their own comment instead of overwriting each other's, and so does
    each project of a repository holding several (`projects:`)."""
    return f"{MARKER_PREFIX} ci={ci} -->" if project is None else f"{MARKER_PREFIX} ci={ci} project={project} -->"


def _read_report(path: Path, root: Path) -> str:
    """A report's Markdown through the safe reader; a file it refuses (a FIFO, a link out
    of the reports' repository, one too large) is named in the body instead of its text."""
    try:
        data = paths.read_bytes(path, MAX_REPORT_BYTES, root=root, error=EvaluationError)
    except PipegenError as exc:
        return f"_pipegen: {path.name} was not included: {exc}_"
    return data.decode("utf-8", errors="replace").strip()


def collect(reports_dir: Path) -> list[tuple[str, str]]:
    """(name, Markdown) of every report under `reports_dir`, in reviewing order."""
    if not reports_dir.is_dir():
        return []
    root = paths.repository_of(reports_dir / "report.md")
    found = {}
    for path in sorted(reports_dir.rglob("*.md")):
        found.setdefault(path.stem, _read_report(path, root))

    def rank(name: str) -> tuple:
        if name in ORDER:
            return (0, ORDER.index(name), name)
        return (2 if name in DIFF_NAMES else 1, 0, name)

    return [(name, found[name]) for name in sorted(found, key=rank) if found[name]]


def compose(reports: list[tuple[str, str]], ci: str, commit: str | None = None, run_url: str | None = None,
            now: datetime | None = None, project: str | None = None) -> str:
    """The comment body: the marker, a one-line header, then each report as written."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"commit `{commit[:12]}`" if commit else None, f"[pipeline run]({run_url})" if run_url else None,
             f"updated {when}"]
    title = "## pipegen gate report" + (f": {project}" if project else "")
    lines = [marker(ci, project), title, "", " · ".join(fact for fact in facts if fact), ""]
    if not reports:
        lines.append("_No gate reports were produced in this run (did the gates run?)._")
    for _name, text in reports:
        lines += [text, ""]
    body = scrub.clean("\n".join(lines).rstrip() + "\n")
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "\n\n_…truncated: the full reports are in the pipeline's artifacts._\n"
    return body


@dataclass
class Outcome:
    """What happened, for the log and the exit code: posted (created/updated), skipped or failed."""

    action: str  # created | updated | skipped | fallback | failed
    message: str


def post(host: CommentHost, body: str, ci: str, project: str | None = None) -> Outcome:
    """Updates the comment carrying the marker, or creates it."""
    existing = host.find(marker(ci, project))
    if existing is not None:
        host.update(existing, body)
        return Outcome("updated", f"updated the report comment {existing} on {host.name}")
    created = host.create(body)
    return Outcome("created", f"created the report comment {created} on {host.name}")


def host_for(target: Target, token: str) -> CommentHost:
    # pylint: disable=import-outside-toplevel  # each host's module (and requests) on use only
    if target.host == "github":
        from pipegen.report_comment.github import GithubHost as host_class
    elif target.host == "gitlab":
        from pipegen.report_comment.gitlab import GitlabHost as host_class
    elif target.host == "azure":
        from pipegen.report_comment.azure import AzureHost as host_class
    elif target.host == "bitbucket":
        from pipegen.report_comment.bitbucket import BitbucketHost as host_class
    else:
        raise EvaluationError(f"unknown comment host {target.host!r}")
    return host_class(target, token)


def post_report(target: Target, token: str | None, body: str, ci: str,  # pylint: disable=too-many-arguments
                fallback: Callable[[str, str], str], token_variable: str = "the token variable", *,
                project: str | None = None) -> Outcome:
    """Posts `body`; on a read-only token (a fork) or a refusal, hands it to `fallback`
    (the CI's summary surface), which returns where it went. Never raises."""
    if target.read_only:
        where = fallback(body, "this pull request comes from a fork, whose token is read-only")
        return Outcome("fallback", f"fork pull request: the token cannot comment; the report is in {where}")
    try:
        token = scrub.credential(token, token_variable)
        if not token:
            where = fallback(body, "no token")
            return Outcome("fallback", f"no API token in the environment: not posted; the report is in {where}")
        return post(host_for(target, token), body, ci, project)
    except HostError as exc:
        message = scrub.clean(str(exc))
        if exc.status in (401, 403, 404):
            where = fallback(body, message)
            return Outcome("fallback", f"{message} (token without write access?); the report is in {where}")
        return Outcome("failed", message)
    except (EvaluationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # EvaluationError: the token cannot be sent as it is; the others: an answer not shaped as documented.
        what = str(exc) if isinstance(exc, EvaluationError) else \
            f"unexpected answer from {target.host}: {type(exc).__name__}: {exc}"
        return Outcome("failed", scrub.clean(what))


SUMMARY_FILE = "pipegen-report-comment.md"  # Azure's uploaded summary


def default_fallback(environ: Mapping[str, str] | None = None) -> Callable[[str, str], str]:
    """The CI's own summary surface: GitHub's step summary, Azure's uploaded summary, else the log."""
    env = os.environ if environ is None else environ

    def publish(body: str, why: str) -> str:
        text = scrub.clean(f"> pipegen could not post this as a comment: {why}.\n\n{body}")
        try:
            if env.get("GITHUB_STEP_SUMMARY"):
                paths.append_text(Path(env["GITHUB_STEP_SUMMARY"]), text + "\n")
                return "the job's step summary"
            if env.get("TF_BUILD", "").lower() == "true":
                path = Path(os.path.abspath(SUMMARY_FILE))
                atomic_write(paths.explicit_target(Path.cwd(), path), text)
                print(scrub.logging_command("##vso[task.uploadsummary]", str(path)))
                return "the run's summary tab"
        except PipegenError as exc:
            print(scrub.clean(f"pipegen report comment: {exc}"))
        print(text)
        return "the job log"

    return publish
