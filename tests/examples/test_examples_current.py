"""The committed example pipelines are exactly what their descriptors generate."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from helpers import run_pipegen


@pytest.mark.parametrize("example", ["churn", "minimal"])
def test_committed_example_pipelines_are_current(example: str, capsys) -> None:
    result = run_pipegen(capsys, "check", "--descriptor", str(EXAMPLES / example / "pipegen.yaml"))
    assert result.exit_code == 0, result.out + result.err
    assert result.out.count("current") == 4
