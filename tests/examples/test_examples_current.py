"""The committed example pipelines are exactly what their descriptors generate."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from helpers import run_pipegen


# Each example and the number of pipeline files it holds.
FILES = {"churn": 4, "dags-and-infra": 4, "minimal": 4, "monorepo": 4}


@pytest.mark.parametrize("example", sorted(FILES))
def test_committed_example_pipelines_are_current(example: str, capsys) -> None:
    result = run_pipegen(capsys, "check", "--descriptor", str(EXAMPLES / example / "pipegen.yaml"))
    assert result.exit_code == 0, result.out + result.err
    assert result.out.count("current") == FILES[example]


@pytest.mark.parametrize("example", sorted(FILES))
def test_committed_example_checklists_are_current(example: str, capsys, tmp_path) -> None:
    """SETUP.md is what `generate --checklist` writes today: a stale checklist names the wrong readers."""
    checklist = tmp_path / "SETUP.md"
    result = run_pipegen(capsys, "generate", "--descriptor", str(EXAMPLES / example / "pipegen.yaml"),
                         "--out", str(tmp_path / "out"), "--checklist", str(checklist))
    assert result.exit_code == 0, result.out + result.err
    committed = (EXAMPLES / example / "SETUP.md").read_text(encoding="utf-8")
    assert committed == checklist.read_text(encoding="utf-8")
