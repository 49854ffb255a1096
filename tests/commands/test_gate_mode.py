"""A gate's mode: `--mode`, else the descriptor's `quality.mode`, else the CI variable
PIPEGEN_GATE_MODE, else enforce; `auto` is report-only in pull/merge-request runs."""
from __future__ import annotations

import pytest

from helpers import run_pipegen
from pipegen.ci import GATE_MODE_VARIABLE
from pipegen.commands._gate_common import resolve_mode


@pytest.mark.parametrize("environ", [{"GITHUB_EVENT_NAME": "pull_request"}, {"BUILD_REASON": "PullRequest"},
                                     {"CI_PIPELINE_SOURCE": "merge_request_event"}, {"CHANGE_ID": "7"}])
def test_auto_is_dry_run_on_pull_requests(environ: dict) -> None:
    assert resolve_mode("auto", environ) == "dry-run"


@pytest.mark.parametrize("environ", [{}, {"GITHUB_EVENT_NAME": "push"}, {"BUILD_REASON": "Schedule"},
                                     {"CI_PIPELINE_SOURCE": "push"}])
def test_auto_is_enforce_elsewhere(environ: dict) -> None:
    assert resolve_mode("auto", environ) == "enforce"


def test_explicit_modes_are_kept() -> None:
    assert [resolve_mode(mode, {"CHANGE_ID": "1"}) for mode in ("enforce", "dry-run", "off")] == \
        ["enforce", "dry-run", "off"]


# ---------------------------------------------------------------------------- where a gate's mode comes from

DESCRIPTOR = """\
project: {name: calc}
targets: [github]
tests: {unit: tests}
quality:
  coverage: {min: 100}
"""


@pytest.fixture(name="gate")
def fixture_gate(tmp_path, monkeypatch, capsys):
    """`pipegen gate coverage` on a 50 % report, with a descriptor written as given (or none)."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "CHANGE_ID",
                 "GITHUB_EVENT_NAME", "BUILD_REASON", "CI_PIPELINE_SOURCE", GATE_MODE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "coverage.xml").write_text(
        '<coverage line-rate="0.5" lines-valid="10" lines-covered="5" version="7"><packages/></coverage>',
        encoding="utf-8")

    def run(*args: str, descriptor: str | None = None, variable: str | None = None):
        if descriptor is not None:
            (tmp_path / "pipegen.yaml").write_text(descriptor, encoding="utf-8")
        if variable is not None:
            monkeypatch.setenv(GATE_MODE_VARIABLE, variable)
        return run_pipegen(capsys, "gate", "coverage", "--no-diff", *args)
    return run


def test_enforce_by_default(gate):
    assert gate(descriptor=DESCRIPTOR).exit_code == 1


def test_the_ci_variable_sets_the_mode_the_descriptor_leaves_open(gate):
    result = gate(descriptor=DESCRIPTOR, variable="dry-run")
    assert result.exit_code == 0 and "dry-run" in result.out


def test_the_descriptor_mode_wins_over_the_ci_variable(gate):
    # a CI variable nobody reviews cannot relax a mode written in the (reviewed) descriptor
    per_gate = DESCRIPTOR + "  mode: {coverage: enforce, default: dry-run}\n"
    assert gate(descriptor=per_gate, variable="off").exit_code == 1
    everywhere = DESCRIPTOR + "  mode: off\n"
    result = gate(descriptor=everywhere, variable="enforce")
    assert (result.exit_code, result.out.strip()) == (0, "gate coverage: off (not evaluated)")


def test_the_flag_wins_over_everything(gate):
    assert gate("--mode", "enforce", descriptor=DESCRIPTOR + "  mode: dry-run\n", variable="dry-run").exit_code == 1


def test_a_bad_ci_variable_is_bad_usage(gate):
    result = gate(descriptor=DESCRIPTOR, variable="lenient")
    assert result.exit_code == 2 and f"{GATE_MODE_VARIABLE}='lenient' is not a gate mode" in result.err
