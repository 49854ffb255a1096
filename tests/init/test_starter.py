"""pipegen init's detection, rendering and writing, on real git repositories in tmp dirs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from helpers import make_repo
from pipegen.descriptor import load_descriptor
from pipegen.descriptor.loader import parse_descriptor
from pipegen.errors import UsageError
from pipegen.init.starter import (
    TARGETS, check_rendered, commented, environments_block, image_name, inspect_repository, model_block,
    python_version, remote_host, render_descriptor, sanitise_project_name, target_for_host, write_descriptor,
)
from pipegen.plan import build_plan
from pipegen.syntax import yaml_scalar

GITHUB_HTTPS = "https://github.com/acme/churn.git"
GITHUB_SSH = "git@github.com:acme/churn.git"
GITLAB_HTTPS = "https://gitlab.com/acme/churn.git"
AZURE_HTTPS = "https://dev.azure.com/acme/proj/_git/churn"
AZURE_SSH = "git@ssh.dev.azure.com:v3/acme/proj/churn"


def written_descriptor(root: Path, targets: tuple[str, ...] = ()):
    """Renders, writes and reloads the descriptor for `root`, as `pipegen init` does."""
    text = render_descriptor(inspect_repository(root, targets))
    output = root / "pipegen.yaml"
    write_descriptor(text, output, force=False)
    return load_descriptor(output)


# --- remotes --------------------------------------------------------------------------------

@pytest.mark.parametrize("url, host", [
    (GITHUB_HTTPS, "github.com"),
    (GITHUB_SSH, "github.com"),
    ("ssh://git@github.com:22/acme/churn.git", "github.com"),
    ("https://acme@dev.azure.com/acme/proj/_git/churn", "dev.azure.com"),
    (AZURE_SSH, "ssh.dev.azure.com"),
    ("acme@vs-ssh.visualstudio.com:v3/acme/proj/churn", "vs-ssh.visualstudio.com"),
    ("/srv/git/churn.git", None),
    ("../churn", None),
    ("file:///srv/git/churn.git", None),
])
def test_remote_host_reads_url_and_scp_forms(url: str, host: str | None) -> None:
    assert remote_host(url) == host


@pytest.mark.parametrize("host, target", [
    ("github.com", "github"), ("github.acme.example", "github"),
    ("gitlab.com", "gitlab"), ("gitlab.acme.example", "gitlab"),
    ("dev.azure.com", "azure"), ("ssh.dev.azure.com", "azure"), ("acme.visualstudio.com", "azure"),
    ("bitbucket.org", None), ("git.acme.example", None), (None, None),
])
def test_target_for_host(host: str | None, target: str | None) -> None:
    assert target_for_host(host) == target


@pytest.mark.parametrize("url, targets", [
    (GITHUB_HTTPS, ("github",)),
    (GITHUB_SSH, ("github",)),
    (GITLAB_HTTPS, ("gitlab",)),
    ("git@gitlab.acme.example:team/churn.git", ("gitlab",)),
    (AZURE_HTTPS, ("azure",)),
    (AZURE_SSH, ("azure",)),
    ("https://acme.visualstudio.com/proj/_git/churn", ("azure",)),
])
def test_targets_come_from_the_origin_remote(tmp_path: Path, url: str, targets: tuple[str, ...]) -> None:
    root = make_repo(tmp_path / "churn", {"origin": url})
    detection = inspect_repository(root)
    assert detection.targets == targets
    assert "origin" in detection.targets_source
    assert written_descriptor(root).targets == targets


def test_origin_wins_over_other_remotes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"upstream": GITHUB_HTTPS, "origin": GITLAB_HTTPS})
    assert inspect_repository(root).targets == ("gitlab",)


def test_without_origin_the_first_recognised_remote_is_used(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"backup": "https://git.acme.example/churn.git", "mirror": AZURE_HTTPS})
    detection = inspect_repository(root)
    assert detection.targets == ("azure",)
    assert detection.git.remote_name == "mirror"


@pytest.mark.parametrize("remotes", [{}, {"origin": "https://bitbucket.org/acme/churn.git"},
                                     {"origin": "/srv/git/churn.git"}])
def test_no_recognisable_remote_lists_all_four_targets_and_says_why(tmp_path: Path, remotes: dict) -> None:
    root = make_repo(tmp_path / "churn", remotes)
    detection = inspect_repository(root)
    assert detection.targets == TARGETS
    assert "keep the ones you use" in detection.targets_source
    assert f"# {detection.targets_source}" in render_descriptor(detection)


def test_not_a_git_repository_still_gets_a_valid_descriptor(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", files=("requirements.txt",), folders=("tests",), git_repo=False)
    detection = inspect_repository(root)
    assert not detection.git.is_repo
    assert detection.targets_source.startswith("not a git repository")
    descriptor = written_descriptor(root)
    assert descriptor.targets == TARGETS
    assert descriptor.tests.unit == "tests"
    build_plan(descriptor)


def test_a_jenkinsfile_adds_jenkins(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"origin": GITHUB_SSH}, files=("Jenkinsfile",))
    detection = inspect_repository(root)
    assert detection.targets == ("github", "jenkins")
    assert detection.existing_ci_files == ("Jenkinsfile",)
    assert "# Jenkinsfile: not written by pipegen; `pipegen generate` replaces it only with --force" \
        in render_descriptor(detection)


def test_a_jenkinsfile_alone_means_jenkins(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", files=("Jenkinsfile",))
    assert inspect_repository(root).targets == ("jenkins",)


def test_target_flags_override_detection(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "churn", {"origin": GITHUB_HTTPS}, files=("Jenkinsfile",))
    detection = inspect_repository(root, ("jenkins", "azure"))
    assert detection.targets == ("azure", "jenkins")  # canonical order, whatever the flag order
    assert detection.targets_source == "--target"


def test_mainline_master_sets_triggers_and_the_coverage_compare_branch(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "legacy", {"origin": GITHUB_HTTPS}, files=("tests/test_x.py",))
    repo = git.Repo(root)
    repo.git.checkout("-b", "master")
    repo.index.add(["tests/test_x.py"])
    author = git.Actor("Test", "test@example.com")
    repo.index.commit("first", author=author, committer=author)
    repo.close()
    detection = inspect_repository(root)
    assert (detection.git.default_branch, detection.git.branch_source) == ("master", "local branch master")
    descriptor = written_descriptor(root)
    assert descriptor.triggers.branches == ("master",)
    # origin was never fetched: no origin/master here, so the local mainline, which exists.
    assert descriptor.quality.coverage.compare_branch == "master"
    assert "origin has not been fetched or pushed to" in (root / "pipegen.yaml").read_text(encoding="utf-8")


def _commit_all(repo: git.Repo, message: str) -> None:
    repo.git.add(all=True)
    author = git.Actor("Test", "test@example.com")
    repo.index.commit(message, author=author, committer=author)


def test_without_a_remote_the_compare_branch_is_the_local_mainline(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fresh", files=("tests/test_x.py",))
    with git.Repo(root) as repo:
        repo.git.checkout("-b", "main")
        _commit_all(repo, "first")
    descriptor = written_descriptor(root)
    assert descriptor.quality.coverage.compare_branch == "main"
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "count against main, the local mainline" in text and "(no remote yet)" in text
    # The lint ratchet and the coverage gate of the plan compare with that branch.
    assert {job.compare_branch for job in build_plan(descriptor).jobs if job.compare_branch} == {"main"}


def test_with_origins_mainline_fetched_the_compare_branch_is_origins(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream", files=("tests/test_x.py",))
    with git.Repo(upstream) as repo:
        repo.git.checkout("-b", "main")
        _commit_all(repo, "first")
    git.Repo.clone_from(upstream, tmp_path / "clone").close()
    descriptor = written_descriptor(tmp_path / "clone")
    assert descriptor.quality.coverage.compare_branch == "origin/main"
    assert "count against origin/main, the remote's mainline" in (tmp_path / "clone" / "pipegen.yaml").read_text(
        encoding="utf-8")


def test_mainline_follows_origin_head_in_a_clone(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path / "upstream", files=("README.md",))
    repo = git.Repo(upstream)
    repo.git.checkout("-b", "trunk")
    repo.index.add(["README.md"])
    author = git.Actor("Test", "test@example.com")
    repo.index.commit("first", author=author, committer=author)
    clone = git.Repo.clone_from(upstream, tmp_path / "clone")
    repo.close()
    clone.close()
    detection = inspect_repository(tmp_path / "clone")
    assert (detection.git.default_branch, detection.git.branch_source) == ("trunk", "origin/HEAD")
    assert detection.targets == TARGETS  # a local-path remote names no platform


def test_a_remote_without_url_is_ignored(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "odd")
    with (root / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write('[remote "origin"]\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n')
    detection = inspect_repository(root)
    assert detection.git.is_repo and detection.git.remote_url is None
    assert detection.targets_source.startswith("no git remote")


def test_a_fresh_repository_without_commits_defaults_to_main(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "fresh", {"origin": GITHUB_HTTPS})
    assert inspect_repository(root).git.default_branch == "main"


# --- project, requirements, tests -----------------------------------------------------------

def test_project_name_and_python_come_from_pyproject(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "folder")
    (root / "pyproject.toml").write_text('[project]\nname = "churn-model"\nrequires-python = ">=3.10"\n',
                                         encoding="utf-8")
    detection = inspect_repository(root)
    assert (detection.name.value, detection.python.value) == ("churn-model", "3.10")
    descriptor = written_descriptor(root)
    assert (descriptor.project.name, descriptor.project.python) == ("churn-model", "3.10")


def test_project_name_falls_back_to_the_sanitised_folder_name(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "My Churn Model!")
    detection = inspect_repository(root)
    assert detection.name.value == "My-Churn-Model"
    assert detection.name.source == "the folder name"
    assert detection.python.value == "3.11"


def test_a_broken_pyproject_is_ignored_not_fatal(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "broken")
    (root / "pyproject.toml").write_text("[project\nname = ", encoding="utf-8")
    assert inspect_repository(root).name.value == "broken"


@pytest.mark.parametrize("spec, version", [
    (">=3.10", "3.10"), (">=3.9,<4", "3.9"), (">= 3.12, < 3.14", "3.12"), ("~=3.12", "3.12"),
    ("==3.11.*", "3.11"), ("^3.10", "3.10"),
    (">3.9", "3.11"), (">=3.9,>=3.10", "3.11"), ("<3.13", "3.11"), (">=2.7", "3.11"),
])
def test_python_version_is_a_clear_lower_bound_or_the_default(spec: str, version: str) -> None:
    assert python_version({"project": {"requires-python": spec}}).value == version


def test_python_version_from_poetry() -> None:
    assert python_version({"tool": {"poetry": {"dependencies": {"python": "^3.12"}}}}).value == "3.12"


@pytest.mark.parametrize("text, name", [("churn-model", "churn-model"), (" a b ", "a-b"), ("***", "project"),
                                        ("Churn_Model.v2", "Churn_Model.v2")])
def test_sanitise_project_name(text: str, name: str) -> None:
    assert sanitise_project_name(text) == name


@pytest.mark.parametrize("project, image", [("Churn_Model", "churn-model"), ("churn.model", "churn-model"),
                                            ("___", "app")])
def test_image_name_is_a_valid_repository_name(project: str, image: str) -> None:
    assert image_name(project) == image


@pytest.mark.parametrize("files, expected", [
    (("requirements.txt",), {"runtime": "requirements.txt"}),
    (("requirements.txt", "requirements-test.txt", "requirements-dev.txt"),
     {"runtime": "requirements.txt", "test": "requirements-test.txt", "dev": "requirements-dev.txt"}),
    (("requirements_test.txt",), {"test": "requirements_test.txt"}),
    (("test-requirements.txt",), {"test": "test-requirements.txt"}),
    ((), {}),
])
def test_requirements_files_are_separated_by_purpose(tmp_path: Path, files: tuple, expected: dict) -> None:
    root = make_repo(tmp_path / "proj", files=files)
    assert inspect_repository(root).requirements == expected
    requirements = written_descriptor(root).project.requirements
    assert {kind: getattr(requirements, kind) for kind in ("runtime", "test", "dev")
            if getattr(requirements, kind)} == expected


def test_test_levels_and_source_folder(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "proj", files=("src/proj/__init__.py",),
                     folders=("tests/unit", "tests/integration", "tests/functional"))
    descriptor = written_descriptor(root)
    assert descriptor.tests.levels() == [("unit", "tests/unit"), ("integration", "tests/integration"),
                                         ("functional", "tests/functional")]
    assert descriptor.project.source == ("src/proj",)  # the package, not a guessed folder
    plan = build_plan(descriptor)
    ids = [job.id for stage in plan.stages for job in stage.jobs]
    assert ids.index("unit") < ids.index("integration") < ids.index("functional")


def test_no_tests_no_source_still_validates_and_plans_a_unit_job_that_fails_until_there_are_tests(
        tmp_path: Path) -> None:
    """A pipeline that runs no tests would be green for the wrong reason: the unit level names tests/, which
    pytest cannot find until the tests are there (or the descriptor names theirs)."""
    root = make_repo(tmp_path / "bare")
    descriptor = written_descriptor(root)
    assert descriptor.tests.levels() == [("unit", "tests")]
    assert "tests:  # none found: the unit job fails until tests/ holds tests" in \
        (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert descriptor.project.source == ()
    assert [stage.id for stage in build_plan(descriptor).stages] == ["test"]


def test_an_application_folders_tests_run_from_the_root_with_the_folder_on_pythonpath(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "web", files=("project/requirements.txt", "project/app/__init__.py",
                                              "project/tests/test_ping.py"))
    descriptor = written_descriptor(root)
    assert descriptor.tests.levels() == [("unit", "project/tests")]
    assert descriptor.tests.env == (("PYTHONPATH", "project"),)
    assert descriptor.project.requirements.runtime == "project/requirements.txt"
    assert descriptor.project.source == ("project/app",)


# --- image, model, dags ---------------------------------------------------------------------

def full_project(root: Path) -> Path:
    """The reference layout: every detector finds something."""
    make_repo(root, {"origin": GITHUB_HTTPS},
              files=("requirements.txt", "requirements-test.txt", "requirements-dev.txt", "Dockerfile",
                     "src/churn/train.py"),
              folders=("tests/unit", "tests/integration", "tests/functional", "dags", "data"))
    (root / "pyproject.toml").write_text('[project]\nname = "churn-model"\nrequires-python = ">=3.11"\n',
                                         encoding="utf-8")
    return root


def test_full_project_validates_and_plans_with_an_image_but_no_invented_deployments(tmp_path: Path) -> None:
    root = full_project(tmp_path / "churn")
    descriptor = written_descriptor(root)
    assert descriptor.image.name == "churn-model"
    assert descriptor.image.registry_var == "REGISTRY"
    assert descriptor.image.dockerfile == "Dockerfile"
    assert not descriptor.environments  # deploy commands are the user's to write
    assert descriptor.model is None  # commented until training publishes MODEL_VERSION
    plan = build_plan(descriptor)
    ids = {job.id for stage in plan.stages for job in stage.jobs}
    assert {"lint", "unit", "integration", "functional", "build"} <= ids
    assert not ids & {"deploy-qa", "deploy-prod", "train", "promote-model"}


def test_the_commented_hints_are_valid_when_uncommented(tmp_path: Path) -> None:
    """The commented model, environments and DAG blocks are the exact text of valid blocks:
    a user who uncomments them gets a descriptor that validates and plans."""
    root = full_project(tmp_path / "churn")
    detection = inspect_repository(root)
    text = render_descriptor(detection)
    model, environments = model_block(detection), environments_block(detection)
    assert commented(model) in text and commented(environments) in text
    jobs = next(line for line in text.splitlines() if line == "# jobs:")
    dag_block = "\n".join(line[2:] for line in text[text.index(jobs):].splitlines()) + "\n"
    assert "data_paths" in text
    uncommented = text.replace("  # data_paths:", "  data_paths:") + model + environments + dag_block
    descriptor = parse_descriptor(uncommented, Path("pipegen.yaml"))
    assert descriptor.model.train == "PYTHONPATH=src python -m churn.train"
    assert descriptor.triggers.data_paths == ("data/**",)
    plan = build_plan(descriptor)
    ids = {job.id for stage in plan.stages for job in stage.jobs}
    assert {"train", "model-gate", "build", "deploy-qa", "deploy-prod", "promote-model", "publish-dags"} <= ids


@pytest.mark.parametrize("files, command", [
    (("MLproject", "train.py"), "mlflow run . -e ENTRY_POINT --env-manager local"),  # no entry points listed
    (("train.py",), "python train.py"),
    (("src/churn/train.py",), "PYTHONPATH=src python -m churn.train"),
])
def test_training_entry_points(tmp_path: Path, files: tuple, command: str) -> None:
    root = make_repo(tmp_path / "proj", files=files)
    detection = inspect_repository(root)
    assert detection.training.command == command
    assert f"#   train: {yaml_scalar(command)}" in render_descriptor(detection)


def test_no_dockerfile_no_image(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "lib", folders=("tests",))
    assert "image:" not in render_descriptor(inspect_repository(root))
    assert written_descriptor(root).image is None


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    root = full_project(tmp_path / "churn")
    assert render_descriptor(inspect_repository(root)) == render_descriptor(inspect_repository(root))


@pytest.mark.parametrize("text", ["main", "true", "no", "1.0", "3", "a: b", "#x", "-x", "PYTHONPATH=src x",
                                  "it's", 'say "hi"', "", "src/app", "release/*"])
def test_yaml_scalar_reads_back_as_the_same_string(text: str) -> None:
    assert yaml.safe_load(f"key: {yaml_scalar(text)}") == {"key": text}


def test_check_rendered_refuses_an_invalid_descriptor() -> None:
    with pytest.raises(UsageError, match="nothing was written"):
        check_rendered("project: {name: x}\ntargets: [nowhere]\n", Path("pipegen.yaml"))


# --- writing --------------------------------------------------------------------------------

def test_write_refuses_to_overwrite_and_leaves_the_file_alone(tmp_path: Path) -> None:
    output = tmp_path / "pipegen.yaml"
    output.write_bytes(b"# mine\nproject: {name: mine}\n")
    with pytest.raises(UsageError, match="--force"):
        write_descriptor("new\n", output, force=False)
    assert output.read_bytes() == b"# mine\nproject: {name: mine}\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pipegen.yaml"]  # no temp, no backup


def test_force_keeps_every_previous_version(tmp_path: Path) -> None:
    output = tmp_path / "pipegen.yaml"
    output.write_text("first\n", encoding="utf-8")
    assert write_descriptor("second\n", output, force=True).backup == tmp_path / "pipegen.yaml.bak"
    assert write_descriptor("third\n", output, force=True).backup == tmp_path / "pipegen.yaml.bak.1"
    assert output.read_text(encoding="utf-8") == "third\n"
    assert (tmp_path / "pipegen.yaml.bak").read_text(encoding="utf-8") == "first\n"
    assert (tmp_path / "pipegen.yaml.bak.1").read_text(encoding="utf-8") == "second\n"


def test_force_with_identical_content_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "pipegen.yaml"
    output.write_text("same\n", encoding="utf-8")
    outcome = write_descriptor("same\n", output, force=True)
    assert not outcome.written and outcome.backup is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pipegen.yaml"]


def test_new_file_is_readable_by_others_like_any_file_the_user_creates(tmp_path: Path) -> None:
    output = tmp_path / "sub" / "pipegen.yaml"
    write_descriptor("x\n", output, force=False)
    umask = os.umask(0)
    os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(path.name for path in output.parent.iterdir()) == ["pipegen.yaml"]


def test_output_that_is_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        write_descriptor("x\n", tmp_path, force=True)


def test_help_does_not_import_git() -> None:
    code = ("import sys\nfrom pipegen.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('git' in sys.modules, 'pipegen.init.starter' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False False"
