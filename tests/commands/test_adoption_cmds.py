"""Adopting pipegen beside what a repository already has: `generate` never writes a second
pipeline for a platform that already has one pipegen did not write (both would run), and
`validate` warns, located, about paths the descriptor names that do not exist."""
from __future__ import annotations

from pathlib import Path

from helpers import run_pipegen

DESCRIPTOR = """\
version: 1
project:
  name: svc
  requirements: {runtime: requirements.txt, test: requirements-tset.txt}
  source: [src/svc, src/gone]
targets: [github, gitlab]
tests:
  unit: tests/unit
  integration: tests/integraton
quality: {}
"""

WORKFLOW_RUNNING_TESTS = """\
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: python -m pytest
"""


def repo(tmp_path: Path) -> Path:
    for relative in ("requirements.txt", "src/svc/__init__.py", "tests/unit/test_x.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("", encoding="utf-8")
    (tmp_path / "pipegen.yaml").write_text(DESCRIPTOR, encoding="utf-8")
    return tmp_path


def test_validate_warns_about_each_missing_path_where_it_is_written(tmp_path, capsys):
    root = repo(tmp_path)
    result = run_pipegen(capsys, "validate", "--descriptor", str(root / "pipegen.yaml"))
    assert result.exit_code == 0
    warnings = result.err.strip().splitlines()
    descriptor = str(root / "pipegen.yaml")
    assert warnings == [
        f"{descriptor}:4:51: warning: project.requirements.test: test requirements file 'requirements-tset.txt' "
        "does not exist",
        f"{descriptor}:5:21: warning: project.source.1: source folder 'src/gone' does not exist",
        f"{descriptor}:9:16: warning: tests.integration: integration tests folder 'tests/integraton' does not exist",
    ]
    assert "OK" in result.out


def test_validate_warns_about_the_paths_deploy_kinds_name(tmp_path, capsys):
    (tmp_path / "infra").mkdir()
    (tmp_path / "requirements.txt").write_text("apache-airflow>=3,<4\n", encoding="utf-8")
    (tmp_path / "pipegen.yaml").write_text(
        "project: {name: svc, requirements: {runtime: requirements.txt}}\ntargets: [gitlab]\nenvironments:\n"
        "  qa:\n    deploy:\n      terraform: {dir: infra}\n      kubernetes: {manifests: k8s/qa}\n"
        "      airflow: {dags: pipelines, target: /srv/airflow/dags}\n", encoding="utf-8")
    result = run_pipegen(capsys, "validate", "--descriptor", str(tmp_path / "pipegen.yaml"))
    assert result.exit_code == 0, result.err
    descriptor = str(tmp_path / "pipegen.yaml")
    assert result.err.strip().splitlines() == [
        f"{descriptor}:7:31: warning: environments.qa.deploy.kubernetes.manifests: Kubernetes manifests 'k8s/qa' "
        "does not exist",
        f"{descriptor}:8:23: warning: environments.qa.deploy.airflow.dags: DAG folder 'pipelines' does not exist",
    ]


def test_generate_refuses_to_write_beside_a_foreign_workflow(tmp_path, capsys):
    root = repo(tmp_path)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW_RUNNING_TESTS, encoding="utf-8")
    (workflows / "lint.yml").write_text(WORKFLOW_RUNNING_TESTS.replace("pytest", "ruff check"), encoding="utf-8")
    (workflows / "release.yml").write_text("on: {release: {types: [published]}}\njobs: {}\n", encoding="utf-8")
    refused = run_pipegen(capsys, "generate", "--descriptor", str(root / "pipegen.yaml"), "-q")
    assert refused.exit_code == 1
    lines = refused.err.splitlines()  # each competing file on its own line, with why; the release one kept
    assert "  .github/workflows/ci.yml: runs tests or linters on push to main, as pipegen's does" in lines
    assert "  .github/workflows/lint.yml: runs tests or linters on push to main, as pipegen's does" in lines
    assert "release.yml" not in refused.err
    assert not (workflows / "pipegen.yml").exists()
    assert (root / ".gitlab-ci.yml").is_file()  # the other platform is written as usual
    forced = run_pipegen(capsys, "generate", "--descriptor", str(root / "pipegen.yaml"), "-q", "--force")
    assert forced.exit_code == 0
    assert (workflows / "pipegen.yml").is_file()
    assert "warning: .github/workflows/ci.yml still runs beside pipegen's github pipeline" in forced.err
    # Its own files are never foreign: generating again is quiet.
    (workflows / "ci.yml").unlink()
    (workflows / "lint.yml").unlink()
    again = run_pipegen(capsys, "generate", "--descriptor", str(root / "pipegen.yaml"), "-q")
    assert again.exit_code == 0 and again.err == ""


def test_the_checklist_covers_only_the_pipelines_in_place(tmp_path, capsys):
    root = repo(tmp_path)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW_RUNNING_TESTS, encoding="utf-8")
    descriptor = str(root / "pipegen.yaml")

    nothing = run_pipegen(capsys, "generate", "--descriptor", descriptor, "--target", "github",
                          "--checklist", str(root / "SETUP.md"))
    assert nothing.exit_code == 1
    assert "checklist" not in nothing.out.lower()  # refused, nothing written: nothing to set up
    assert not (root / "SETUP.md").exists()

    partial = run_pipegen(capsys, "generate", "--descriptor", descriptor, "--checklist", str(root / "SETUP.md"))
    assert partial.exit_code == 1
    printed = partial.out[partial.out.index("Set-up checklist"):]
    assert "GitLab CI:" in printed and "GitHub Actions" not in printed
    written = (root / "SETUP.md").read_text(encoding="utf-8")
    assert "## GitLab CI" in written and "GitHub" not in written


def test_init_reports_the_foreign_workflow_and_what_to_do(tmp_path, capsys):
    root = repo(tmp_path)
    (root / "pipegen.yaml").unlink()
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "tests.yaml").write_text(WORKFLOW_RUNNING_TESTS, encoding="utf-8")
    (root / ".github" / "workflows" / "docs.yaml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    result = run_pipegen(capsys, "init", "--path", str(root), "--no-measure")
    assert result.exit_code == 0, result.err
    assert ".github/workflows/tests.yaml: a github pipeline pipegen did not write that runs tests" in result.out
    assert ".github/workflows/docs.yaml: runs on push to main but runs no tests or linters" in result.out
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "# .github/workflows/tests.yaml: a github pipeline pipegen did not write that runs tests" in text
    assert "# .github/workflows/docs.yaml: kept beside pipegen's pipeline: runs on push to main" in text
