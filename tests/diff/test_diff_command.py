"""`pipegen diff` on real git repositories: a generated project committed, its descriptor
changed, the pipelines regenerated; what the command says, and its exit codes."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import run_pipegen

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn"


def commit(repo, message: str) -> str:
    repo.git.add(A=True)
    repo.index.commit(message)
    return repo.head.commit.hexsha


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import git  # pylint: disable=import-outside-toplevel

    root = tmp_path / "churn"
    shutil.copytree(EXAMPLE, root)
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "test").set_value("user", "email", "test@example.com")
    commit(repo, "pipelines as generated")
    repo.git.checkout("-b", "feature")
    monkeypatch.chdir(root)
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "GITHUB_EVENT_NAME", "BUILD_REASON",
                 "CI_PIPELINE_SOURCE", "CHANGE_ID"):
        monkeypatch.delenv(name, raising=False)
    return root, repo


def regenerate(capsys, root: Path, old: str, new: str) -> None:
    descriptor = root / "pipegen.yaml"
    text = descriptor.read_text(encoding="utf-8")
    assert old in text
    descriptor.write_text(text.replace(old, new), encoding="utf-8")
    assert run_pipegen(capsys, "generate", "--force").exit_code == 0


def test_unchanged_pipelines_say_so_and_pass(project, capsys) -> None:
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--fail-on", "risky")
    assert result.exit_code == 0
    assert "no change in what the pipelines do" in result.out


def test_weaker_thresholds_and_a_lost_approval_are_risky(project, capsys) -> None:
    root, _ = project
    regenerate(capsys, root, "coverage: {min: 80, diff_min: 90}", "coverage: {min: 70, diff_min: 90}")
    regenerate(capsys, root, "    approval: {approvers: [release-managers]}\n", "    approval: false\n")
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--fail-on", "risky")
    assert result.exit_code == 1
    lines = result.out.splitlines()
    assert "  RISKY coverage minimum 80 → 70" in lines  # all four platforms: no platform list
    # GitHub and Azure keep reviewers in the environment's settings; the files say which
    # environments ask for one, so the loss reads the same on all four platforms.
    assert "  RISKY PROD lost its approval" in lines
    # without --fail-on the command reports and passes
    assert run_pipegen(capsys, "diff", "--compare-branch", "main").exit_code == 0


def test_stricter_threshold_is_reported_but_not_risky(project, capsys) -> None:
    root, _ = project
    regenerate(capsys, root, "pylint: {min_score: 8.5}", "pylint: {min_score: 9}")
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--fail-on", "risky")
    assert result.exit_code == 0
    assert "pylint score minimum 8.5 → 9" in result.out and "RISKY" not in result.out


def test_secret_reach_and_pull_request_runs_between_two_commits_as_markdown_and_json(project, capsys) -> None:
    root, repo = project
    base = repo.head.commit.hexsha
    workflow = root / ".github" / "workflows" / "pipegen.yml"
    text = workflow.read_text(encoding="utf-8")
    start = text.index("\n  train:\n")
    end = text.index("\n\n", start)
    train = text[start:end].replace("    if: ${{ github.event_name != 'pull_request' }}\n", "")
    train = train.replace("    env:\n", "    env:\n      SONAR_TOKEN: ${{ secrets.SONAR_TOKEN }}\n", 1)
    workflow.write_text(text[:start] + train + text[end:], encoding="utf-8")
    head = commit(repo, "hand edit")

    markdown = run_pipegen(capsys, "diff", "--base", base, head, "--markdown")
    assert markdown.exit_code == 0
    assert markdown.out.startswith("### ⚠️ pipegen diff: 2 change(s), 2 risky")
    assert "- **risky**: train now runs on pull requests [github]" in markdown.out
    assert "- **risky**: SONAR_TOKEN is now readable by job train [github]" in markdown.out

    found = json.loads(run_pipegen(capsys, "diff", "--base", base, head, "--json").out)
    assert found["base"] == base and found["head"] == head and found["risky"] is True
    assert {change["kind"] for change in found["changes"]} == {"branches", "secrets"}


def test_a_job_no_longer_waiting_for_the_model_gate(project, capsys) -> None:
    root, repo = project
    image = "image: {name: churn-model, registry_var: REGISTRY, dockerfile: Dockerfile"
    regenerate(capsys, root, image, image + ", serves_model: true")
    serving = commit(repo, "the image serves the model")
    regenerate(capsys, root, image + ", serves_model: true", image)
    result = run_pipegen(capsys, "diff", "--base", serving, "--fail-on", "risky")
    assert result.exit_code == 1
    lines = result.out.splitlines()
    # said once for all four platforms (no platform list)
    assert "  RISKY kubernetes-prod no longer waits for model-gate" in lines
    assert "  RISKY kubernetes-prod no longer waits for promote-model" in lines  # an approved job
    assert "        job serving-image removed" in lines  # the champion's image is no longer what PROD runs


def test_a_hand_edit_dropping_the_github_environment_loses_the_approval(project, capsys) -> None:
    root, _ = project
    workflow = root / ".github" / "workflows" / "pipegen.yml"
    text = workflow.read_text(encoding="utf-8")
    start = text.index("\n  kubernetes-prod:\n")
    end = text.find("\n\n", start) % (len(text) + 1)  # the last job: to the end of the file
    workflow.write_text(text[:start] + text[start:end].replace("    environment: prod\n", "") + text[end:],
                        encoding="utf-8")
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--fail-on", "risky")
    assert result.exit_code == 1
    assert "  RISKY kubernetes-prod lost its approval [github]" in result.out.splitlines()


def test_summary_is_published_like_the_gates(project, capsys, monkeypatch, tmp_path) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    report = Path("pipegen-reports/pipeline-diff.md")
    result = run_pipegen(capsys, "diff", "--compare-branch", "main", "--pull-requests-only", "--summary", str(report))
    assert result.exit_code == 0
    assert "pipegen diff: 0 change(s)" in summary.read_text(encoding="utf-8")
    assert report.read_text(encoding="utf-8").startswith("### ✅ pipegen diff")


def test_outside_a_pull_request_the_ci_step_does_nothing(project, capsys) -> None:
    result = run_pipegen(capsys, "diff", "--pull-requests-only")
    assert result.exit_code == 0 and "not a pull/merge-request run" in result.out


@pytest.mark.parametrize("args, message", [
    (("--base", "no-such-ref"), "unknown git ref 'no-such-ref'"),
    (("--compare-branch", "origin/nowhere"), "no merge base with 'origin/nowhere'"),
])
def test_bad_refs_exit_2_with_one_line(project, capsys, args, message) -> None:
    result = run_pipegen(capsys, "diff", *args)
    assert result.exit_code == 2
    assert result.err.strip() == f"pipegen: {message}" or message in result.err.strip().splitlines()[-1]


def test_outside_a_repository_exits_2(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "diff", "--base", "HEAD")
    assert result.exit_code == 2 and "not inside a git repository" in result.err


def test_an_unreadable_pipeline_file_exits_3(project, capsys) -> None:
    root, _ = project
    (root / "Jenkinsfile").write_text("pipeline { stages { stage('x') { steps { sh(label: 'a', script: ", "utf-8")
    result = run_pipegen(capsys, "diff", "--compare-branch", "main")
    assert result.exit_code == 3 and "cannot read the jenkins pipeline" in result.err


def test_a_terraform_apply_without_the_saved_plan_is_named(tmp_path, monkeypatch, capsys) -> None:
    import git  # pylint: disable=import-outside-toplevel

    root = tmp_path / "dags-and-infra"
    shutil.copytree(EXAMPLE.parent / "dags-and-infra", root)
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "test").set_value("user", "email", "test@example.com")
    base = commit(repo, "pipelines as generated")
    monkeypatch.chdir(root)
    gitlab = root / ".gitlab-ci.yml"
    text = gitlab.read_text(encoding="utf-8")
    saved = 'terraform -chdir=infra apply -input=false "$PWD/pipegen-terraform/prod/tfplan"'
    assert saved in text
    gitlab.write_text(text.replace(saved, "terraform -chdir=infra apply -input=false -auto-approve"), encoding="utf-8")
    result = run_pipegen(capsys, "diff", "--base", base, "--fail-on", "risky")
    assert result.exit_code == 1, result.out
    assert ("  RISKY terraform-apply-prod would apply without review: terraform apply without a saved plan [gitlab]"
            in result.out.splitlines()), result.out
