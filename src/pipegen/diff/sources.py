"""The pipeline files at a git ref or in the working tree (gitpython, imported here only)."""
from __future__ import annotations

from pathlib import Path

from pipegen.errors import UsageError
from pipegen.gates.compare_branch import candidates
from pipegen.platforms import REGISTRY, get_backend

WORKING_TREE = None  # the `ref` that means the files on disk


def pipeline_paths() -> dict[str, str]:
    return {target: get_backend(target).path for target in REGISTRY}


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


def files_at(repo, ref: str | None) -> dict[str, str]:
    """Each platform's pipeline file at `ref` (None: the working tree), where it exists."""
    found = {}
    for target, path in pipeline_paths().items():
        if ref is None:
            file = Path(repo.working_tree_dir) / path
            if file.is_file():
                found[target] = file.read_text(encoding="utf-8")
            continue
        try:
            blob = repo.commit(ref).tree / path
        except KeyError:
            continue
        found[target] = blob.data_stream.read().decode("utf-8")
    return found
