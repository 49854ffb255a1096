"""`pipegen changes` in a real git repository: which projects a run's commit range changed, published as
CHANGED_<PROJECT> job outputs (GitHub's files read back), every project when the range is unknown."""
from __future__ import annotations

import json
import re
from pathlib import Path

import git
import pytest

from helpers import run_pipegen
from pipegen.ci.changes import changed_files, commit_range

DESCRIPTOR = """\
targets: [github, gitlab]
tests: {unit: tests/unit}
projects:
  features: {folder: libs/features}
  churn: {folder: models/churn, depends_on: [features]}
  scoring: {folder: services/scoring, depends_on: [features], paths: ["config/scoring/**"]}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> git.Repo:
    root = tmp_path / "repo"
    repository = git.Repo.init(root, initial_branch="main")
    with repository.config_writer() as config:
        config.set_value("user", "name", "pipegen tests")
        config.set_value("user", "email", "tests@pipegen.invalid")
        config.set_value("commit", "gpgsign", "false")
    commit(repository, {"pipegen.yaml": DESCRIPTOR, "libs/features/a.py": "", "models/churn/b.py": "",
                        "services/scoring/c.py": "", "README.md": ""})
    monkeypatch.chdir(root)
    for name in ("GITHUB_ACTIONS", "GITLAB_CI", "PIPEGEN_CHANGES_BASE", "TF_BUILD", "JENKINS_URL"):
        monkeypatch.delenv(name, raising=False)
    return repository


def commit(repository: git.Repo, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = Path(repository.working_tree_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    repository.index.add(list(files))
    return repository.index.commit(f"change {', '.join(files)}").hexsha


def github_push(repository: git.Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys, before: str,
                event: str = "push", payload: dict | None = None) -> dict[str, str]:
    """Runs `pipegen changes` as a GitHub Actions step would; returns the outputs it published."""
    event_file, output, env = tmp_path / "event.json", tmp_path / "output", tmp_path / "env"
    for path in (output, env):
        path.write_text("", encoding="utf-8")
    event_file.write_text(json.dumps(payload or {"before": before, "after": repository.head.commit.hexsha}),
                          encoding="utf-8")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_file),
                        "GITHUB_SHA": repository.head.commit.hexsha, "GITHUB_OUTPUT": str(output),
                        "GITHUB_ENV": str(env), "RUNNER_TEMP": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    result = run_pipegen(capsys, "changes")
    assert result.exit_code == 0, result.out + result.err
    return dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())


def test_a_push_to_one_project_selects_it_alone(repo, monkeypatch, tmp_path, capsys) -> None:
    before = repo.head.commit.hexsha
    commit(repo, {"models/churn/b.py": "x = 1\n"})
    assert github_push(repo, monkeypatch, tmp_path, capsys, before) == {
        "CHANGED_FEATURES": "false", "CHANGED_CHURN": "true", "CHANGED_SCORING": "false"}


def test_a_library_change_selects_its_dependants(repo, monkeypatch, tmp_path, capsys) -> None:
    before = repo.head.commit.hexsha
    commit(repo, {"libs/features/a.py": "y = 2\n"})
    assert set(github_push(repo, monkeypatch, tmp_path, capsys, before).values()) == {"true"}


def test_a_shared_path_selects_the_project_that_declares_it(repo, monkeypatch, tmp_path, capsys) -> None:
    before = repo.head.commit.hexsha
    commit(repo, {"config/scoring/limits.yaml": "limit: 3\n", "README.md": "words\n"})
    assert github_push(repo, monkeypatch, tmp_path, capsys, before) == {
        "CHANGED_FEATURES": "false", "CHANGED_CHURN": "false", "CHANGED_SCORING": "true"}


@pytest.mark.parametrize("case", ["descriptor", "first-push", "schedule", "unknown-before"])
def test_every_project_runs_when_the_range_says_nothing_narrower(case, repo, monkeypatch, tmp_path, capsys) -> None:
    before = repo.head.commit.hexsha
    commit(repo, {"pipegen.yaml": DESCRIPTOR + "# a comment\n"} if case == "descriptor" else {"README.md": "x\n"})
    before = {"first-push": "0" * 40, "unknown-before": "1" * 40}.get(case, before)
    event = "schedule" if case == "schedule" else "push"
    outputs = github_push(repo, monkeypatch, tmp_path, capsys, before, event=event)
    assert outputs and set(outputs.values()) == {"true"}, outputs


def test_a_pull_request_compares_from_the_merge_base(repo, monkeypatch, tmp_path, capsys) -> None:
    base = repo.head.commit.hexsha
    repo.git.checkout("-b", "topic")
    commit(repo, {"models/churn/b.py": "z = 3\n"})
    outputs = github_push(repo, monkeypatch, tmp_path, capsys, base, event="pull_request",
                          payload={"pull_request": {"base": {"sha": base}}})
    assert outputs == {"CHANGED_FEATURES": "false", "CHANGED_CHURN": "true", "CHANGED_SCORING": "false"}


def test_one_project_descriptor_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "pipegen.yaml").write_text("project: {name: one}\ntargets: [github]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "changes", "--no-publish")
    assert result.exit_code == 2 and "declares one project" in result.err


def test_gitlab_ranges_from_its_variables() -> None:
    push = commit_range({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BEFORE_SHA": "a" * 40,
                         "CI_COMMIT_SHA": "b" * 40})
    assert (push.base, push.head) == ("a" * 40, "b" * 40)
    merge = commit_range({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
                          "CI_MERGE_REQUEST_DIFF_BASE_SHA": "c" * 40, "CI_COMMIT_SHA": "b" * 40})
    assert (merge.base, merge.head) == ("c" * 40, "b" * 40)
    for source, before in (("push", "0" * 40), ("schedule", "a" * 40), ("web", "")):
        assert commit_range({"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": source, "CI_COMMIT_BEFORE_SHA": before,
                             "CI_COMMIT_SHA": "b" * 40}).base is None


def test_a_local_run_compares_the_work_tree_with_the_base(repo, tmp_path) -> None:
    root = Path(repo.working_tree_dir)
    repo.git.checkout("-b", "topic")
    commit(repo, {"models/churn/b.py": "committed = 1\n"})
    (root / "services/scoring/c.py").write_text("uncommitted = 1\n", encoding="utf-8")
    (root / "config/scoring").mkdir(parents=True)
    (root / "config/scoring/new.yaml").write_text("new: file\n", encoding="utf-8")
    files, _ = changed_files(root, commit_range({"PIPEGEN_CHANGES_BASE": "main"}))
    assert sorted(files) == ["config/scoring/new.yaml", "models/churn/b.py", "services/scoring/c.py"]
    for environ in ({"PIPEGEN_CHANGES_BASE": "main", "PIPEGEN_EVENT": "schedule"}, {}):
        assert changed_files(root, commit_range(environ))[0] is None
    missing, why = changed_files(root, commit_range({"PIPEGEN_CHANGES_BASE": "no-such-branch"}))
    assert missing is None and "not in this clone" in why


def azure_build(repository: git.Repo, monkeypatch: pytest.MonkeyPatch, capsys, reason: str,
                **variables: str) -> dict[str, str]:
    """Runs `pipegen changes` as an Azure Pipelines step would; returns the output variables its
    `##vso[task.setvariable ...;isOutput=true]` logging commands set."""
    for name, value in {"TF_BUILD": "True", "BUILD_REASON": reason,
                        "BUILD_SOURCEVERSION": repository.head.commit.hexsha, **variables}.items():
        monkeypatch.setenv(name, value)
    result = run_pipegen(capsys, "changes")
    assert result.exit_code == 0, result.out + result.err
    found = re.findall(r"^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$", result.out, re.MULTILINE)
    return dict(found)


def test_azure_a_merged_pull_request_compares_with_the_branch_before_it(repo, monkeypatch, capsys) -> None:
    repo.git.checkout("-b", "topic")
    commit(repo, {"models/churn/b.py": "merged = 1\n"})
    repo.git.checkout("main")
    commit(repo, {"README.md": "main moved on\n"})
    repo.git.merge("--no-ff", "topic", "-m", "Merge topic")
    assert azure_build(repo, monkeypatch, capsys, "IndividualCI") == {
        "CHANGED_FEATURES": "false", "CHANGED_CHURN": "true", "CHANGED_SCORING": "false"}


@pytest.mark.parametrize("reason", ["IndividualCI", "BatchedCI", "Schedule", "Manual", "ResourceTrigger"])
def test_azure_runs_every_project_when_it_does_not_name_the_range(reason, repo, monkeypatch, capsys) -> None:
    # A plain commit: Azure does not say which commits its push brought, so nothing is skipped.
    commit(repo, {"models/churn/b.py": "pushed = 1\n"})
    outputs = azure_build(repo, monkeypatch, capsys, reason)
    assert len(outputs) == 3 and set(outputs.values()) == {"true"}, outputs


def test_azure_a_pull_request_compares_with_its_target_branch(repo, monkeypatch, capsys) -> None:
    repo.create_head("refs/remotes/origin/main", repo.head.commit)  # what Azure's checkout fetches
    repo.git.checkout("-b", "topic")
    commit(repo, {"config/scoring/limits.yaml": "limit: 4\n"})
    repo.git.checkout("main")
    commit(repo, {"libs/features/a.py": "on main since = 1\n"})
    repo.git.update_ref("refs/remotes/origin/main", "HEAD")
    repo.git.checkout("topic")
    assert azure_build(repo, monkeypatch, capsys, "PullRequest", SYSTEM_PULLREQUEST_TARGETBRANCH="refs/heads/main") == {
        "CHANGED_FEATURES": "false", "CHANGED_CHURN": "false", "CHANGED_SCORING": "true"}
    missing = azure_build(repo, monkeypatch, capsys, "PullRequest", SYSTEM_PULLREQUEST_TARGETBRANCH="refs/heads/gone")
    assert set(missing.values()) == {"true"}


def test_azure_a_pull_request_without_its_target_branch_runs_every_project(tmp_path) -> None:
    commits = commit_range({"TF_BUILD": "True", "BUILD_REASON": "PullRequest", "BUILD_SOURCEVERSION": "b" * 40},
                           tmp_path)
    assert (commits.base, commits.head) == (None, "b" * 40) and "without a target branch" in commits.why
