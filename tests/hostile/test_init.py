"""`pipegen init` on a hostile repository: metadata files that are FIFOs, links to /proc or out
of the repository, or too large are not read (no hang, nothing of theirs shown or written);
control characters and CI logging commands in what the files say never make init reject its own
descriptor, and reach the summary it prints made harmless."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile.conftest import SECRET, assert_safe, pipegen

INIT = ("init", "--no-measure", "--target", "github")
METADATA = ("pyproject.toml", "setup.cfg", "setup.py", "tox.ini", ".python-version", "Dockerfile", "MLproject",
            "docker-compose.yml", ".pre-commit-config.yaml", ".flake8", "requirements.txt")


def init_and_validate(repo: Path):
    ran = pipegen(repo, *INIT)
    descriptor = repo / "pipegen.yaml"
    assert_safe(ran, 0, descriptor)
    validated = pipegen(repo, "validate")
    assert validated.code == 0, validated.explain()
    return ran, descriptor.read_text(encoding="utf-8")


@pytest.mark.parametrize("content", ["3.11\x01\n", "3.11\x1b[31m\n", "3.12\u2028\n", "\ufeff3.10\x85\n",
                                     "3.11 \x00\n"])
def test_a_control_character_in_python_version_does_not_break_the_descriptor(repo, content):
    (repo / ".python-version").write_text(content, encoding="utf-8", errors="surrogatepass")
    ran, descriptor = init_and_validate(repo)
    assert "a bug in pipegen" not in ran.both
    assert 'python: "3.1' in descriptor


@pytest.mark.parametrize("kind", ["fifo", "proc", "outside"])
def test_metadata_files_that_are_no_plain_files_of_the_repository_are_not_read(repo, outside, kind):
    for name in METADATA:
        path = repo / name
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "proc":
            path.symlink_to("/proc/self/environ")
        else:
            (outside / name).write_text(f'[project]\nname = "{SECRET}"\n', encoding="utf-8")
            path.symlink_to(outside / name)
    ran, descriptor = init_and_validate(repo)  # a FIFO opened would block: the timeout catches it
    assert "HOSTILE_API_TOKEN" not in ran.both + descriptor and SECRET not in descriptor


def test_an_oversized_metadata_file_is_ignored(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "too-big"\n' + "# pad\n" * 300_000, encoding="utf-8")
    _, descriptor = init_and_validate(repo)
    assert "too-big" not in descriptor


def test_what_the_files_say_cannot_drive_the_ci(repo):
    (repo / "pyproject.toml").write_text('[project]\nname = "::error::forged\\r##vso[task.setvariable variable=A]1"\n'
                                         'requires-python = ">=3.10"\n', encoding="utf-8")
    (repo / "MLproject").write_text("name: \"##vso[task.complete result=Failed]\"\nentry_points:\n"
                                    "  main:\n    command: \"python train.py\\n::error::x\"\n", encoding="utf-8")
    (repo / "train.py").write_text("print('train')\n", encoding="utf-8")
    ran, _ = init_and_validate(repo)
    assert "project" in ran.out
