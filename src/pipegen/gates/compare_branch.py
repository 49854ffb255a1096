"""What "changed" means for the changed-lines gates (coverage `diff_min`, the lint ratchets) and for
`pipegen run`: the lines a change adds or edits since it left its compare branch (diff-cover's
three-dot diff, plus staged and unstaged edits). One rule, used by every caller:

- Building the compare branch itself (its name is the branch being built): nothing committed is
  changed relative to itself; the base is HEAD, so only uncommitted edits count (none in CI).
- `origin/X` is origin's X; a repository without it (no remote yet, or a checkout that did not
  fetch it) uses the local branch X instead, and says so.
- `X` is the local branch X; a checkout without it (CI checkouts hold only origin's branches)
  uses origin/X, and says so.
- Neither: the gate cannot evaluate (exit 3), naming what to fetch; a shallow checkout whose
  history does not reach the compare branch is told to fetch its history.

The default compare branch is origin/main: with no remote, the local main.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from pipegen import ci
from pipegen.errors import EvaluationError

if TYPE_CHECKING:
    import subprocess

DEFAULT_COMPARE_BRANCH = "origin/main"
REMOTE = "origin"
_REMOTE_PREFIXES = (f"refs/remotes/{REMOTE}/", f"{REMOTE}/")
HISTORY_HINT = ("fetch the whole history (`git fetch --unshallow origin`; the generated jobs ask for it: "
                "GitHub fetch-depth: 0, GitLab GIT_DEPTH: 0, Azure fetchDepth: 0, Jenkins without shallow clone)")


@dataclass(frozen=True)
class Base:
    """Where changed lines are counted from."""

    asked: str  # the compare branch as asked for (or the default)
    ref: str  # what git diffs against: a ref name, or HEAD when building the compare branch itself
    shown: str  # how results name it
    note: str = ""  # set when the base is not exactly the ref asked for: what was used and why

    @property
    def itself(self) -> bool:
        """True when the branch being built is the compare branch (nothing committed is changed)."""
        return self.ref == "HEAD"


def branch_name(ref: str) -> str:
    """The branch a compare ref names: origin/X, refs/remotes/origin/X, refs/heads/X and X all name X."""
    for prefix in ("refs/heads/", *_REMOTE_PREFIXES):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def candidates(asked: str) -> list[tuple[str, str]]:
    """(git ref, shown name) in the order they are tried: the ref asked for, then the same
    branch on the other side (origin's copy of a local name, the local copy of origin's).
    The generated lint baseline step tries the same list in shell."""
    name = branch_name(asked)
    remote, local = (f"refs/remotes/{REMOTE}/{name}", f"{REMOTE}/{name}"), (f"refs/heads/{name}", name)
    if asked.startswith(_REMOTE_PREFIXES):
        return [remote, local]
    if asked.startswith("refs/heads/"):
        return [local, remote]
    if asked.startswith("refs/"):
        return [(asked, asked)]
    return [(asked, asked), remote]  # as git reads a bare name (a local branch, a tag, a commit), then origin's


def _git(cwd: Path | None, *args: str) -> subprocess.CompletedProcess:
    # Imported here: the plan and GitLab's backend read this module's names, and generate runs no git.
    import subprocess  # pylint: disable=import-outside-toplevel
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _exists(cwd: Path | None, ref: str) -> bool:
    return _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode == 0


def _shallow(cwd: Path | None) -> bool:
    return _git(cwd, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"


def current_branch(cwd: Path | None) -> str | None:
    """The branch checked out, None when HEAD is detached."""
    done = _git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD")
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def building(cwd: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The branch being built: as the CI (or `pipegen run`) says, else as git says."""
    return ci.branch_being_built(environ) or current_branch(cwd)


def find_base(asked: str | None, cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Base:
    """The base of the changed lines for the compare branch `asked` (None: the default), in the
    git repository at `cwd` (default: the current directory). Raises EvaluationError (exit 3)
    when there is none to compare with."""
    wanted = asked or DEFAULT_COMPARE_BRANCH
    default = "" if asked else " (the default compare branch)"
    if wanted.startswith("-"):
        raise EvaluationError(f"compare branch {wanted!r} is not a git ref")
    check = _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if check.returncode != 0:
        where = _git(cwd, "rev-parse", "--git-dir")
        raise EvaluationError("changed lines need a git repository with a commit: "
                              + (where.stderr.strip() or "HEAD has no commit yet"))
    branch = building(cwd, environ)
    if branch is not None and branch == branch_name(wanted):
        return Base(wanted, "HEAD", f"{branch} itself",
                    f"building {branch}, the compare branch itself: nothing committed is changed relative to itself")
    tried = candidates(wanted)
    for index, (ref, shown) in enumerate(tried):
        if not _exists(cwd, ref):
            continue
        note = _fallback_note(cwd, tried[0][1] + default, shown) if index else ""
        if index and not shown.startswith(f"{REMOTE}/"):
            shown += " (local)"
        _check_history(cwd, ref, shown)
        return Base(wanted, ref, shown, note)
    names = " nor ".join(f"{shown!r}" for _, shown in tried)
    fix = (f"fetch it (`git fetch origin {branch_name(wanted)}`, or a full clone; a single-branch CI checkout "
           "lacks it), or name the branch changes are merged into (quality.coverage.compare_branch, "
           "--compare-branch)")
    if _shallow(cwd):
        fix += "; this checkout is shallow too: " + HISTORY_HINT
    raise EvaluationError(f"compare branch {wanted!r}{default} not found in this git repository "
                          f"(neither {names} exists): {fix}")


def _fallback_note(cwd: Path | None, asked: str, used: str) -> str:
    """Why the other side's copy of the branch is used."""
    if used.startswith(f"{REMOTE}/"):
        why = f"no local branch {branch_name(used)}, as in a CI checkout"
    elif _git(cwd, "remote", "get-url", REMOTE).returncode != 0:
        why = "no remote named origin"
    else:
        why = "origin's branch was not fetched"
    return f"{asked} is not in this repository ({why}): changed lines are compared with {used}"


def _check_history(cwd: Path | None, ref: str, shown: str) -> None:
    """A three-dot diff needs where HEAD left the compare branch: a shallow checkout may not reach it."""
    if _git(cwd, "merge-base", ref, "HEAD").returncode == 0:
        return
    if _shallow(cwd):
        raise EvaluationError(f"this checkout is shallow: its history does not reach where HEAD left {shown}; "
                              + HISTORY_HINT)
    raise EvaluationError(f"HEAD and compare branch {shown} share no history: nothing to count changes from")


def changed_lines_diff(base: Base):
    """diff-cover's git diff reporter against `base`, in the current directory's repository."""
    # pylint: disable=import-outside-toplevel  # diff-cover only when changed lines are measured
    from diff_cover.diff_reporter import GitDiffReporter
    from diff_cover.git_diff import GitDiffTool
    from diff_cover.git_path import GitPathTool

    GitPathTool.set_cwd(os.getcwd())
    return GitDiffReporter(base.ref, git_diff=GitDiffTool("...", ignore_whitespace=False))
