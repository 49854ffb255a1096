"""What "changed" means when the compare branch is missing or is the branch being built, for the
coverage gate's changed lines (the lint ratchet's are in test_lint_ratchet.py), in real git
repositories: no remote, the mainline itself, a detached HEAD, a CI checkout with only origin's
branches, a shallow single-branch clone."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipegen import ci
from pipegen.errors import EvaluationError
from pipegen.gates.compare_branch import candidates, find_base

from .conftest import Project, conditions_by_metric, read_json, run_gate
from .test_coverage import SKIPS_THE_FEATURE


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def changed_lines_condition(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    result = run_gate("coverage", "--min", "0", "--diff-min", "80", *args, "--report-json", "out.json", env=env)
    return result.exit_code, conditions_by_metric(read_json(Path("out.json"))).get("changed_lines_coverage", {}), \
        result.output


def test_without_a_remote_the_default_compares_with_the_local_main(project_factory) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    git(project.root, "remote", "remove", "origin")  # and with it every origin/* branch
    code, changed, output = changed_lines_condition()
    assert code == 1, output
    assert changed["status"] == "fail" and changed["actual"] == 20  # the feature's untested lines, 1 of 5 ran
    assert changed["detail"] == "1/5 changed lines covered against main (local)"
    assert ("origin/main (the default compare branch) is not in this repository (no remote named origin): "
            "changed lines are compared with main") in output


def test_a_compare_branch_asked_for_that_cannot_be_found_is_exit_3(project_factory) -> None:
    project_factory(driver=SKIPS_THE_FEATURE)
    result = run_gate("coverage", "--diff-min", "80", "--compare-branch", "origin/develop")
    assert result.exit_code == 3, result.output
    assert "neither 'origin/develop' nor 'develop' exists" in result.output
    assert "git fetch origin develop" in result.output


def test_a_bare_name_finds_origins_branch_as_in_a_ci_checkout(project_factory) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    git(project.root, "branch", "--quiet", "-D", "main")  # a CI checkout holds only origin's branches
    code, changed, output = changed_lines_condition("--compare-branch", "main")
    assert code == 1, output
    assert changed["detail"] == "1/5 changed lines covered against origin/main"
    assert "no local branch main, as in a CI checkout" in output


@pytest.mark.parametrize("how", ["checked out", "pipegen run --branch main", "GitLab CI, detached"])
def test_building_the_compare_branch_itself_changes_nothing(project_factory, how: str) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    env = None
    if how == "checked out":
        git(project.root, "checkout", "--quiet", "main")
    elif how == "pipegen run --branch main":
        env = {"PIPEGEN_BRANCH": "main"}  # what `pipegen run` tells its jobs
    else:
        git(project.root, "checkout", "--quiet", "--detach", "origin/main")
        env = {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main"}
    code, changed, output = changed_lines_condition(env=env)
    assert code == 0, output
    assert changed["status"] == "skip" and changed["detail"] == "no measured lines changed against main itself"
    assert "building main, the compare branch itself: nothing committed is changed" in output


def test_a_merge_request_from_the_feature_compares_with_main(project_factory) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    git(project.root, "checkout", "--quiet", "--detach", "feature")
    env = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
           "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_COMMIT_BRANCH": ""}
    code, changed, output = changed_lines_condition(env=env)
    assert code == 1 and changed["detail"] == "1/5 changed lines covered against origin/main", output


def test_a_detached_head_compares_with_the_compare_branch(project_factory) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    git(project.root, "checkout", "--quiet", "--detach", "feature")
    code, changed, output = changed_lines_condition()
    assert code == 1 and changed["detail"] == "1/5 changed lines covered against origin/main", output


def test_a_shallow_single_branch_ci_checkout_says_what_to_fetch(
        project_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    git(project.root, "push", "--quiet", "origin", "feature")
    checkout = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--single-branch", "--branch", "feature",
        (tmp_path / "origin.git").as_uri(), str(checkout))
    shutil.copy(project.root / "driver.py", checkout / "driver.py")
    ci_project = Project(checkout)
    ci_project.coverage("run", "--branch", "--source=calc", "driver.py")
    ci_project.coverage("xml", "-o", str(ci_project.coverage_xml))
    monkeypatch.chdir(checkout)

    missing = run_gate("coverage", "--diff-min", "80")
    assert missing.exit_code == 3
    assert "a single-branch CI checkout lacks it" in missing.output and "shallow too" in missing.output

    git(checkout, "fetch", "--quiet", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    shallow = run_gate("coverage", "--diff-min", "80")
    assert shallow.exit_code == 3
    assert "this checkout is shallow: its history does not reach where HEAD left origin/main" in shallow.output
    assert "fetch-depth: 0" in shallow.output

    git(checkout, "fetch", "--quiet", "--unshallow", "origin")  # what the generated jobs ask their CI for
    code, changed, output = changed_lines_condition()
    assert code == 1 and changed["detail"] == "1/5 changed lines covered against origin/main", output


def test_no_commit_yet_cannot_evaluate(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    with pytest.raises(EvaluationError, match="HEAD has no commit yet"):
        find_base(None, tmp_path, {})


def test_a_ref_that_looks_like_an_option_is_refused(project_factory) -> None:
    project = project_factory(driver=SKIPS_THE_FEATURE)
    with pytest.raises(EvaluationError, match="is not a git ref"):
        find_base("--output=/tmp/x", project.root, {})


@pytest.mark.parametrize("asked, order", [
    ("origin/main", ["refs/remotes/origin/main", "refs/heads/main"]),
    ("main", ["main", "refs/remotes/origin/main"]),
    ("refs/heads/main", ["refs/heads/main", "refs/remotes/origin/main"]),
    ("refs/tags/v1", ["refs/tags/v1"]),
])
def test_candidates_try_the_asked_side_first(asked: str, order: list[str]) -> None:
    assert [ref for ref, _ in candidates(asked)] == order


@pytest.mark.parametrize("environ, branch", [
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main"}, "main"),
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_HEAD_REF": "feature"}, "feature"),
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1"}, None),
    ({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main"}, "main"),
    ({"GITLAB_CI": "true", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature"}, "feature"),
    ({"TF_BUILD": "True", "BUILD_SOURCEBRANCH": "refs/heads/release/2"}, "release/2"),
    ({"TF_BUILD": "True", "BUILD_SOURCEBRANCH": "refs/pull/7/merge",
      "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature"}, "feature"),
    ({"JENKINS_URL": "http://jenkins", "BRANCH_NAME": "PR-7", "CHANGE_BRANCH": "feature"}, "feature"),
    ({"JENKINS_URL": "http://jenkins", "BRANCH_NAME": "main"}, "main"),
    ({"JENKINS_URL": "http://jenkins", "GIT_BRANCH": "origin/main"}, "main"),
    ({"PIPEGEN_BRANCH": "main", "GITLAB_CI": "true", "CI_COMMIT_BRANCH": "other"}, "main"),
    ({"PIPEGEN_BRANCH": "HEAD"}, None),
    ({"CI_COMMIT_BRANCH": "main"}, None),  # not in GitLab: git says
])
def test_the_branch_being_built_comes_from_the_ci(environ: dict[str, str], branch: str | None) -> None:
    assert ci.branch_being_built(environ) == branch
