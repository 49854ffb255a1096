"""`pipegen gate coverage` as a pipeline step calls it: modes, reports, and where the
Markdown summary goes on each CI."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipegen.cli import cli

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "PIPEGEN_GATE_MODE")
REPORT = ('<coverage line-rate="0.75" branch-rate="0.5" lines-valid="8" lines-covered="6" '
          'branches-valid="4" branches-covered="2"><packages/></coverage>')  # 8/12 = 66.67%


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "coverage.xml").write_text(REPORT, encoding="utf-8")
    return tmp_path


def gate(*args: str, **env: str):
    return CliRunner().invoke(cli, ["gate", "coverage", "--no-diff", *args], env=env, catch_exceptions=False)


def test_enforce_fails_with_1_and_prints_the_table() -> None:
    result = gate("--min", "70")
    assert result.exit_code == 1
    assert re.search(r"total_coverage\s+>=\s+70\s+67\s+FAIL\s+lines 6/8, branches 2/4", result.output)


def test_dry_run_reports_the_failure_and_exits_0(workdir: Path) -> None:
    result = gate("--min", "70", "--mode", "dry-run", "--report-json", "r.json")
    assert result.exit_code == 0
    assert "gate coverage: FAIL (dry-run)" in result.output
    assert '"exit_code": 0' in (workdir / "r.json").read_text(encoding="utf-8")


def test_off_evaluates_nothing_even_without_a_report(workdir: Path) -> None:
    result = gate("--report", "missing.xml", "--mode", "off")
    assert result.exit_code == 0
    assert result.output.strip() == "gate coverage: off (not evaluated)"


def test_mode_from_the_environment() -> None:
    assert gate("--min", "70", PIPEGEN_GATE_MODE="dry-run").exit_code == 0


def test_bad_flag_is_a_usage_error() -> None:
    result = gate("--min", "120")
    assert result.exit_code == 2
    assert "120" in result.output


def test_github_appends_markdown_to_the_step_summary(workdir: Path) -> None:
    summary = workdir / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    gate("--min", "60", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ✅ pipegen gate `coverage`: PASS")
    assert "| total_coverage | >= | 60 | 67 | PASS |" in text


def test_azure_uploads_the_markdown_as_a_build_summary(workdir: Path) -> None:
    result = gate("--min", "60", TF_BUILD="True")
    expected = workdir / "pipegen-reports" / "coverage.md"
    assert f"##vso[task.uploadsummary]{expected.resolve()}" in result.output.splitlines()
    assert expected.read_text(encoding="utf-8").startswith("### ✅ pipegen gate `coverage`")


@pytest.mark.parametrize("variable, value", [("GITLAB_CI", "true"), ("JENKINS_URL", "https://ci.example.test/")])
def test_gitlab_and_jenkins_keep_the_markdown_as_an_artifact_file(workdir: Path, variable: str, value: str) -> None:
    result = gate("--min", "60", "--markdown", "out/coverage.md", **{variable: value})
    assert result.exit_code == 0
    assert (workdir / "out" / "coverage.md").read_text(encoding="utf-8").startswith("### ✅")
    assert "##vso" not in result.output


def test_outside_ci_no_markdown_unless_asked(workdir: Path) -> None:
    gate("--min", "60")
    assert not (workdir / "pipegen-reports").exists()
