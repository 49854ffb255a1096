"""The repository's .pre-commit-hooks.yaml, run by pre-commit itself: a project repository that uses this
repository as a hook repository (`repo: <path>` at a commit, as it would use a URL at a tag) passes with a
current pipeline, and fails on a hand-edited pipeline file and on a broken descriptor.

The hook repository is this checkout's files committed afresh, so the hooks tested are the working tree's;
pre-commit installs pipegen from it into an environment of its own, as it does for any user."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import MINIMAL, ROOT
from helpers import run_pipegen

pytestmark = pytest.mark.slow


def _hook_repository_files() -> tuple[str, ...]:
    """What the package is built from (the sdist's include list, so a new data folder is not forgotten)
    and the hooks file."""
    import tomllib  # pylint: disable=import-outside-toplevel  # Python 3.11+, as the tests run on

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return (*pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]["include"], ".pre-commit-hooks.yaml")


HOOK_REPOSITORY_FILES = _hook_repository_files()


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout.strip()


def repository(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(this repository's hook files committed in a repository of their own, that commit)."""
    root = repository(tmp_path_factory.mktemp("hooks") / "pipegen")
    for name in HOOK_REPOSITORY_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(source, root / name)
    return root, commit_all(root, "pipegen's hooks")


def pre_commit(project: Path, home: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PRE_COMMIT", "VIRTUAL_ENV"))}
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
                          cwd=project, env=env, capture_output=True, text=True, check=False, timeout=1200)


def verdicts(done: subprocess.CompletedProcess) -> dict[str, str]:
    """hook name -> Passed / Failed / Skipped, from pre-commit's report lines."""
    found = {}
    for line in done.stdout.splitlines():
        name, _, verdict = line.rpartition(".")
        if verdict in ("Passed", "Failed") or verdict.startswith("(no files to check)Skipped"):
            found[name.rstrip(".")] = verdict.rsplit(")", 1)[-1]
    return found


def test_the_hooks_pass_on_a_current_pipeline_and_fail_on_an_edited_one(
        hooks, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    hook_repository, rev = hooks
    project = repository(tmp_path / "project")
    shutil.copy(MINIMAL, project / "pipegen.yaml")
    monkeypatch.chdir(project)
    assert run_pipegen(capsys, "generate", "-q").exit_code == 0
    config = {"repos": [{"repo": str(hook_repository), "rev": rev,
                         "hooks": [{"id": "pipegen-validate"}, {"id": "pipegen-check"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    commit_all(project, "pipegen's pipeline and the hooks")
    home = tmp_path / "pre-commit-home"

    current = pre_commit(project, home)
    assert current.returncode == 0, current.stdout + current.stderr
    assert verdicts(current) == {"pipegen validate": "Passed", "pipegen check": "Passed"}, current.stdout

    gitlab = project / ".gitlab-ci.yml"
    gitlab.write_text(gitlab.read_text(encoding="utf-8") + "# a hand edit\n", encoding="utf-8")
    edited = pre_commit(project, home)
    assert edited.returncode == 1
    assert verdicts(edited) == {"pipegen validate": "Passed", "pipegen check": "Failed"}, edited.stdout
    assert "edited" in edited.stdout and "-# a hand edit" in edited.stdout  # pipegen check's own report

    git(project, "checkout", "--", ".gitlab-ci.yml")
    descriptor = project / "pipegen.yaml"
    descriptor.write_text(descriptor.read_text(encoding="utf-8").replace("targets:", "targetz:"), encoding="utf-8")
    broken = pre_commit(project, home)
    assert broken.returncode == 1
    assert verdicts(broken)["pipegen validate"] == "Failed", broken.stdout
    assert "pipegen.yaml:" in broken.stdout and "targetz" in broken.stdout
