"""`--mode auto`: report-only in pull/merge-request runs, enforced elsewhere."""
from __future__ import annotations

import pytest

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
