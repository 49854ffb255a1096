"""`pipegen diff` on hostile pipeline files: a working-tree file linked out of the repository
or to /proc, a FIFO, a file over the cap, a committed symlink or non-UTF-8 bytes at the base
are exit 3 naming the file, with nothing of any target's content in the message; what the
files say (job names, values) reaches the log scrubbed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hostile.conftest import SECRET, assert_safe, environment, logging_commands, pipegen

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal"


@pytest.fixture
def project(tmp_path: Path):
    """The minimal example with its generated pipelines, committed on main; a feature branch checked out."""
    import git  # pylint: disable=import-outside-toplevel

    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root)
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "test").set_value("user", "email", "test@example.com")
    repo.git.add(A=True)
    repo.index.commit("pipelines as generated")
    repo.git.checkout("-b", "feature")
    return root, repo


def diff(root: Path, *args: str):
    return pipegen(root, "diff", "--compare-branch", "main", *args)


def test_a_pipeline_file_linked_out_of_the_repository_is_not_read(project, outside):
    root, _ = project
    (root / "Jenkinsfile").unlink()
    (root / "Jenkinsfile").symlink_to(outside / "secret.env")
    ran = diff(root)
    assert_safe(ran, 3)
    assert "Jenkinsfile leads outside the repository" in ran.err
    assert "API_TOKEN" not in ran.both  # not a fragment of the target either


@pytest.mark.parametrize("kind", ["fifo", "proc", "large"])
def test_a_pipeline_file_that_is_no_plain_file_is_exit_3(project, kind):
    root, _ = project
    path = root / ".gitlab-ci.yml"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "proc":
        path.symlink_to("/proc/self/environ")
    else:
        path.write_text("# padding\n" * (2 * 1024 * 1024), encoding="utf-8")
    ran = diff(root)
    assert_safe(ran, 3)
    assert ".gitlab-ci.yml" in ran.err and "HOSTILE_API_TOKEN" not in ran.both


def test_a_file_at_the_base_that_is_not_utf8_is_exit_3_naming_it(project):
    root, repo = project
    repo.git.checkout("main")
    (root / ".gitlab-ci.yml").write_bytes(b"stages: [test]\n# caf\xe9\n")
    repo.git.add(A=True)
    repo.index.commit("latin-1 bytes")
    repo.git.checkout("-b", "later")
    ran = diff(root)
    assert_safe(ran, 3)
    assert ".gitlab-ci.yml at " in ran.err and "not UTF-8" in ran.err


def test_a_symlink_committed_at_the_base_is_exit_3(project, outside):
    root, repo = project
    repo.git.checkout("main")
    (root / "Jenkinsfile").unlink()
    (root / "Jenkinsfile").symlink_to(outside / "secret.env")
    repo.git.add(A=True)
    repo.index.commit("a link")
    repo.git.checkout("-b", "later")
    shutil.copy(EXAMPLE / "Jenkinsfile", root / "Jenkinsfile.tmp")
    (root / "Jenkinsfile").unlink()
    (root / "Jenkinsfile.tmp").rename(root / "Jenkinsfile")
    ran = diff(root)
    assert_safe(ran, 3)
    assert "Jenkinsfile at " in ran.err and "not a regular file" in ran.err and "API_TOKEN" not in ran.both


def test_what_the_files_say_reaches_the_log_scrubbed(project):
    root, _ = project
    path = root / ".gitlab-ci.yml"
    text = path.read_text(encoding="utf-8")
    hostile = f"##vso[task.setvariable variable=A]1 {SECRET}"
    path.write_text(text + f'\n"::error::{hostile}":\n  stage: test\n  script: [echo]\n', encoding="utf-8")
    for output in ((), ("--markdown",), ("--json",)):
        ran = diff(root, *output)
        assert_safe(ran, {0, 3})
        assert logging_commands(ran.out) == []


def test_a_summary_that_is_a_fifo_is_exit_3_not_a_hang(project):
    root, _ = project
    os.mkfifo(root / "summary.md")
    ran = pipegen(root, "diff", "--compare-branch", "main", "--summary", "summary.md",
                  env=environment(GITHUB_ACTIONS="true"))
    assert_safe(ran, 3)
    assert "summary.md" in ran.err
