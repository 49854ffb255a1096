"""Which projects a CI run concerns (several projects in one repository).

GitHub's `on.push.paths` and Azure's `trigger.paths` filter whole workflows, not jobs: with every
project's jobs in one file, the run itself has to say which projects changed. This compares the
run's commit range with each project's path globs: a push compares before..after, a pull/merge
request the merge base with its head. Azure names no previous commit for a CI build: a merge
commit (a merged pull request) is compared with its first parent, any other CI build runs every
project. Every project runs when the range cannot be known (a schedule, a manual run, a branch's
first push, a commit the clone does not have) and when pipegen's own files changed."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Mapping

from pipegen.init.detect.ci_competition import path_glob
from pipegen.records import record

NO_COMMIT = "0" * 40
BASE_VARIABLE = "PIPEGEN_CHANGES_BASE"  # outside CI (`pipegen run`): compare HEAD with this ref's merge base


@record
class CommitRange:
    """The commits to compare, or None for `base` with why every project runs."""

    base: str | None
    head: str | None  # None: the work tree (a local run: uncommitted changes count too)
    why: str


def _github_range(environ: Mapping[str, str]) -> CommitRange:
    # pylint: disable-next=import-outside-toplevel  # the event file, through the safe reader
    from pipegen.report_comment.context import github_event

    event = environ.get("GITHUB_EVENT_NAME", "")
    payload = github_event(environ)
    head = environ.get("GITHUB_SHA") or "HEAD"
    if event == "push":
        before = str(payload.get("before") or "")
        if not before or before == NO_COMMIT:
            return CommitRange(None, head, "a branch's first push")
        return CommitRange(before, str(payload.get("after") or head), f"push {before[:12]}..")
    if event in ("pull_request", "pull_request_target"):
        base = str(((payload.get("pull_request") or {}).get("base") or {}).get("sha") or "")
        return CommitRange(base or None, head, "a pull request from its merge base" if base else
                           "a pull request without a base commit")
    return CommitRange(None, head, f"a {event or 'manual'} run")


def _gitlab_range(environ: Mapping[str, str]) -> CommitRange:
    source = environ.get("CI_PIPELINE_SOURCE", "")
    head = environ.get("CI_COMMIT_SHA") or "HEAD"
    if source == "push":
        before = environ.get("CI_COMMIT_BEFORE_SHA", "")
        if not before or before == NO_COMMIT:
            return CommitRange(None, head, "a branch's first push")
        return CommitRange(before, head, f"push {before[:12]}..")
    if source == "merge_request_event" and environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        return CommitRange(environ["CI_MERGE_REQUEST_DIFF_BASE_SHA"], head, "a merge request from its merge base")
    return CommitRange(None, head, f"a {source or 'manual'} pipeline")


def _azure_range(environ: Mapping[str, str], root: Path) -> CommitRange:
    reason = environ.get("BUILD_REASON", "")
    head = environ.get("BUILD_SOURCEVERSION") or "HEAD"
    if reason == "PullRequest":
        target = environ.get("SYSTEM_PULLREQUEST_TARGETBRANCH", "").removeprefix("refs/heads/")
        if not target:
            return CommitRange(None, head, "a pull request without a target branch")
        return CommitRange(f"origin/{target}", head, f"a pull request from its merge base with {target}")
    if reason in ("IndividualCI", "BatchedCI"):
        # Azure gives no previous commit for a push. A merge commit's first parent is the branch
        # before the merge (a merged pull request); for any other commit the push may have brought
        # several commits, so the range is unknown.
        parents = (_git(root, "rev-list", "--parents", "-n", "1", head) or "").split()
        if len(parents) == 3:
            return CommitRange(parents[1], head, "a merge commit, from its first parent")
        return CommitRange(None, head, "a CI build of a commit that is not a merge (Azure does not say which "
                                       "commits the push brought)")
    return CommitRange(None, head, f"a {reason or 'manual'} build")


def commit_range(environ: Mapping[str, str], root: Path | None = None) -> CommitRange:
    """The range this run covers, from the CI's own variables."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return _github_range(environ)
    if environ.get("GITLAB_CI") == "true":
        return _gitlab_range(environ)
    if environ.get("TF_BUILD", "").lower() == "true":
        return _azure_range(environ, root or Path.cwd())
    event = environ.get("PIPEGEN_EVENT", "")  # `pipegen run --event`
    if event in ("schedule", "manual"):
        return CommitRange(None, None, f"a {event} run")
    if environ.get(BASE_VARIABLE):
        return CommitRange(environ[BASE_VARIABLE], None, f"changes since {environ[BASE_VARIABLE]}")
    return CommitRange(None, None, "not a CI run and no PIPEGEN_CHANGES_BASE (pipegen run --changed-since)")


def _git(root: Path, *args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def changed_files(root: Path, commits: CommitRange) -> tuple[list[str] | None, str]:
    """The files the range changes, or None (with why) when git cannot say."""
    if commits.base is None:
        return None, commits.why
    base = _git(root, "merge-base", commits.base, commits.head or "HEAD")
    if base is None:
        return None, f"{commits.base[:40]} is not in this clone (shallow, or rewritten history)"
    listed = _git(root, "diff", "--name-only", "-z", base.strip(), *((commits.head,) if commits.head else ()))
    if listed is None:
        return None, f"git could not compare {base.strip()[:12]} with {commits.head or 'the work tree'}"
    if commits.head is None:  # files not yet added count as changed too
        listed += _git(root, "ls-files", "--others", "--exclude-standard", "-z") or ""
    return [name for name in listed.split("\0") if name], commits.why


def selected(paths: tuple[tuple[str, tuple[str, ...]], ...], own_files: tuple[str, ...],
             files: list[str] | None) -> dict[str, bool]:
    """Project -> whether its jobs run: every one when the files are unknown or pipegen's own changed."""
    if files is None or any(name in own_files for name in files):
        return {name: True for name, _ in paths}
    result = {}
    for name, globs in paths:
        patterns = [path_glob(glob) for glob in globs]
        result[name] = any(pattern.match(file) for file in files for pattern in patterns)
    return result


def project_selection(descriptor_path: Path, environ: Mapping[str, str]) -> tuple[dict[str, bool], list[str] | None,
                                                                                  str]:
    """(project -> whether its jobs run, the changed files or None, why) for a `projects:` descriptor."""
    # pylint: disable=import-outside-toplevel  # the descriptor and plan only when asked
    from pipegen.descriptor.loader import read_any
    from pipegen.descriptor.projects import ProjectSet
    from pipegen.errors import UsageError
    from pipegen.paths import repository_of
    from pipegen.plan.projects import project_paths
    from pipegen.platforms import get_backend

    parsed = read_any(descriptor_path)
    if not isinstance(parsed, ProjectSet):
        raise UsageError(f"{descriptor_path} declares one project (no projects:): every job runs on every change")
    root = repository_of(descriptor_path.resolve())
    files, why = changed_files(root, commit_range(environ, root))
    own = (descriptor_path.resolve().relative_to(root).as_posix(),
           *(get_backend(target).path for target in parsed.first.targets))
    return selected(project_paths(parsed), own, files), files, why
