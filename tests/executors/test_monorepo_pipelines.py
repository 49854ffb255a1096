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
def test_github_push_to_one_project_runs_only_its_jobs(monorepo_act) -> None:
    repo = monorepo_act.repo
    before = repo.head
    after = repo.push_change("churn: one more test", CHURN_CHANGE)
    ran = monorepo_act.run("push", push_event(before, after))
    assert ran.returncode == 0, ran.explain()
    assert ran.ran() == {"pipegen-check": "success", "changes": "success", "churn-unit": "success"}, ran.explain()
    assert ran.skipped() == EVERY_UNIT - {"churn-unit"}, ran.explain()
    assert "3 passed" in ran.log("churn-unit"), ran.log("churn-unit")


@pytest.mark.pipeline_scenario(minutes=2)
def test_github_push_to_the_library_runs_it_and_its_dependants(monorepo_act) -> None:
    repo = monorepo_act.repo
    before = repo.head
    after = repo.push_change("features: one more test", LIBRARY_CHANGE)
    ran = monorepo_act.run("push", push_event(before, after))
    assert ran.returncode == 0, ran.explain()
    assert ran.ran() == {"pipegen-check": "success", "changes": "success",
                         **{job: "success" for job in EVERY_UNIT}}, ran.explain()
    assert "4 passed" in ran.log("features-unit"), ran.log("features-unit")


@pytest.fixture
def monorepo_gitlab(example_repo, wheelhouse, standin_bin, tmp_path: Path) -> GitlabCiLocal:
    repo = example_repo("monorepo", remote_url="https://gitlab.example.test/pipegen-tests/monorepo.git")
    work = tmp_path / "gitlab"
    work.mkdir()
    return GitlabCiLocal(repo, wheelhouse, standin_bin, work, {})


@pytest.mark.pipeline_scenario(minutes=2)
def test_gitlab_change_to_one_project_runs_only_its_jobs(monorepo_gitlab) -> None:
    # gitlab-ci-local evaluates `rules:changes` against origin/main, as GitLab does for a branch's
    # merge request: the change is committed on a branch, origin/main stays at the base.
    repo = monorepo_gitlab.repo
    repo.git("checkout", "--quiet", "-b", "churn-change")
    repo.commit("churn: one more test", CHURN_CHANGE)
    ran = monorepo_gitlab.run("merge_request_event")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "churn-unit": "PASS"}, ran.explain()
    assert "3 passed" in ran.log("churn-unit"), ran.log("churn-unit")


@pytest.mark.pipeline_scenario(minutes=2)
def test_gitlab_change_to_the_library_runs_it_and_its_dependants(monorepo_gitlab) -> None:
    repo = monorepo_gitlab.repo
    repo.git("checkout", "--quiet", "-b", "features-change")
    repo.commit("features: one more test", LIBRARY_CHANGE)
    ran = monorepo_gitlab.run("merge_request_event")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", **{job: "PASS" for job in EVERY_UNIT}}, ran.explain()
