"""Fixtures for the gate tests: a clean environment, a CLI runner, and a real git project
measured by real coverage.py. The loopback Sonar server speaking the documented API is shared:
tests/executors/sonar.py (fixture `sonar_server`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipegen.cli import cli

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL",
                "SONAR_TOKEN", "SONAR_HOST_URL", "PIPEGEN_GATE_MODE", "PIPEGEN_DEBUG")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Gates behave differently in CI (they publish summaries); tests start outside any
    CI, in an empty directory, whatever CI runs them."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run_gate(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["gate", *args], env=env, catch_exceptions=False)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def conditions_by_metric(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {condition["metric"]: condition for condition in report["conditions"]}


# --- a real project: git history with a feature branch, measured by coverage.py ------

BASE_MODULE = '''\
"""A small package for the coverage gate's tests."""


def add(a, b):
    return a + b


def sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0


def unused(x):
    total = 0
    for i in range(x):
        total += i
    return total
'''

FEATURE_FUNCTION = '''

def scale(values, factor):
    scaled = []
    for value in values:
        scaled.append(value * factor)
    return scaled
'''


@dataclass
class Project:
    root: Path
    coverage_xml: Path = field(init=False)

    def __post_init__(self) -> None:
        self.coverage_xml = self.root / "coverage.xml"

    def coverage(self, *args: str) -> str:
        # Without the COVERAGE_* variables of a coverage run measuring these tests (pipegen's
        # own CI), which would point this project's data at pipegen's data file.
        env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")}
        done = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=self.root, capture_output=True,
                              text=True, check=True, env=env)
        return done.stdout


def make_project(base: Path, feature_code: str, driver: str) -> Project:
    """origin (bare) ← main with calc/__init__.py; checked out on `feature`, which adds
    `feature_code` to the module. `driver` is the code coverage.py runs."""
    import git  # gitpython, as pipegen's own tests use real repositories

    origin = git.Repo.init(base / "origin.git", bare=True)
    root = base / "work"
    repo = git.Repo.init(root)
    with repo.config_writer() as config:
        config.set_value("user", "name", "pipegen tests")
        config.set_value("user", "email", "tests@pipegen.invalid")
        config.set_value("commit", "gpgsign", "false")
    (root / "calc").mkdir()
    (root / "calc" / "__init__.py").write_text(BASE_MODULE, encoding="utf-8")
    (root / "README.md").write_text("calc\n", encoding="utf-8")
    (root / ".gitignore").write_text(".coverage*\ncoverage.xml\ndriver.py\n*.json\n*.xml\n*.md\n", encoding="utf-8")
    repo.index.add(["calc/__init__.py", "README.md", ".gitignore"])
    repo.index.commit("base")
    repo.git.branch("-M", "main")
    repo.create_remote("origin", str(origin.working_dir if origin.working_dir else base / "origin.git"))
    repo.git.push("origin", "main")
    repo.git.fetch("origin")
    repo.git.checkout("-b", "feature")
    if feature_code:
        with open(root / "calc" / "__init__.py", "a", encoding="utf-8") as module:
            module.write(feature_code)
        repo.index.add(["calc/__init__.py"])
    else:
        (root / "README.md").write_text("calc: a small package\n", encoding="utf-8")
        repo.index.add(["README.md"])
    repo.index.commit("feature")
    project = Project(root)
    (root / "driver.py").write_text(driver, encoding="utf-8")
    project.coverage("run", "--branch", "--source=calc", "driver.py")
    project.coverage("xml", "-o", str(project.coverage_xml))
    return project


@pytest.fixture
def project_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Builds a project and makes it the current directory (diff-cover diffs the
    repository it runs in, as the gate does in CI)."""
    def build(feature_code: str = FEATURE_FUNCTION, driver: str = "") -> Project:
        project = make_project(tmp_path, feature_code, driver)
        monkeypatch.chdir(project.root)
        return project
    return build


# The Sonar API stand-in (`sonar_server`) is shared with the executor tests: tests/executors/.
