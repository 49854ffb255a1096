"""The throw-away copy the linters measure: the files they read, and nothing of the repository's own
folder for them to write in.

What is copied: every file under the folders linted, and the files beside them on the way up to the
repository's root (where the settings live: pyproject.toml, setup.cfg, .pylintrc, ruff.toml...). In a
git repository these are the files git lists (tracked, and untracked ones it does not ignore), so an
ignored virtual environment or build output is not linted, as in CI; elsewhere a walk that leaves the
usual environment and cache folders aside. Every file is read through the safe reader (a regular file,
inside the repository, size-capped); a symlink is copied as the file it points to when that stays inside.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from pipegen.errors import UsageError
from pipegen.paths import inside, read_bytes

# Folders no linter run in CI would see: environments, caches, build output (ruff's default excludes).
LEFT_ASIDE = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".direnv", ".eggs", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".pytype", ".ipynb_checkpoints", "__pycache__", "__pypackages__", "node_modules",
    "site-packages", "build", "dist", "_build", "buck-out", ".pipegen",
})


def _ancestors(target: PurePosixPath) -> list[PurePosixPath]:
    """The folders above `target` up to the root ("."), nearest last."""
    return list(reversed(target.parents)) if target != PurePosixPath(".") else []


def _left_aside(path: PurePosixPath) -> bool:
    return any(part in LEFT_ASIDE for part in path.parts[:-1])


def _wanted(path: PurePosixPath, targets: list[PurePosixPath]) -> bool:
    for target in targets:
        if target == PurePosixPath(".") or target == path or target in path.parents:
            return True
        if path.parent in _ancestors(target):
            return True
    return False


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        done = subprocess.run(["git", "-c", "core.fsmonitor=false", "-C", str(root), "ls-files", "-z", *args],
                              capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [name for name in done.stdout.decode("utf-8", errors="surrogateescape").split("\0") if name]


def _git_listing(root: Path) -> list[str] | None:
    """Files git lists under `root`: tracked ones as they are (CI lints those), untracked ones it does not
    ignore except in environment and cache folders; None outside a work tree."""
    tracked = _git(root, "--cached")
    untracked = _git(root, "--others", "--exclude-standard")
    if tracked is None or untracked is None:
        return None
    return sorted({*tracked, *(name for name in untracked if not _left_aside(PurePosixPath(name)))})


def _walk_listing(root: Path) -> list[str]:
    found = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(name for name in folders
                            if name not in LEFT_ASIDE and not (here / name / "pyvenv.cfg").exists())
        found += [(here / name).relative_to(root).as_posix() for name in files]
    return sorted(found)


def listing(root: Path, targets: tuple[str, ...]) -> list[str]:
    """The repository-relative paths the linters of `targets` may read (every file when no target)."""
    wanted = [PurePosixPath(PurePosixPath(target).as_posix()) for target in targets] or [PurePosixPath(".")]
    names = _git_listing(root)
    if names is None:
        names = _walk_listing(root)
    return [name for name in names if _wanted(PurePosixPath(name), wanted)]


def copy_for_linting(root: Path, targets: tuple[str, ...], destination: Path) -> int:
    """Copies what the linters of `targets` read into `destination`; returns how many files."""
    copied = 0
    for name in listing(root, targets):
        try:
            data = read_bytes(inside(root, name))
        except UsageError:
            continue  # gone since git listed it, a symlink out of the repository, a FIFO, too large
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        copied += 1
    return copied
