"""`pipegen run` on examples/monorepo (several projects), asserted from the run's JSON summary: a change in one
project runs only its jobs, a change in the library its dependants too, --project one project and what it needs."""
from __future__ import annotations

import re

import pytest

from .conftest import job_log, pipegen_run, run_environment

pytestmark = pytest.mark.slow

UNITS = ("features-unit", "churn-unit", "fraud-unit", "scoring-unit")


@pytest.fixture
def monorepo(example_repo, run_find_links, wheelhouse):
    repo = example_repo("monorepo")
    repo.git("checkout", "--quiet", "-b", "topic")
    return repo, run_environment(PIP_FIND_LINKS=run_find_links, PIP_CACHE_DIR=str(wheelhouse.pip_cache))


@pytest.mark.pipeline_scenario(minutes=2)
def test_a_change_in_one_project_runs_only_its_jobs(monorepo) -> None:
    repo, env = monorepo
    repo.commit("fraud: one more test", {"models/fraud/tests/unit/test_more.py": "def test_more():\n    pass\n"})
    ran = pipegen_run(repo.root, "--changed-since", "main", env=env)
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "passed", "changes": "passed", "fraud-unit": "passed",
                            **{job: "unchanged" for job in UNITS if job != "fraud-unit"}}, ran.explain()
    assert re.search(r"\b3 passed\b", job_log(repo.root, "fraud-unit"))


@pytest.mark.pipeline_scenario(minutes=2)
def test_an_uncommitted_library_change_runs_the_library_and_its_dependants(monorepo) -> None:
    repo, env = monorepo
    repo.write({"libs/features/tests/unit/test_more.py": "def test_more():\n    pass\n"})
    ran = pipegen_run(repo.root, "--changed-since", "main", env=env)
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "passed", "changes": "passed",
                            **{job: "passed" for job in UNITS}}, ran.explain()
    assert re.search(r"\b4 passed\b", job_log(repo.root, "features-unit"))


@pytest.mark.pipeline_scenario(minutes=1)
def test_project_option_runs_that_project_and_what_it_needs(monorepo) -> None:
    repo, env = monorepo
    ran = pipegen_run(repo.root, "--project", "scoring", env=env)
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"changes": "passed", "features-unit": "passed", "scoring-unit": "passed"}, ran.explain()
    unknown = pipegen_run(repo.root, "--project", "billing", env=env)
    assert unknown.returncode == 2 and "this descriptor's projects are features, churn, fraud, scoring" in \
        unknown.stderr, unknown.stderr
