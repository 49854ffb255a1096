"""The committed GitLab pipelines, executed by gitlab-ci-local 4.73.0 (shell executor, a fresh venv per job),
asserted from what ran: job statuses, the MLflow registry's aliases and tags, values printed by jobs."""
from __future__ import annotations

import re
import subprocess
import sys
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
    assert re.search(r"\b\d+ passed\b", ran.log("unit")), ran.log("unit")
    assert "current    .gitlab-ci.yml" in ran.log("pipegen-check")


RELEASE_DESCRIPTOR = """\
version: 1
project:
  name: textstats
  python: "3.11"
  requirements: {test: requirements-test.txt}
targets: [gitlab]
tests:
  unit: tests/unit
environments:
  prod:
    approval: {approvers: [release-managers]}
    branch: main
jobs:
  - name: stamp
    stage: test
    run: pipegen output set RELEASE_STAMP "stamp-$CI_COMMIT_SHORT_SHA"
    outputs: [RELEASE_STAMP]
  - name: announce
    stage: prod
    inputs: [RELEASE_STAMP]
    run: echo "announce read RELEASE_STAMP=$RELEASE_STAMP"
"""


def test_custom_output_from_test_is_read_in_prod_after_approval(gitlab) -> None:
    pipeline = gitlab("minimal")
    repo = pipeline.repo
    repo.write({"pipegen.yaml": RELEASE_DESCRIPTOR, "azure-pipelines.yml": None, "Jenkinsfile": None,
                ".github/workflows/pipegen.yml": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("release stamp: a TEST output read in PROD")

    # (gitlab-ci-local refuses to start a pipeline whose blocking manual job is not released, so the
    # waiting pipeline GitLab would show cannot be run here; the approval is given up front.)
    released = pipeline.run("push", manual=("approve-prod",))
    assert released.returncode == 0, released.explain()
    assert {job: released.statuses.get(job) for job in ("stamp", "approve-prod", "announce")} == \
        {"stamp": "PASS", "approve-prod": "PASS", "announce": "PASS"}, released.explain()
    assert f"announce read RELEASE_STAMP=stamp-{repo.head[:8]}" in released.log("announce"), released.log("announce")
