"""`pipegen diff` on a repository of several projects: a finding names the project it concerns."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import git
import pytest

from helpers import run_pipegen

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "monorepo"
PROD = "    depends_on: [features]\n  fraud:"
WITH_PROD = "    depends_on: [features]\n    environments:\n      prod: {deploy: ./deploy.sh}\n  fraud:"


@pytest.fixture()
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    root = tmp_path / "monorepo"
    shutil.copytree(EXAMPLE, root)
    descriptor = root / "pipegen.yaml"
    descriptor.write_text(descriptor.read_text(encoding="utf-8").replace(PROD, WITH_PROD), encoding="utf-8")
    monkeypatch.chdir(root)
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "GITHUB_EVENT_NAME", "BUILD_REASON",
                 "CI_PIPELINE_SOURCE", "CHANGE_ID"):
        monkeypatch.delenv(name, raising=False)
    assert run_pipegen(capsys, "generate", "-q").exit_code == 0
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "test").set_value("user", "email", "test@example.com")
    repo.git.add(A=True)
    repo.index.commit("churn deploys to PROD after an approval")
    repo.git.checkout("-b", "feature")
    return root


def test_a_projects_prod_losing_its_approval_names_the_project(monorepo: Path, capsys) -> None:
    descriptor = monorepo / "pipegen.yaml"
    text = descriptor.read_text(encoding="utf-8")
    descriptor.write_text(text.replace("{deploy: ./deploy.sh}", "{deploy: ./deploy.sh, approval: false}"),
                          encoding="utf-8")
    assert run_pipegen(capsys, "generate", "-q").exit_code == 0
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--fail-on", "risky", "--json")
    assert result.exit_code == 1, result.out + result.err
    report = json.loads(result.out)
    texts = {change["text"] for change in report["changes"] if change["risky"]}
    assert texts == {"churn's PROD lost its approval"}, report
    # Every target of the example says it, each from its own file read back.
    assert [change["platforms"] for change in report["changes"] if change["risky"]] == [
        ["azure", "github", "gitlab", "jenkins"]], report
