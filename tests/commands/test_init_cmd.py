"""`pipegen init` end to end: CliRunner on the real CLI group, and once through the
installed entry point, on real git repositories laid out in tmp dirs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from helpers import make_repo
from pipegen.cli import cli
from pipegen.descriptor import load_descriptor
from pipegen.plan import build_plan

USER_DESCRIPTOR = b"# hand-written, with comments init cannot reproduce\nproject: {name: mine}\ntargets: [jenkins]\n"


def run_init(*args: str) -> Result:
    return CliRunner().invoke(cli, ["init", *args], catch_exceptions=False)


@pytest.fixture(name="churn")
def churn_repository(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "churn", {"origin": "git@github.com:acme/churn.git"},
                     files=("requirements.txt", "requirements-test.txt", "Dockerfile"),
                     folders=("src/churn", "tests/unit", "tests/integration"))


def test_init_writes_a_descriptor_that_validates_and_plans(churn: Path) -> None:
    result = run_init("--path", str(churn))
    assert result.exit_code == 0, result.output
    descriptor = load_descriptor(churn / "pipegen.yaml")
    assert descriptor.targets == ("github",)
    assert descriptor.project.name == "churn"
    assert (descriptor.project.requirements.runtime, descriptor.project.requirements.test) == \
        ("requirements.txt", "requirements-test.txt")
    assert descriptor.tests.levels() == [("unit", "tests/unit"), ("integration", "tests/integration")]
    assert descriptor.image.name == "churn"
    assert descriptor.quality.profile == "default"
    jobs = {job.id for stage in build_plan(descriptor).stages for job in stage.jobs}
    assert {"lint", "unit", "integration", "build"} <= jobs
    assert "github (git remote origin: github.com)" in result.output
    assert "pipegen generate" in result.output


def test_init_refuses_to_overwrite_without_force(churn: Path) -> None:
    descriptor = churn / "pipegen.yaml"
    descriptor.write_bytes(USER_DESCRIPTOR)
    result = run_init("--path", str(churn))
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    assert descriptor.read_bytes() == USER_DESCRIPTOR
    assert not (churn / "pipegen.yaml.bak").exists()


def test_force_replaces_and_keeps_the_old_file(churn: Path) -> None:
    descriptor = churn / "pipegen.yaml"
    descriptor.write_bytes(USER_DESCRIPTOR)
    result = run_init("--path", str(churn), "--force")
    assert result.exit_code == 0, result.output
    assert (churn / "pipegen.yaml.bak").read_bytes() == USER_DESCRIPTOR
    assert load_descriptor(descriptor).targets == ("github",)
    assert "pipegen.yaml.bak" in result.output


def test_force_twice_with_nothing_changed_leaves_everything_as_it_is(churn: Path) -> None:
    assert run_init("--path", str(churn)).exit_code == 0
    first = (churn / "pipegen.yaml").read_bytes()
    result = run_init("--path", str(churn), "--force")
    assert result.exit_code == 0
    assert "already up to date" in result.output
    assert (churn / "pipegen.yaml").read_bytes() == first
    assert not (churn / "pipegen.yaml.bak").exists()


@pytest.mark.parametrize("remote, targets", [
    ("https://gitlab.com/acme/churn.git", ("gitlab",)),
    ("https://dev.azure.com/acme/proj/_git/churn", ("azure",)),
    ("git@ssh.dev.azure.com:v3/acme/proj/churn", ("azure",)),
    ("https://github.com/acme/churn.git", ("github",)),
])
def test_targets_follow_the_remote(tmp_path: Path, remote: str, targets: tuple[str, ...]) -> None:
    root = make_repo(tmp_path / "proj", {"origin": remote}, folders=("tests",))
    assert run_init("--path", str(root)).exit_code == 0
    assert load_descriptor(root / "pipegen.yaml").targets == targets


def test_target_flags_override_the_remote(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj", {"origin": "https://gitlab.com/acme/proj.git"})
    result = run_init("--path", str(root), "--target", "jenkins", "--target", "azure")
    assert result.exit_code == 0, result.output
    assert load_descriptor(root / "pipegen.yaml").targets == ("azure", "jenkins")


def test_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj")
    result = run_init("--path", str(root), "--target", "travis")
    assert result.exit_code == 2
    assert not (root / "pipegen.yaml").exists()


def test_not_a_git_repository_works(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", files=("requirements.txt",), folders=("tests/unit",), git_repo=False)
    result = run_init("--path", str(root))
    assert result.exit_code == 0, result.output
    assert "not a git repository" in result.output
    descriptor = load_descriptor(root / "pipegen.yaml")
    assert descriptor.targets == ("github", "gitlab", "azure", "jenkins")
    build_plan(descriptor)


def test_output_option_writes_elsewhere(tmp_path: Path, churn: Path) -> None:
    output = tmp_path / "out" / "ci.yaml"
    result = run_init("--path", str(churn), "--output", str(output))
    assert result.exit_code == 0, result.output
    assert load_descriptor(output).targets == ("github",)
    assert not (churn / "pipegen.yaml").exists()


def test_default_path_is_the_current_directory(churn: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(churn)
    assert run_init().exit_code == 0
    assert load_descriptor(churn / "pipegen.yaml").project.name == "churn"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_init("--path", str(tmp_path / "nowhere"))
    assert result.exit_code == 2


def test_the_installed_command_refuses_cleanly(churn: Path) -> None:
    """Through main(): the exit code and message a user sees, and never a traceback."""
    descriptor = churn / "pipegen.yaml"
    descriptor.write_bytes(USER_DESCRIPTOR)
    result = subprocess.run([sys.executable, "-m", "pipegen", "init", "--path", str(churn)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert descriptor.read_bytes() == USER_DESCRIPTOR


def test_a_file_at_pipegens_path_is_said_to_be_pipegens_only_when_pipegen_wrote_it(churn: Path) -> None:
    """A pipeline generated earlier is kept current by `generate`; another file there is not replaced unasked."""
    assert run_init("--path", str(churn), "--no-measure", "--target", "gitlab").exit_code == 0
    generated = CliRunner().invoke(cli, ["generate", "--quiet", "--descriptor", str(churn / "pipegen.yaml")],
                                   catch_exceptions=False)
    assert generated.exit_code == 0, generated.output
    (churn / "Jenkinsfile").write_text("pipeline { agent any; stages { stage('t') { steps { sh 'make' } } } }\n",
                                       encoding="utf-8")
    again = run_init("--path", str(churn), "--no-measure", "--force")
    rows = {line.split()[2]: line for line in again.output.splitlines() if line.startswith("  existing CI")}
    assert "written by pipegen" in rows[".gitlab-ci.yml:"]
    assert "refuses to replace a file it did not write" in rows["Jenkinsfile:"]
