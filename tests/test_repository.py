"""What a fresh clone holds beside the code: a licence saying what the package metadata says, no stray
files at the root, and a CI that installs the one system tool its executors need when it is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT
from executors.gitlab_ci_local import VERSION as GITLAB_CI_LOCAL

ENSURE_RSYNC = ROOT / ".ci" / "ensure-rsync"
# What apt-get does, as far as the script can see: it records its arguments, and `install` puts an rsync
# on PATH. A stand-in: the tests do not install system packages.
APT_GET_STAND_IN = """#!{bash}
echo "apt-get $*" >> "{log}"
if [ "$1" = install ]; then
  printf '#!{bash}\\n' > "{bin}/rsync" && {chmod} +x "{bin}/rsync"
fi
"""
SUDO_STAND_IN = """#!{bash}
echo "sudo $1" >> "{log}"
exec "$@"
"""


def test_the_licence_file_is_the_licence_the_package_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert declared == "MIT"
    assert licence.splitlines()[0] == "MIT License"
    assert "Permission is hereby granted, free of charge" in licence


def test_the_root_tracks_only_files_a_tool_reads():
    """A file at the root is read by git, flake8, hatchling, MkDocs or pre-commit, or is for people; stray
    inputs (fuzz cases saved at the root once) have no place there."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    at_root = {path for path in tracked.splitlines() if "/" not in path}
    assert at_root <= {".flake8", ".gitignore", ".pre-commit-hooks.yaml", "LICENSE", "README.md", "mkdocs.yml",
                       "pyproject.toml"}, at_root


def _path_without_rsync(tmp_path: Path, uid: int) -> tuple[Path, Path, dict[str, str]]:
    """A PATH holding only bash, an `id` saying uid, and the apt-get and sudo stand-ins."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    bash = shutil.which("bash")
    for name, text in (("apt-get", APT_GET_STAND_IN), ("sudo", SUDO_STAND_IN),
                       ("id", f"#!{bash}\necho {uid}\n")):
        (bin_dir / name).write_text(text.format(bash=bash, chmod=shutil.which("chmod"), log=log, bin=bin_dir),
                                    encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    return bin_dir, log, {"PATH": str(bin_dir), "HOME": str(tmp_path)}


@pytest.mark.parametrize("uid, through", [(0, []), (1000, ["sudo apt-get", "sudo apt-get"])])
def test_ci_installs_rsync_with_apt_get_when_it_is_missing(tmp_path, uid, through):
    bin_dir, log, env = _path_without_rsync(tmp_path, uid)
    done = subprocess.run([shutil.which("bash"), str(ENSURE_RSYNC)], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    apt_get = [call for call in calls if call.startswith("apt-get")]
    assert apt_get == ["apt-get update -qq", "apt-get install -y -qq rsync"]
    assert [call for call in calls if call.startswith("sudo")] == through
    assert os.access(bin_dir / "rsync", os.X_OK)


def test_ci_leaves_a_machine_with_rsync_alone(tmp_path):
    bin_dir, log, env = _path_without_rsync(tmp_path, 0)
    (bin_dir / "rsync").write_text("#!/bin/sh\n", encoding="utf-8")
    (bin_dir / "rsync").chmod(0o755)
    done = subprocess.run([shutil.which("bash"), str(ENSURE_RSYNC)], env=env, capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, log.exists()) == (0, "", False)


def test_ci_runs_the_rsync_step_before_the_tests():
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    first_test_step = next(index for index, line in enumerate(steps) if "pytest" in line)
    assert any(line.startswith(".ci/ensure-rsync") for line in steps[:first_test_step])


def _readme_setup_commands() -> list[str]:
    """The README's set-up block: its commands, one a line (comments left out)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Set up", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_the_readme_test_command_is_what_ci_runs():
    """Set-up 2 is the command a newcomer runs; .ci/run runs the same steps, so it stays true."""
    install, test = _readme_setup_commands()
    ci_run = " ".join(line.strip().removeprefix("&& ").rstrip("\\").strip()
                      for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines())
    steps = [step.strip() for step in test.split(" && ")]
    assert steps[0] == ".ci/ensure-rsync"
    for step in steps[:-1]:
        assert step in ci_run, step
    assert steps[-1].startswith(".venv/bin/python -m coverage run -m pytest -q -n 2")
    assert f"gitlab-ci-local@{GITLAB_CI_LOCAL}" in test  # the version the executor tests pin
    assert install.endswith("pipegen generate --descriptor examples/churn/pipegen.yaml")
