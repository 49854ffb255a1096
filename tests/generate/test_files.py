"""Files (issue 11, "Found: Files"): generate, check and init never read, print or write
through a symlink that leaves the repository, never open a FIFO or device, report a
directory or undecodable file as exit 2 with its path, and replace all target files or
none. New files get the mode the umask gives."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_pipegen
from pipegen.generate.files import PendingWrite, write_all
from pipegen.errors import UsageError

DESCRIPTOR = "project: {name: demo}\ntargets: [github, gitlab, azure, jenkins]\ntests: {unit: tests}\n"
SECRET = "AWS_SECRET=hunter2-not-for-your-eyes"


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pipegen.yaml").write_text(DESCRIPTOR, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.env").write_text(SECRET + "\n", encoding="utf-8")
    return folder


def tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("command", ["generate", "check"])
def test_a_target_symlinked_out_of_the_repository_is_neither_read_nor_printed(
        repo: Path, outside: Path, capsys, command: str) -> None:
    (repo / "Jenkinsfile").symlink_to(outside / "secret.env")
    result = run_pipegen(capsys, command)
    assert result.exit_code == 2
    assert "leads outside the repository" in result.err and "Jenkinsfile" in result.err
    assert "hunter2" not in result.out + result.err
    assert (outside / "secret.env").read_text(encoding="utf-8") == SECRET + "\n"
    assert not (repo / ".gitlab-ci.yml").exists()  # refused before anything was written


def test_a_symlinked_parent_folder_never_makes_generate_write_outside(repo: Path, outside: Path, capsys) -> None:
    (repo / ".github").symlink_to(outside)
    before = tree(outside)
    result = run_pipegen(capsys, "generate", "--target", "github")
    assert result.exit_code == 2
    assert ".github" in result.err and "leads outside the repository" in result.err
    assert tree(outside) == before


def test_a_symlink_that_stays_inside_is_followed(repo: Path, capsys) -> None:
    (repo / "ci").mkdir()
    (repo / "ci" / "Jenkinsfile").write_text("", encoding="utf-8")
    (repo / "Jenkinsfile").symlink_to(Path("ci") / "Jenkinsfile")
    result = run_pipegen(capsys, "generate", "--target", "jenkins", "--force")
    assert result.exit_code == 0, result.err
    assert (repo / "Jenkinsfile").is_symlink()
    assert "pipeline {" in (repo / "ci" / "Jenkinsfile").read_text(encoding="utf-8")


def test_a_directory_target_is_exit_2_with_its_path(repo: Path, capsys) -> None:
    (repo / "Jenkinsfile").mkdir()
    for command in ("generate", "check"):
        result = run_pipegen(capsys, command)
        assert result.exit_code == 2
        assert "Jenkinsfile is a directory" in result.err
        assert "Traceback" not in result.err


def test_an_undecodable_target_is_exit_2_with_its_position(repo: Path, capsys) -> None:
    (repo / "azure-pipelines.yml").write_bytes(b"# fine\ntrigger: caf\xe9\n")
    for command in ("generate", "check"):
        result = run_pipegen(capsys, command)
        assert result.exit_code == 2
        assert "azure-pipelines.yml:2:13: not UTF-8 text (byte 0xe9)" in result.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("command", ["generate", "check"])
def test_a_fifo_target_is_refused_without_hanging(repo: Path, command: str) -> None:
    os.mkfifo(repo / "Jenkinsfile")
    # A subprocess with a timeout: a regression fails here instead of hanging the suite.
    done = subprocess.run([sys.executable, "-m", "pipegen", command], cwd=repo, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2
    assert "Jenkinsfile is a FIFO" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_descriptor_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipegen.yaml")
    done = subprocess.run([sys.executable, "-m", "pipegen", "validate"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "pipegen.yaml:1:1: is a FIFO" in done.stderr


def test_all_or_nothing_when_one_file_cannot_be_placed(repo: Path, capsys) -> None:
    assert run_pipegen(capsys, "generate", "--target", "gitlab").exit_code == 0
    old = (repo / ".gitlab-ci.yml").read_bytes()
    (repo / "pipegen.yaml").write_text(DESCRIPTOR.replace("tests}", "tests, integration: it}"), encoding="utf-8")
    (repo / ".github").write_text("a file where a folder must be", encoding="utf-8")
    result = run_pipegen(capsys, "generate")
    assert result.exit_code == 2
    assert ".github" in result.err and "Traceback" not in result.err
    assert (repo / ".gitlab-ci.yml").read_bytes() == old  # not replaced while another file failed
    assert not (repo / "azure-pipelines.yml").exists() and not (repo / "Jenkinsfile").exists()
    assert not [path for path in repo.rglob("*.tmp")]


def test_write_all_cleans_every_temporary_when_a_later_write_fails(tmp_path: Path) -> None:
    (tmp_path / "first.txt").write_text("old", encoding="utf-8")
    (tmp_path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot write .*blocker"):
        write_all([PendingWrite(tmp_path / "first.txt", "new"), PendingWrite(tmp_path / "blocker" / "x", "new")])
    assert (tmp_path / "first.txt").read_text(encoding="utf-8") == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blocker", "first.txt"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_an_unwritable_folder_is_exit_2(repo: Path, capsys) -> None:
    os.chmod(repo, 0o555)
    try:
        result = run_pipegen(capsys, "generate")
    finally:
        os.chmod(repo, 0o755)
    assert result.exit_code == 2
    assert "cannot write" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("where", ["a-file/checklist.md", "."])
def test_an_unwritable_checklist_path_is_exit_2_and_nothing_is_written(repo: Path, capsys, where: str) -> None:
    (repo / "a-file").write_text("", encoding="utf-8")
    result = run_pipegen(capsys, "generate", "--checklist", where)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.err and "checklist" in result.err.lower()
    assert not (repo / "Jenkinsfile").exists()


def test_new_files_get_the_mode_the_umask_gives_and_existing_keep_theirs(repo: Path, capsys) -> None:
    previous = os.umask(0o027)
    try:
        assert run_pipegen(capsys, "generate", "--checklist", "CHECKLIST.md").exit_code == 0
        assert stat.S_IMODE((repo / "Jenkinsfile").stat().st_mode) == 0o640
        assert stat.S_IMODE((repo / "CHECKLIST.md").stat().st_mode) == 0o640
        os.chmod(repo / "Jenkinsfile", 0o664)
        (repo / "pipegen.yaml").write_text(DESCRIPTOR.replace("tests}", "tests, integration: it}"), encoding="utf-8")
        assert run_pipegen(capsys, "generate").exit_code == 0
        assert stat.S_IMODE((repo / "Jenkinsfile").stat().st_mode) == 0o664
    finally:
        os.umask(previous)


def test_init_refuses_a_descriptor_symlinked_out_of_the_repository(repo: Path, outside: Path, capsys) -> None:
    (repo / "pipegen.yaml").unlink()
    (repo / "pipegen.yaml").symlink_to(outside / "secret.env")
    result = run_pipegen(capsys, "init", "--force", "--target", "github")
    assert result.exit_code == 2
    assert "leads outside the repository" in result.err
    assert (outside / "secret.env").read_text(encoding="utf-8") == SECRET + "\n"


def test_init_does_not_read_a_pyproject_symlinked_out_of_the_repository(repo: Path, outside: Path, capsys) -> None:
    (repo / "pipegen.yaml").unlink()
    (outside / "pyproject.toml").write_text('[project]\nname = "stolen-name"\n', encoding="utf-8")
    (repo / "pyproject.toml").symlink_to(outside / "pyproject.toml")
    result = run_pipegen(capsys, "init", "--target", "github")
    assert result.exit_code == 0, result.err
    assert "stolen-name" not in (repo / "pipegen.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["docker-compose.yml", "MLproject"])
def test_init_reads_yaml_metadata_under_the_descriptor_limits(repo: Path, name: str) -> None:
    """An alias bomb in a compose file or MLproject used to expand inside `init`; now init
    reads nothing from it. A subprocess with a timeout: a regression fails, never hangs."""
    from descriptor.test_limits import billion_laughs  # pylint: disable=import-outside-toplevel

    (repo / "pipegen.yaml").unlink()
    (repo / name).write_text(billion_laughs(9).replace("unknown:", "services:"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipegen", "init", "--target", "github"], cwd=repo,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "lol" not in (repo / "pipegen.yaml").read_text(encoding="utf-8")


def test_a_profile_file_symlinked_out_of_the_repository_is_refused(repo: Path, outside: Path, capsys) -> None:
    (outside / "strict.yaml").write_text("coverage: {min: 1}\n", encoding="utf-8")
    (repo / "gates.yaml").symlink_to(outside / "strict.yaml")
    (repo / "pipegen.yaml").write_text(DESCRIPTOR + "quality: {profile: gates.yaml}\n", encoding="utf-8")
    result = run_pipegen(capsys, "validate")
    assert result.exit_code == 2
    assert "leads outside the repository" in result.err
