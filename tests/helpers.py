"""Running the real `pipegen` entry point in-process, as a user's shell would."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipegen.cli import main


@dataclass
class Result:
    exit_code: int
    out: str
    err: str


def run_pipegen(capsys: pytest.CaptureFixture, *args: str) -> Result:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    return Result(code if isinstance(code, int) else (0 if code is None else 1), captured.out, captured.err)


def make_repo(root: Path, remotes: dict[str, str] | None = None, files: tuple[str, ...] = (),
              folders: tuple[str, ...] = (), git_repo: bool = True) -> Path:
    """A project folder: a real git repository with `remotes`, and the given files and folders."""
    import git  # pylint: disable=import-outside-toplevel  # only the tests that build repositories need it

    root.mkdir(parents=True, exist_ok=True)
    if git_repo:
        repo = git.Repo.init(root)
        for name, url in (remotes or {}).items():
            repo.create_remote(name, url)
        repo.close()
    for folder in folders:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("", encoding="utf-8")
    return root
