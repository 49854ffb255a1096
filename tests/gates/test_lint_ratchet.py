"""The lint gate's adoption ratchets and its ruff reports, with real git repositories and the
real linters: an existing code base full of issues passes as long as a change adds none on
the lines it touches (changed-lines) or does not add to the count (compare-branch)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import conditions_by_metric, read_json, run_gate

# Code as a team has it before adopting pipegen: flake8 and ruff both find issues.
LEGACY = '''import os, sys


def legacy( x ):
    unused = 1
    return x
'''
CLEAN_FUNCTION = '''

def double(value):
    """Twice the value."""
    return value * 2
'''
DIRTY_FUNCTION = '''

def triple(value):
    import json
    return value * 3
'''


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def tool(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=root, capture_output=True, text=True, check=False)


@pytest.fixture
def legacy_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """origin/main holds pkg/legacy.py with issues; the work tree is on branch `feature`."""
    origin, root = tmp_path / "origin.git", tmp_path / "work"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text('"""pkg."""\n', encoding="utf-8")
    (root / "pkg" / "legacy.py").write_text(LEGACY, encoding="utf-8")
    (root / ".gitignore").write_text("reports/\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "legacy")
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "--quiet", "origin", "main")
    git(root, "checkout", "--quiet", "-b", "feature")
    (root / "reports").mkdir()
    monkeypatch.chdir(root)
    return root


def commit(root: Path, relative: str, appended: str) -> None:
    with open(root / relative, "a", encoding="utf-8") as handle:
        handle.write(appended)
    git(root, "commit", "--quiet", "-am", f"change {relative}")


def reports(root: Path, prefix: str = "") -> dict[str, Path]:
    """Each linter's report in the format the gate parses (as the generated lint job writes them)."""
    names = ("ruff.json", "flake8.txt", "pylint.json")
    ruff, flake8, pylint = (root / "reports" / f"{prefix}{name}" for name in names)
    done = tool(root, "ruff", "check", "--output-format=json", "--exit-zero", "--output-file", str(ruff), "pkg")
    assert done.returncode == 0, done.stderr
    tool(root, "flake8", "pkg", "--format=default", f"--output-file={flake8}", "--exit-zero")
    pylint.write_text(tool(root, "pylint", "pkg", "--output-format=json2").stdout, encoding="utf-8")
    return {"ruff": ruff, "flake8": flake8, "pylint": pylint}


def report_flags(found: dict[str, Path]) -> list[str]:
    return ["--ruff-report", str(found["ruff"]), "--flake8-report", str(found["flake8"]),
            "--pylint-report", str(found["pylint"])]


def test_ruff_report_counts_issues_against_the_threshold(legacy_repo: Path) -> None:
    found = reports(legacy_repo)
    failed = run_gate("lint", "--ruff-report", str(found["ruff"]), "--max-ruff-issues", "1",
                      "--report-json", "out.json")
    assert failed.exit_code == 1, failed.output
    condition = conditions_by_metric(read_json(legacy_repo / "out.json"))["ruff_issues"]
    assert condition["actual"] >= 2 and condition["status"] == "fail"
    assert "F401" in condition["detail"]  # `import os, sys`: both unused
    assert "pkg/legacy.py:1: F401" in failed.output
    passed = run_gate("lint", "--ruff-report", str(found["ruff"]), "--max-ruff-issues", str(condition["actual"]))
    assert passed.exit_code == 0, passed.output


def test_ruff_runs_on_path_with_the_descriptors_threshold(legacy_repo: Path) -> None:
    (legacy_repo / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: legacy}\ntargets: [gitlab]\nquality:\n  ruff: {max_issues: 0}\n"
        "  pylint: null\n  flake8: null\n", encoding="utf-8")
    result = run_gate("lint", "--path", "pkg", "--report-json", "out.json")
    assert result.exit_code == 1, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    assert set(conditions) == {"ruff_issues"}  # pylint and flake8 switched off by their null sections


@pytest.mark.parametrize("content", ["not json", '{"a": 1}', '[{"code": "F401"}]'])
def test_malformed_ruff_report_fails_closed(legacy_repo: Path, content: str) -> None:
    (legacy_repo / "ruff.json").write_text(content, encoding="utf-8")
    result = run_gate("lint", "--ruff-report", "ruff.json", "--max-ruff-issues", "0")
    assert result.exit_code == 3
    assert "is not a ruff JSON report" in result.output


def test_changed_lines_ratchet_passes_a_clean_change_to_dirty_code(legacy_repo: Path) -> None:
    commit(legacy_repo, "pkg/legacy.py", CLEAN_FUNCTION)
    result = run_gate("lint", *report_flags(reports(legacy_repo)), "--changed-lines",
                      "--compare-branch", "origin/main", "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    assert {name: c["actual"] for name, c in conditions.items()} == {
        "ruff_issues_on_changed_lines": 0, "flake8_issues_on_changed_lines": 0, "pylint_issues_on_changed_lines": 0}


def test_changed_lines_ratchet_fails_an_issue_the_change_adds(legacy_repo: Path) -> None:
    commit(legacy_repo, "pkg/legacy.py", DIRTY_FUNCTION)
    result = run_gate("lint", *report_flags(reports(legacy_repo)), "--changed-lines",
                      "--compare-branch", "origin/main", "--report-json", "out.json")
    assert result.exit_code == 1, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    assert conditions["ruff_issues_on_changed_lines"]["actual"] == 1  # F401 json, line 10
    assert conditions["flake8_issues_on_changed_lines"]["actual"] == 1
    assert conditions["pylint_issues_on_changed_lines"]["status"] == "fail"
    assert "changed line: pkg/legacy.py:10: F401" in result.output
    # The legacy issues on lines 1 and 4 are not the change's.
    assert "changed line: pkg/legacy.py:1:" not in result.output


def test_changed_lines_ratchet_sees_uncommitted_edits(legacy_repo: Path) -> None:
    with open(legacy_repo / "pkg" / "legacy.py", "a", encoding="utf-8") as handle:
        handle.write(DIRTY_FUNCTION)
    result = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines")
    assert result.exit_code == 1, result.output


def test_changed_lines_with_an_unknown_compare_branch_cannot_evaluate(legacy_repo: Path) -> None:
    result = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines",
                      "--compare-branch", "origin/nowhere")
    assert result.exit_code == 3
    assert "origin/nowhere" in result.output


def test_changed_lines_ratchet_without_a_remote_compares_with_the_local_main(legacy_repo: Path) -> None:
    git(legacy_repo, "remote", "remove", "origin")  # a repository not pushed anywhere yet
    commit(legacy_repo, "pkg/legacy.py", DIRTY_FUNCTION)
    result = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines",
                      "--report-json", "out.json")
    assert result.exit_code == 1, result.output
    ruff = conditions_by_metric(read_json(legacy_repo / "out.json"))["ruff_issues_on_changed_lines"]
    assert (ruff["actual"], ruff["detail"]) == (1, "lines changed against main (local)")
    assert "no remote named origin" in result.output


def test_on_the_mainline_itself_only_uncommitted_edits_are_changed(legacy_repo: Path) -> None:
    git(legacy_repo, "checkout", "--quiet", "main")
    clean = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines")
    assert clean.exit_code == 0, clean.output  # main's own issues are not changes to main
    assert "building main, the compare branch itself" in clean.output
    with open(legacy_repo / "pkg" / "legacy.py", "a", encoding="utf-8") as handle:
        handle.write(DIRTY_FUNCTION)
    edited = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines")
    assert edited.exit_code == 1, edited.output
    assert "changed line: pkg/legacy.py:10: F401" in edited.output


def test_the_descriptors_compare_branch_is_the_ratchets_default(legacy_repo: Path) -> None:
    (legacy_repo / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: legacy}\ntargets: [gitlab]\n"
        "quality:\n  coverage: {compare_branch: origin/develop}\n  lint: {tools: [ruff], ratchet: [changed-lines]}\n",
        encoding="utf-8")
    result = run_gate("lint", "--ruff-report", str(reports(legacy_repo)["ruff"]), "--changed-lines")
    assert result.exit_code == 3  # what the plan gives the lint job, not origin/main
    assert "compare branch 'origin/develop' not found" in result.output


def _baselines(root: Path) -> dict[str, Path]:
    """The linters' reports on origin/main, from a worktree (as the generated job makes them)."""
    base = root.parent / "base"
    git(root, "worktree", "add", "--quiet", "--detach", str(base), "origin/main")
    (base / "reports").mkdir()
    found = reports(base, "base-")
    return found


@pytest.mark.parametrize("change, expected", [(CLEAN_FUNCTION, 0), (DIRTY_FUNCTION, 1)])
def test_compare_branch_ratchet_counts_against_the_branch(legacy_repo: Path, change: str, expected: int) -> None:
    baselines = _baselines(legacy_repo)
    commit(legacy_repo, "pkg/legacy.py", change)
    flags = [f"--baseline={name}={path}" for name, path in baselines.items()]
    result = run_gate("lint", *report_flags(reports(legacy_repo)), *flags, "--compare-branch", "origin/main",
                      "--report-json", "out.json")
    assert result.exit_code == expected, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    ruff = conditions["ruff_issues_vs_compare_branch"]
    assert ruff["threshold"] >= 3  # the legacy count is the bar, not zero
    assert ruff["status"] == ("pass" if expected == 0 else "fail")


def test_ratchet_in_the_descriptor_drops_the_profiles_absolute_bars(legacy_repo: Path) -> None:
    (legacy_repo / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: legacy}\ntargets: [gitlab]\n"
        "quality:\n  lint: {tools: [ruff, flake8], ratchet: [changed-lines]}\n", encoding="utf-8")
    commit(legacy_repo, "pkg/legacy.py", CLEAN_FUNCTION)
    found = reports(legacy_repo)
    result = run_gate("lint", "--ruff-report", str(found["ruff"]), "--flake8-report", str(found["flake8"]),
                      "--changed-lines", "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    # The default profile's ruff 0 / flake8 0 would fail this code base; the ratchet replaces them.
    assert set(conditions_by_metric(read_json(legacy_repo / "out.json"))) == {
        "ruff_issues_on_changed_lines", "flake8_issues_on_changed_lines"}


def test_profile_file_in_the_repository_sets_the_thresholds(legacy_repo: Path) -> None:
    (legacy_repo / "ci").mkdir()
    (legacy_repo / "ci" / "team.yaml").write_text("flake8: {max_issues: 50}\npylint: {min_score: 0}\n",
                                                  encoding="utf-8")
    (legacy_repo / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: legacy}\ntargets: [gitlab]\nquality: {profile: ci/team.yaml}\n", encoding="utf-8")
    found = reports(legacy_repo)
    result = run_gate("lint", "--flake8-report", str(found["flake8"]), "--pylint-report", str(found["pylint"]),
                      "--report-json", "out.json")
    assert result.exit_code == 0, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    assert conditions["flake8_issues"]["threshold"] == 50
    assert "profile ci/team.yaml" in result.output


def test_missing_profile_file_is_a_usage_error(legacy_repo: Path) -> None:
    (legacy_repo / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: legacy}\ntargets: [gitlab]\nquality: {profile: ci/none.yaml}\n", encoding="utf-8")
    result = run_gate("lint", "--flake8-report", str(reports(legacy_repo)["flake8"]))
    assert result.exit_code == 2
    assert "ci/none.yaml" in result.output and "cannot be read" in result.output


def test_ruff_run_by_the_gate_never_fixes_whatever_the_settings_say(legacy_repo: Path) -> None:
    """A repository with `fix = true` (and unsafe fixes): the gate counts the fixable issues the change
    contains instead of fixing them away, and the files stay as they are."""
    (legacy_repo / "ruff.toml").write_text("fix = true\nunsafe-fixes = true\n", encoding="utf-8")
    git(legacy_repo, "add", "ruff.toml")
    git(legacy_repo, "commit", "--quiet", "-m", "ruff fixes on every run")
    commit(legacy_repo, "pkg/legacy.py", DIRTY_FUNCTION)
    before = (legacy_repo / "pkg" / "legacy.py").read_bytes()
    result = run_gate("lint", "--path", "pkg", "--max-ruff-issues", "100", "--changed-lines",
                      "--compare-branch", "origin/main", "--report-json", "out.json")
    assert result.exit_code == 1, result.output
    conditions = conditions_by_metric(read_json(legacy_repo / "out.json"))
    assert conditions["ruff_issues_on_changed_lines"]["actual"] == 1  # `import json`, fixable (F401)
    assert "F401" in result.output
    assert (legacy_repo / "pkg" / "legacy.py").read_bytes() == before
