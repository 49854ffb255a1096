"""The pipeline files at a git ref or in the working tree (gitpython, imported here only).
Working-tree files are read through the one safe reader (pipegen.paths: a regular file
inside the repository, never through a symlink out of it); a file at a ref must be a
regular file of UTF-8 text under the same size cap. Anything else is exit 3, naming it."""
from __future__ import annotations

import os
from pathlib import Path

from pipegen import paths
from pipegen.errors import EvaluationError, UsageError
from pipegen.gates.compare_branch import candidates
from pipegen.platforms import PATHS

_BLOB_MODES = (0o100644, 0o100755)  # a regular file in a git tree (not a symlink, a submodule or a folder)

WORKING_TREE = None  # the `ref` that means the files on disk


def pipeline_paths() -> dict[str, str]:
    return dict(PATHS)


def open_repo(path: Path):
    import git  # pylint: disable=import-outside-toplevel  # `pipegen --help` must not import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{path}: not inside a git repository") from None


def resolve(repo, ref: str) -> str:
    import git  # pylint: disable=import-outside-toplevel

    try:
        return repo.commit(ref).hexsha
    except (git.BadName, ValueError, git.GitCommandError):
        raise UsageError(f"unknown git ref {ref!r}") from None


def merge_base(repo, compare: str) -> str:
    """Where this branch left `compare`: origin's branch, else the local one of that name, or the
    other way round for a bare name (pipegen.gates.compare_branch.candidates)."""
    for candidate, _ in candidates(compare):  # the same lookup as the changed-lines gates
        try:
            head, other = repo.commit("HEAD"), repo.commit(candidate)
        except Exception:  # pylint: disable=broad-exception-caught  # gitpython raises several kinds
            continue
        bases = repo.merge_base(head, other)
        if bases:
            return bases[0].hexsha
    raise UsageError(f"no merge base with {compare!r}: pass --base REF")


def _at_ref(repo, ref: str, path: str) -> str | None:
    """The text of `path` at `ref`, None when the ref has no such entry."""
    try:
        entry = repo.commit(ref).tree / path
    except KeyError:
        return None
    where = f"{path} at {ref[:12]}"
    if entry.type != "blob" or entry.mode not in _BLOB_MODES:
        raise EvaluationError(f"{where} is not a regular file (a symlink, a submodule or a folder); "
                              "pipegen diff reads only regular files")
    if entry.size > paths.MAX_READ_BYTES:
        raise EvaluationError(f"{where} is larger than {paths.MAX_READ_BYTES // 1024 ** 2} MiB")
    return paths.decode(entry.data_stream.read(), where, EvaluationError)


def files_at(repo, ref: str | None) -> dict[str, str]:
    """Each platform's pipeline file at `ref` (None: the working tree), where it exists."""
    found = {}
    root = Path(repo.working_tree_dir)
    for target, path in pipeline_paths().items():
        if ref is None:
            file = root / path
            if os.path.lexists(file):
                found[target] = paths.read_text(file, root=root, error=EvaluationError)
            continue
        text = _at_ref(repo, ref, path)
        if text is not None:
            found[target] = text
    return found
