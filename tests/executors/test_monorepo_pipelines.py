"""examples/monorepo (a shared library, two models, a service: one descriptor with `projects:`), its committed
pipelines executed by act (GitHub) and gitlab-ci-local (GitLab) on this host, asserted from what ran: a change
in one project runs only that project's jobs; a change in the library runs the library and its dependants."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .act_runner import REMOTE_NAME, Act
from .gitlab_ci_local import GitlabCiLocal

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
