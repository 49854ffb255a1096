"""The clean working copy a job runs in: the repository as it is on disk.

A snapshot is made once per run: a local `git clone` of HEAD, the origin's remote-tracking
branches and the local branches copied over (changed lines are compared with origin/main, or with
the local main when there is no remote, offline), then the work
tree laid over it: modified and untracked files that git does not ignore are included,
deleted ones removed. Each job then gets its own copy of the snapshot.

When the plan's checkouts fetch the git submodules, so does the snapshot: a submodule checked out on
disk is snapshotted the same way (its commit, with its work tree's changes), recursively; one that is
not is fetched from its URL at the commit the repository records, as the CI's checkout would.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError
from pipegen.project_files import submodule_paths

STATE_DIR = ".pipegen"  # never copied: it holds the runs themselves


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def repository_root(path: Path) -> Path:
    """The top of the git work tree holding `path`."""
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise UsageError(f"{path} is not inside a git repository: pipegen run copies the repository "
                         "(git init and commit first)")
    return Path(done.stdout.strip())


def current_branch(root: Path) -> str:
    branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return "HEAD" if branch == "HEAD" else branch


def head_commit(root: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _work_tree_files(root: Path) -> tuple[list[str], list[str]]:
    """(files present: tracked and untracked-not-ignored, tracked files deleted on disk)."""
    present = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    deleted = set(_git(root, "ls-files", "-z", "--deleted").split("\0"))
    keep = [path for path in dict.fromkeys(present) if path and path not in deleted
            and not path.startswith(STATE_DIR + "/")]
    return keep, [path for path in deleted if path]


def make_snapshot(root: Path, destination: Path, submodules: bool = False) -> Path:
    """A git clone of `root` at HEAD with the work tree's changes laid over it; with `submodules`, its git
    submodules too."""
    if not head_commit(root):
        raise UsageError(f"{root}: the repository has no commit yet; commit once before pipegen run")
    _git(root.parent, "clone", "--quiet", "--no-hardlinks", str(root), str(destination))
    remote = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True,
                            check=False)
    # The clone's origin is the local repository; make it look like the source's own origin.
    _git(destination, "fetch", "--quiet", "--prune", "--no-tags", str(root),
         "+refs/remotes/origin/*:refs/remotes/origin/*")
    # And its local branches: with no remote, changed lines are compared with the local mainline.
    _git(destination, "fetch", "--quiet", "--no-tags", "--update-head-ok", str(root), "+refs/heads/*:refs/heads/*")
    if remote.returncode == 0:
        _git(destination, "remote", "set-url", "origin", remote.stdout.strip())
    else:
        _git(destination, "remote", "remove", "origin")
    present, deleted = _work_tree_files(root)
    for relative in present:
        source, target = root / relative, destination / relative
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            shutil.copy2(source, target, follow_symlinks=False)
    for relative in deleted:
        (destination / relative).unlink(missing_ok=True)
    if submodules:
        _carry_submodules(root, destination)
    return destination


# git must never wait for a password or a host key nobody is there to give.
_UNATTENDED = {"GIT_TERMINAL_PROMPT": "0"}
SUBMODULE_FETCH_TIMEOUT = 600  # seconds: a slow host, never a hang


def _carry_submodules(root: Path, destination: Path) -> None:
    """Each submodule .gitmodules names that the repository records: snapshotted from its checkout on disk,
    else fetched."""
    for path in submodule_paths(root):
        if not _git(destination, "ls-files", "--stage", "--", path).startswith("160000 "):
            continue  # named in .gitmodules, but no submodule the repository records
        if (root / path / ".git").exists():
            make_snapshot(root / path, destination / path, submodules=True)
        else:
            _fetch_submodule(destination, path)


def _fetch_submodule(destination: Path, path: str) -> None:
    env = {**os.environ, **_UNATTENDED}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    try:
        done = subprocess.run(["git", "submodule", "--quiet", "update", "--init", "--recursive", "--", path],
                              cwd=destination, capture_output=True, text=True, check=False, env=env,
                              timeout=SUBMODULE_FETCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        why = f"no answer in {SUBMODULE_FETCH_TIMEOUT} s"
    else:
        if done.returncode == 0:
            return
        why = ((done.stderr.strip() or done.stdout.strip()).splitlines() or ["git failed"])[-1]
    raise EvaluationError(f"the git submodule {path} is not checked out here and could not be fetched ({why}): "
                          "check it out (`git submodule update --init --recursive`) and run again, or set "
                          "project.submodules: false in the descriptor if the jobs do not need it")


def copy_for_job(snapshot: Path, destination: Path) -> Path:
    shutil.copytree(snapshot, destination, symlinks=True)
    return destination


def relative_workdir(root: Path, project_dir: Path) -> Path:
    """Where the project (the descriptor's folder) sits inside the repository."""
    return Path(os.path.relpath(project_dir.resolve(), root.resolve()))
