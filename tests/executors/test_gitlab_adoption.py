"""Adoption under GitLab's own semantics: fixture projects (tests/fixtures/adoption/) taken through
`pipegen init --target gitlab` and `pipegen generate` as they are, then the pipeline GitLab would
start for a push to main, executed by gitlab-ci-local (shell executor, a fresh venv per job)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .gitlab_ci_local import GitlabCiLocal
from .plugin import ExampleRepo, _git

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adoption"


@pytest.fixture
def adopted_on_gitlab(wheelhouse, standin_bin, tmp_path: Path):
    def make(shape: str) -> GitlabCiLocal:
        root, origin = tmp_path / shape, tmp_path / f"{shape}-origin.git"
        shutil.copytree(FIXTURES / shape, root)
        _git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
        _git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
        for key, value in (("user.name", "pipegen tests"), ("user.email", "tests@pipegen.invalid"),
                           ("commit.gpgsign", "false")):
            _git(root, "config", key, value)
        _git(root, "remote", "add", "origin", str(origin))
        _git(root, "remote", "add", "gcl-origin", f"https://gitlab.example.test/pipegen-tests/{shape}.git")
        for command in (("init", "--target", "gitlab"), ("generate", "-q")):
            done = subprocess.run([sys.executable, "-m", "pipegen", *command], cwd=root, capture_output=True,
                                  text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
        repo = ExampleRepo(root, origin)
        repo.commit(f"{shape}: adopt pipegen")
        repo.push("main")
        _git(root, "remote", "set-head", "origin", "main")
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
