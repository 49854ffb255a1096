"""TEST FIXTURE: an adoption fixture project (tests/fixtures/adoption/<shape>) in a fresh git repository whose
`origin` (a bare repository) holds `main`, after `pipegen init --target T` and `pipegen generate`, for the
executors (gitlab-ci-local, act) to run its pipeline as the platform would for a push."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from .plugin import ExampleRepo, _git

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adoption"


def adopted_repository(shape: str, tmp_path: Path, target: str, remote: tuple[str, str],
                       prepare: Callable[[Path], object] | None = None) -> ExampleRepo:
    """`remote`: (name, URL) of the remote the executor reads the project's path from; `prepare(root)` runs
    on the fixture before init (a submodule added, ...)."""
    root, origin = tmp_path / shape, tmp_path / f"{shape}-origin.git"
    shutil.copytree(FIXTURES / shape, root)
    _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    _git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
    for key, value in (("user.name", "pipegen tests"), ("user.email", "tests@pipegen.invalid"),
                       ("commit.gpgsign", "false")):
        _git(root, "config", key, value)
    _git(root, "remote", "add", "origin", str(origin))
    _git(root, "remote", "add", *remote)
    if prepare is not None:
        prepare(root)
    for command in (("init", "--target", target), ("generate", "-q")):
        done = subprocess.run([sys.executable, "-m", "pipegen", *command], cwd=root, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    repo = ExampleRepo(root, origin)
    repo.commit(f"{shape}: adopt pipegen")
    repo.push("main")
    _git(root, "remote", "set-head", "origin", "main")
    return repo
