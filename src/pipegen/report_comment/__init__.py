"""`pipegen report comment`: every gate's Markdown in one comment on the pull/merge request,
updated in place on each run (found by a hidden marker), on GitHub, GitLab, Azure DevOps
and Bitbucket (Jenkins posts through its repository's host).

Posting is best effort by design: the report helps reviewers, it is not a gate. Any
failure is reported and `post_report` returns normally; the token is only ever put in a
request header, and scrubbed from every message in case a server echoes it back."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from pipegen.errors import EvaluationError
from pipegen.report_comment.base import CommentHost, HostError, Target

MARKER_PREFIX = "<!-- pipegen:report-comment"
# Reviewers read gates in pipeline order, the pipeline diff last.
ORDER = ("coverage", "lint", "sonar", "drift", "model")
DIFF_NAMES = ("diff", "pipeline-diff")  # `pipegen diff --summary` in pipegen-check
MAX_BODY = 60000  # under GitHub's 65536-character limit, the smallest of the hosts'


def marker(ci: str) -> str:
    """One comment per pull request and CI system: GitHub Actions and Jenkins building the
    same pull request each keep their own comment instead of overwriting each other's."""
    return f"{MARKER_PREFIX} ci={ci} -->"


def collect(reports_dir: Path) -> list[tuple[str, str]]:
    """(name, Markdown) of every report under `reports_dir`, in reviewing order."""
    if not reports_dir.is_dir():
        return []
    found = {}
    for path in sorted(reports_dir.rglob("*.md")):
        found.setdefault(path.stem, path.read_text(encoding="utf-8", errors="replace").strip())

    def rank(name: str) -> tuple:
        if name in ORDER:
            return (0, ORDER.index(name), name)
        return (2 if name in DIFF_NAMES else 1, 0, name)

    return [(name, found[name]) for name in sorted(found, key=rank) if found[name]]


def compose(reports: list[tuple[str, str]], ci: str, commit: str | None = None, run_url: str | None = None,
            now: datetime | None = None) -> str:
    """The comment body: the marker, a one-line header, then each report as written."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    facts = [f"commit `{commit[:12]}`" if commit else None, f"[pipeline run]({run_url})" if run_url else None,
             f"updated {when}"]
    lines = [marker(ci), "## pipegen gate report", "", " · ".join(fact for fact in facts if fact), ""]
    if not reports:
        lines.append("_No gate reports were produced in this run (did the gates run?)._")
    for _name, text in reports:
        lines += [text, ""]
    body = "\n".join(lines).rstrip() + "\n"
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "\n\n_…truncated: the full reports are in the pipeline's artifacts._\n"
    return body


@dataclass
class Outcome:
    """What happened, for the log and the exit code: posted (created/updated), skipped or failed."""

    action: str  # created | updated | skipped | fallback | failed
    message: str


def post(host: CommentHost, body: str, ci: str) -> Outcome:
    """Updates the comment carrying the marker, or creates it."""
    existing = host.find(marker(ci))
    if existing is not None:
        host.update(existing, body)
        return Outcome("updated", f"updated the report comment {existing} on {host.name}")
    created = host.create(body)
    return Outcome("created", f"created the report comment {created} on {host.name}")


def scrub(text: str, token: str | None) -> str:
    """Removes the token from a message, should a server or library have echoed it."""
    return text.replace(token, "***") if token else text


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


def post_report(target: Target, token: str | None, body: str, ci: str,
                fallback: Callable[[str, str], str]) -> Outcome:
    """Posts `body`; on a read-only token (a fork) or a refusal, hands it to `fallback`
    (the CI's summary surface), which returns where it went. Never raises."""
    if target.read_only:
        where = fallback(body, "this pull request comes from a fork, whose token is read-only")
        return Outcome("fallback", f"fork pull request: the token cannot comment; the report is in {where}")
    if not token:
        where = fallback(body, "no token")
        return Outcome("fallback", f"no API token in the environment: not posted; the report is in {where}")
    try:
        return post(host_for(target, token), body, ci)
    except HostError as exc:
        message = scrub(str(exc), token)
        if exc.status in (401, 403, 404):
            where = fallback(body, message)
            return Outcome("fallback", f"{message} (token without write access?); the report is in {where}")
        return Outcome("failed", message)
    except (EvaluationError, ValueError, KeyError, TypeError) as exc:
        return Outcome("failed", scrub(f"unexpected answer from {target.host}: {type(exc).__name__}: {exc}", token))


def default_fallback(environ: Mapping[str, str] | None = None) -> Callable[[str, str], str]:
    """The CI's own summary surface: GitHub's step summary, Azure's uploaded summary, else the log."""
    env = os.environ if environ is None else environ

    def publish(body: str, why: str) -> str:
        note = f"> pipegen could not post this as a comment: {why}.\n\n"
        if env.get("GITHUB_STEP_SUMMARY"):
            with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
                summary.write(note + body + "\n")
            return "the job's step summary"
        if env.get("TF_BUILD", "").lower() == "true":
            path = Path("pipegen-report-comment.md").resolve()
            path.write_text(note + body, encoding="utf-8")
            print(f"##vso[task.uploadsummary]{path}")
            return "the run's summary tab"
        print(note + body)
        return "the job log"

    return publish
