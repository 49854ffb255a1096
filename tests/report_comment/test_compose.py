"""The comment body and where it goes when it cannot be posted."""
from __future__ import annotations

from datetime import datetime, timezone

from click.testing import CliRunner

from pipegen.cli import cli
from pipegen.report_comment import MAX_BODY, collect, compose, default_fallback, marker


def test_body_order_marker_and_limit(tmp_path):
    reports = tmp_path / "pipegen-reports"
    (reports / "nested").mkdir(parents=True)
    for name in ("zeta", "pipeline-diff", "model", "lint"):
        (reports / f"{name}.md").write_text(f"### {name}\n", encoding="utf-8")
    (reports / "nested" / "coverage.md").write_text("### coverage\n", encoding="utf-8")
    (reports / "empty.md").write_text("  \n", encoding="utf-8")
    assert [name for name, _ in collect(reports)] == ["coverage", "lint", "model", "zeta", "pipeline-diff"]
    body = compose(collect(reports), "azure", "0123456789abcdef", "https://ci/run/1",
                   now=datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc))
    assert body.splitlines()[0] == marker("azure")
    assert "commit `0123456789ab` · [pipeline run](https://ci/run/1) · updated 2026-01-02 03:04 UTC" in body
    assert "did the gates run" in compose(collect(tmp_path / "none"), "github")
    huge = compose([("model", "x" * (MAX_BODY + 10))], "github")
    assert len(huge) < MAX_BODY + 200 and huge.rstrip().endswith("artifacts._")


def test_fallbacks_azure_summary_and_the_log(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    where = default_fallback({"TF_BUILD": "True"})("BODY", "fork")
    assert where == "the run's summary tab"
    assert (tmp_path / "pipegen-report-comment.md").read_text().endswith("BODY")
    assert "##vso[task.uploadsummary]" in capsys.readouterr().out
    assert default_fallback({})("BODY", "no token") == "the job log"
    assert "could not post this as a comment: no token" in capsys.readouterr().out


def test_print_body_and_no_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipegen-reports").mkdir()
    (tmp_path / "pipegen-reports" / "drift.md").write_text("### drift PASS\n")
    printed = CliRunner().invoke(cli, ["report", "comment", "--print-body"], env={"GITHUB_ACTIONS": None})
    assert printed.exit_code == 0 and "### drift PASS" in printed.output
    env = {"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "3", "CI_PROJECT_ID": "1", "PIPEGEN_REPORT_TOKEN": None,
           "GITHUB_ACTIONS": None, "GITHUB_STEP_SUMMARY": None, "TF_BUILD": None}
    run = CliRunner().invoke(cli, ["report", "comment"], env=env)
    assert run.exit_code == 0 and "no API token in the environment: not posted" in run.output


def test_each_project_keeps_its_own_comment(tmp_path):
    """Several projects in one repository: each project's comment has its own marker and title, so one
    project's report-comment job never overwrites another's comment; a lone project's is unchanged."""
    churn = compose([("lint", "### lint\n")], "github", project="churn")
    fraud = compose([("lint", "### lint\n")], "github", project="fraud")
    assert churn.splitlines()[:2] == [marker("github", "churn"), "## pipegen gate report: churn"]
    assert marker("github", "churn") not in fraud and marker("github", "fraud") != marker("github")
    assert compose([], "github").splitlines()[0] == marker("github")
