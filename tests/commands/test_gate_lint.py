"""`pipegen gate lint` usage as pipelines call it."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipegen.cli import cli


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("GITHUB_ACTIONS", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "PIPEGEN_GATE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pylint.json").write_text('{"messages": [], "statistics": {"score": 8.74, '
                                          '"messageTypeCount": {"convention": 3}}}', encoding="utf-8")
    (tmp_path / "flake8.txt").write_text("src/a.py:3:121: E501 line too long (130 > 120 characters)\n",
                                         encoding="utf-8")
    return tmp_path


def gate(*args: str):
    return CliRunner().invoke(cli, ["gate", "lint", *args], catch_exceptions=False)


def test_the_pipeline_invocation_passes_and_fails_on_the_numbers() -> None:
    passing = gate("--pylint-report", "pylint.json", "--flake8-report", "flake8.txt", "--min-score", "8.5",
                   "--max-issues", "1")
    assert passing.exit_code == 0, passing.output
    failing = gate("--pylint-report", "pylint.json", "--flake8-report", "flake8.txt", "--min-score", "9",
                   "--max-issues", "0")
    assert failing.exit_code == 1
    assert "pylint_score   >=    9          8.74    FAIL" in failing.output
    assert "flake8_issues  <=    0          1       FAIL" in failing.output


@pytest.mark.parametrize("args", [("--min-score", "11"), ("--max-issues", "-1"), ("--path", "no/such/dir")])
def test_bad_flags_exit_2(args: tuple[str, ...]) -> None:
    assert gate("--flake8-report", "flake8.txt", *args).exit_code == 2
