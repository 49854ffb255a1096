"""examples/monorepo (a shared library, two models, a service: one descriptor with `projects:`), its committed
pipelines executed by act (GitHub) and gitlab-ci-local (GitLab) on this host, asserted from what ran: a change
in one project runs only that project's jobs; a change in the library runs the library and its dependants."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .act_runner import REMOTE_NAME, Act
from .gitlab_ci_local import GitlabCiLocal
from .test_github_drift_report import REPOSITORY, TOKEN, fixture_github_api, pull_request  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

EVERY_UNIT = {"features-unit", "churn-unit", "fraud-unit", "scoring-unit"}
CHURN_CHANGE = {"models/churn/tests/unit/test_more.py": "def test_churn_more() -> None:\n    assert 1 + 1 == 2\n"}
LIBRARY_CHANGE = {"libs/features/tests/unit/test_more.py": "def test_features_more() -> None:\n    assert True\n"}


# A change, and the unit jobs it runs (with how many tests that project's job then passes).
CASES = {"one project": (CHURN_CHANGE, {"churn-unit": 3}),
         "the library": (LIBRARY_CHANGE, {"features-unit": 4, "churn-unit": 2, "fraud-unit": 2, "scoring-unit": 1})}


def push_event(before: str, after: str) -> dict[str, Any]:
    return {"ref": "refs/heads/main", "before": before, "after": after, "repository": {"default_branch": "main"}}


@pytest.fixture
def monorepo_act(example_repo, wheelhouse, standin_bin, tmp_path: Path) -> Act:
    repo = example_repo("monorepo")
    repo.git("remote", "add", REMOTE_NAME, "https://github.com/pipegen-tests/monorepo.git")
    work = tmp_path / "act"
    work.mkdir()
    return Act(repo, wheelhouse, standin_bin, work)


@pytest.mark.pipeline_scenario(minutes=2)
@pytest.mark.parametrize("case", sorted(CASES))
def test_github_push_runs_the_changed_projects_jobs(case: str, monorepo_act) -> None:
    change, expected = CASES[case]
    repo = monorepo_act.repo
    before = repo.head
    after = repo.push_change(f"a change to {case}", change)
    ran = monorepo_act.run("push", push_event(before, after))
    assert ran.returncode == 0, ran.explain()
    assert ran.ran() == {"pipegen-check": "success", "changes": "success",
                         **{job: "success" for job in expected}}, ran.explain()
    assert ran.skipped() == EVERY_UNIT - set(expected), ran.explain()
    for job, passed in expected.items():
        assert f"{passed} passed" in ran.log(job), ran.log(job)


@pytest.fixture
def monorepo_gitlab(example_repo, wheelhouse, standin_bin, tmp_path: Path) -> GitlabCiLocal:
    repo = example_repo("monorepo", remote_url="https://gitlab.example.test/pipegen-tests/monorepo.git")
    work = tmp_path / "gitlab"
    work.mkdir()
    return GitlabCiLocal(repo, wheelhouse, standin_bin, work, {})


@pytest.mark.pipeline_scenario(minutes=2)
@pytest.mark.parametrize("case", sorted(CASES))
def test_gitlab_merge_request_runs_the_changed_projects_jobs(case: str, monorepo_gitlab) -> None:
    # gitlab-ci-local evaluates `rules:changes` against origin/main, as GitLab does for a merge request
    # into main: the change is committed on a branch, origin/main stays at the base.
    change, expected = CASES[case]
    repo = monorepo_gitlab.repo
    repo.git("checkout", "--quiet", "-b", "change")
    repo.commit(f"a change to {case}", change)
    ran = monorepo_gitlab.run("merge_request_event")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", **{job: "PASS" for job in expected}}, ran.explain()
    for job, passed in expected.items():
        assert f"{passed} passed" in ran.log(job), ran.log(job)


@pytest.mark.pipeline_scenario(minutes=3)
def test_github_pull_request_keeps_one_report_comment_per_project(
        example_repo, wheelhouse, standin_bin, tmp_path: Path, github_api) -> None:
    """With `report.comment`, each project's report-comment job reads its own project's reports (fetched by
    name into its folder) and keeps its own comment: a library change runs every project, and the pull
    request ends with one comment per project, each with that project's coverage gate report."""
    repo = example_repo("monorepo")
    repo.git("remote", "add", REMOTE_NAME, f"https://github.com/{REPOSITORY}.git")
    descriptor = (repo.root / "pipegen.yaml").read_text(encoding="utf-8")
    descriptor = descriptor.replace("targets: [github, gitlab, azure, jenkins]", "targets: [github]")
    # The example's code is short of the default lint bars: the scenario is about the comments, so the bars are low.
    quality = "quality:\n  coverage: {min: 0}\n  pylint: {min_score: 0}\n  flake8: {max_issues: 100}\n"
    repo.write({"pipegen.yaml": descriptor + quality + "report: {comment: true}\n",
                ".gitlab-ci.yml": None, "azure-pipelines.yml": None, "Jenkinsfile": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("monorepo: coverage gates and the report comment")
    repo.push("main")
    work = tmp_path / "act"
    work.mkdir()
    runner = Act(repo, wheelhouse, standin_bin, work, {}, {"GITHUB_TOKEN": TOKEN})
    repo.push_change("the library grows", LIBRARY_CHANGE, branch="new-data")
    ran = runner.run("pull_request", pull_request(repo), env={"GITHUB_API_URL": github_api.url})
    projects = ("features", "churn", "fraud", "scoring")
    assert {ran.results.get(f"{project}-report-comment") for project in projects} == {"success"}, ran.explain()
    ours = {project: [text for text in github_api.comments.values()
                      if f"<!-- pipegen:report-comment ci=github project={project} -->" in text]
            for project in projects}
    assert {project: len(found) for project, found in ours.items()} == dict.fromkeys(projects, 1), github_api.comments
    for project, (body,) in ours.items():
        assert f"## pipegen gate report: {project}" in body, body
        assert "pipegen gate `coverage`: PASS" in body, (project, body, ran.log(f"{project}-report-comment"))
    assert len(github_api.comments) == 1 + len(projects)  # the reviewer's comment stays
