"""The committed GitLab pipelines, executed by gitlab-ci-local 4.73.0 (shell executor, a fresh venv per job),
asserted from what ran: job statuses, the MLflow registry's aliases and tags, values printed by jobs."""
from __future__ import annotations

from pathlib import Path

import pytest

from .gitlab_ci_local import GitlabCiLocal

pytestmark = pytest.mark.slow


@pytest.fixture
def gitlab(example_repo, wheelhouse, standin_bin, tmp_path: Path):
    def make(name: str, **variables: str) -> GitlabCiLocal:
        repo = example_repo(name, remote_url=f"https://gitlab.example.test/pipegen-tests/{name}.git")
        work = tmp_path / "gitlab"
        work.mkdir(exist_ok=True)
        return GitlabCiLocal(repo, wheelhouse, standin_bin, work, variables)
    return make


def test_minimal_push_to_main_runs_test_and_passes(gitlab) -> None:
    ran = gitlab("minimal").run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "unit": "PASS"}, ran.explain()
    assert "1 passed" in ran.log("unit") or " passed" in ran.log("unit"), ran.log("unit")
