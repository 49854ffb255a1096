"""Which existing pipelines compete with pipegen's (same events and branches, running tests or
linters) and which are kept beside it (release, labels, docs, schedules, paths elsewhere,
downstream), per platform, read from the files a repository already has."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipegen.init.detect.ci_competition import Mainline
from pipegen.init.detect.ci_files import existing_pipelines, foreign_files

TESTS = "jobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pytest\n"


def repo(root: Path, files: dict[str, str]) -> Path:
    for relative, text in {"src/app/__init__.py": "", "docs/index.md": "", **files}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.mark.parametrize("on, why", [
    ("on: [push, pull_request]", "runs tests or linters on push to main and pull requests into main"),
    ("on:\n  push:\n    branches: ['**']", "runs tests or linters on push to main"),
    ("on:\n  pull_request:\n    branches: [main]\n    paths: ['src/**']", "runs tests or linters on pull "
                                                                          "requests into main"),
    ("on:\n  push:\n    branches: [main]\n    paths-ignore: ['docs/**']", "runs tests or linters on push to main"),
])
def test_a_workflow_testing_the_mainline_competes(tmp_path, on, why):
    root = repo(tmp_path, {".github/workflows/ci.yml": f"{on}\n{TESTS}"})
    assert [(p.path, p.competes, p.why) for p in existing_pipelines(root, "github")] == \
        [(".github/workflows/ci.yml", True, f"{why}, as pipegen's does")]


@pytest.mark.parametrize("text, why", [
    ("on:\n  release:\n    types: [published]\n" + TESTS, "a release workflow (release events or tags)"),
    ("on:\n  push:\n    tags: ['v*']\n" + TESTS, "a release workflow (release events or tags)"),
    ("on:\n  schedule:\n    - cron: '0 3 * * *'\n  workflow_dispatch:\n" + TESTS, "runs on a schedule or by hand only"),
    ("on:\n  push:\n    branches: [main]\n    paths: ['.github/labels.yml']\njobs: {}\n",
     "its branch or path filters leave the mainline's code changes out"),
    ("on:\n  push:\n    branches: [main]\n    paths: ['docs/**', '*.md']\n" + TESTS,
     "its branch or path filters leave the mainline's code changes out"),
    ("on:\n  push:\n    branches: [main]\njobs:\n  d:\n    steps:\n      - run: mkdocs gh-deploy\n",
     "runs on push to main but runs no tests or linters (docs, build or deploy)"),
    ("on:\n  workflow_run:\n    workflows: [CI]\n" + TESTS, "runs after another workflow (workflow_run)"),
    ("on: workflow_call\n" + TESTS, "a reusable workflow: it runs when another workflow calls it"),
    ("on: [pull_request_target]\njobs: {}\n", "labels or triage (pull_request_target)"),
    ("on: [push, pull_request]\njobs:\n  d:\n    steps:\n      - run: uvx --with tox-uv tox -e docs\n",
     "runs on push to main and pull requests into main but runs no tests or linters (docs, build or deploy)"),
    ("on: [push]\njobs:\n  b:\n    steps:\n      - run: pytest tests/test_benchmarks.py --codspeed\n",
     "runs on push to main but runs no tests or linters (docs, build or deploy)"),
    ("on:\n  push:\n    branches: [develop]\n" + TESTS,
     "its branch or path filters leave the mainline's code changes out"),
])
def test_workflows_on_other_events_are_kept_with_the_reason(tmp_path, text, why):
    root = repo(tmp_path, {".github/workflows/other.yml": text})
    assert [(p.competes, p.why) for p in existing_pipelines(root, "github")] == [(False, why)]
    assert foreign_files(root, "github") == ()


def test_competition_follows_the_descriptors_mainline_and_pull_requests(tmp_path):
    root = repo(tmp_path, {".github/workflows/ci.yml": "on:\n  pull_request:\n  push:\n    branches: [master]\n"
                                                       + TESTS})
    assert foreign_files(root, "github", Mainline(("main",), pull_requests=False)) == ()
    assert [p.why for p in foreign_files(root, "github", Mainline(("master",)))] == \
        ["runs tests or linters on push to master and pull requests into master, as pipegen's does"]


@pytest.mark.parametrize("text, competes, why", [
    ("steps:\n  - script: pytest\n", True, "runs tests or linters on push to every branch (no push filter) and pull "
                                           "requests into every branch (no pull filter), as pipegen's does"),
    ("trigger: none\npr: none\nschedules:\n  - cron: '0 3 * * *'\n    branches: {include: [main]}\n"
     "steps:\n  - script: pytest\n", False, "runs on a schedule only"),
    ("trigger:\n  tags:\n    include: ['v*']\npr: none\nsteps:\n  - script: twine upload dist/*\n", False,
     "its triggers leave the mainline's code changes out (tags, other branches or paths, or none)"),
    ("trigger: none\npr: none\nresources:\n  pipelines:\n    - pipeline: ci\n      source: ci\n      trigger: true\n"
     "steps:\n  - script: pytest\n", False, "runs after another pipeline (resources.pipelines)"),
    ("parameters:\n  - name: python\nsteps:\n  - script: pytest\n", False, "a template other pipelines include"),
    ("trigger:\n  branches: {include: [main]}\n  paths: {include: [docs]}\npr: none\nsteps:\n  - script: pytest\n",
     False, "its triggers leave the mainline's code changes out (tags, other branches or paths, or none)"),
])
def test_azure_pipelines_compete_on_the_same_triggers_only(tmp_path, text, competes, why):
    root = repo(tmp_path, {"azure-pipelines/ci.yml": text})
    assert [(p.competes, p.why) for p in existing_pipelines(root, "azure")] == [(competes, why)]


def test_other_jenkinsfiles_are_kept_the_root_one_is_pipegens_to_write(tmp_path):
    root = repo(tmp_path, {"Jenkinsfile.release": "pipeline { stages { stage('x') { steps { sh 'twine' } } } }",
                           "jenkins/nightly.Jenkinsfile": "pipeline { triggers { cron('H 3 * * *') } }",
                           "Jenkinsfile": "pipeline {}"})
    found = {p.path: (p.competes, p.why) for p in existing_pipelines(root, "jenkins")}
    assert found == {
        "Jenkinsfile.release": (False, "runs only from a Jenkins job configured for this file; a multibranch "
                                       "pipeline runs the root Jenkinsfile pipegen writes"),
        "jenkins/nightly.Jenkinsfile": (False, "runs on a schedule (triggers { cron })")}


def test_an_unreadable_workflow_competes(tmp_path):
    root = repo(tmp_path, {".github/workflows/broken.yml": "on: [push\n"})
    assert [p.competes for p in existing_pipelines(root, "github")] == [True]
