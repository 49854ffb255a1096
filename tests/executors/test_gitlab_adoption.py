"""Adoption under GitLab's own semantics: fixture projects (tests/fixtures/adoption/) taken through
`pipegen init --target gitlab` and `pipegen generate` as they are, then the pipeline GitLab would
start for a push to main, executed by gitlab-ci-local (shell executor, a fresh venv per job)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .adoption import adopted_repository
from .gitlab_ci_local import GitlabCiLocal
from .submodules import add_rates_submodule

pytestmark = pytest.mark.slow


@pytest.fixture
def adopted_on_gitlab(wheelhouse, standin_bin, tmp_path: Path):
    def make(shape: str, prepare=None) -> GitlabCiLocal:
        repo = adopted_repository(shape, tmp_path, "gitlab",
                                  ("gcl-origin", f"https://gitlab.example.test/pipegen-tests/{shape}.git"), prepare)
        work = tmp_path / "gitlab"
        work.mkdir(exist_ok=True)
        return GitlabCiLocal(repo, wheelhouse, standin_bin, work)
    return make


def test_poetry_application_that_is_not_a_package(adopted_on_gitlab) -> None:
    ran = adopted_on_gitlab("poetry-app").run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "lint": "PASS", "unit": "PASS"}, ran.explain()
    assert "2 passed" in ran.log("unit")


def test_xdist_workers_are_measured_by_the_coverage_gate(adopted_on_gitlab) -> None:
    pipeline = adopted_on_gitlab("xdist-lib")
    ran = pipeline.run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "lint": "PASS", "unit": "PASS"}, ran.explain()
    unit = ran.log("unit")
    assert "created: 2/2 workers" in unit
    # Every line ran in a worker or in the subprocess; the gate's total says all of them were seen.
    assert re.search(r"total_coverage\s.*\s100(\.0+)?\s.*lines 19/19", unit), unit[-3000:]


def test_tests_reading_a_git_submodule_pass(adopted_on_gitlab) -> None:
    pipeline = adopted_on_gitlab("submodule-data", add_rates_submodule)
    variables = yaml.safe_load((pipeline.repo.root / ".gitlab-ci.yml").read_text(encoding="utf-8"))["variables"]
    assert variables["GIT_SUBMODULE_STRATEGY"] == "recursive"
    ran = pipeline.run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "lint": "PASS", "unit": "PASS"}, ran.explain()
    assert "2 passed" in ran.log("unit")


def test_an_application_in_a_folder_of_its_own_runs_its_tests(adopted_on_gitlab) -> None:
    """project/tests import `app` from project/: tests.env's PYTHONPATH reaches GitLab's job too."""
    ran = adopted_on_gitlab("subfolder-app").run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "lint": "PASS", "unit": "PASS"}, ran.explain()
    assert re.search(r"\b4 passed\b", ran.log("unit")), ran.log("unit")[-3000:]
