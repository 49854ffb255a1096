"""The working copy `pipegen run` gives each job carries the repository's git submodules when the plan's
checkouts fetch them: from their checkout on disk (changes included), else from their URL, as the CI's
checkout would; and says plainly when one can be had neither way. Real git repositories in temp folders."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from executors.submodules import FILE_PROTOCOL  # the tests' second repository stands in for a network host
from pipegen.errors import EvaluationError
from pipegen.run.workspace import make_snapshot


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@pipegen.invalid", "-c",
                           "commit.gpgsign=false", "-c", "protocol.file.allow=always", *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout


def repository_with_submodule(tmp_path: Path) -> Path:
    """`project` (origin: project.git) whose tests/data is the submodule rates.git (rates.csv), checked out."""
    for bare in ("rates.git", "project.git"):
        git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", bare)
    rates = tmp_path / "rates"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", "rates")
    (rates / "rates.csv").write_text("EUR,1.0\nUSD,1.1\n", encoding="utf-8")
    git(rates, "add", ".")
    git(rates, "commit", "--quiet", "-m", "rates")
    git(rates, "push", "--quiet", str(tmp_path / "rates.git"), "main")
    project = tmp_path / "project"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", "project")
    git(project, "remote", "add", "origin", str(tmp_path / "project.git"))
    (project / "README.md").write_text("rates\n", encoding="utf-8")
    git(project, "submodule", "--quiet", "add", "../rates.git", "tests/data")  # relative to origin, as usual
    git(project, "add", ".")
    git(project, "commit", "--quiet", "-m", "project with its data")
    git(project, "push", "--quiet", "origin", "main")
    return project


def test_a_submodule_checked_out_on_disk_is_carried_with_its_changes(tmp_path):
    project = repository_with_submodule(tmp_path)
    with open(project / "tests" / "data" / "rates.csv", "a", encoding="utf-8") as rates:
        rates.write("GBP,0.9\n")  # not committed, as any change of the work tree
    snapshot = make_snapshot(project, tmp_path / "snapshot", submodules=True)
    assert (snapshot / "tests" / "data" / "rates.csv").read_text(encoding="utf-8") == "EUR,1.0\nUSD,1.1\nGBP,0.9\n"
    # A git work tree at the commit the submodule's checkout is at, as a CI checkout leaves it.
    assert git(snapshot / "tests" / "data", "rev-parse", "HEAD") == git(project / "tests" / "data", "rev-parse", "HEAD")


def test_a_submodule_not_checked_out_is_fetched_at_the_recorded_commit(tmp_path, monkeypatch):
    project = repository_with_submodule(tmp_path)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "project.git"), "clone")  # without --recurse-submodules
    assert not any((clone / "tests" / "data").iterdir())
    for name, value in FILE_PROTOCOL.items():
        monkeypatch.setenv(name, value)
    snapshot = make_snapshot(clone, tmp_path / "snapshot", submodules=True)
    assert (snapshot / "tests" / "data" / "rates.csv").read_text(encoding="utf-8") == "EUR,1.0\nUSD,1.1\n"
    recorded = git(project, "ls-files", "--stage", "tests/data").split()[1]
    assert git(snapshot / "tests" / "data", "rev-parse", "HEAD").strip() == recorded


def test_a_submodule_that_cannot_be_had_is_said_with_what_to_do(tmp_path, monkeypatch):
    repository_with_submodule(tmp_path)
    git(tmp_path, "clone", "--quiet", str(tmp_path / "project.git"), "clone")
    (tmp_path / "rates.git").rename(tmp_path / "gone.git")  # its host is unreachable
    for name, value in FILE_PROTOCOL.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(EvaluationError) as raised:
        make_snapshot(tmp_path / "clone", tmp_path / "snapshot", submodules=True)
    message = str(raised.value)
    assert message.startswith("the git submodule tests/data is not checked out here and could not be fetched (")
    assert "git submodule update --init --recursive" in message and "project.submodules: false" in message


def test_without_submodules_in_the_plan_the_copy_has_none(tmp_path):
    project = repository_with_submodule(tmp_path)
    snapshot = make_snapshot(project, tmp_path / "snapshot", submodules=False)
    assert (snapshot / "tests" / "data").is_dir() and not any((snapshot / "tests" / "data").iterdir())
