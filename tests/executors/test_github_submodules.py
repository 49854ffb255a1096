"""A repository whose tests read a git submodule's file, adopted for GitHub (`pipegen init --target github`,
`pipegen generate`) and run by act: every job's actions/checkout fetches the submodule (`submodules:
recursive`; the checkout stand-in does what the action does with it), and the tests pass."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .act_runner import REMOTE_NAME, WORKFLOW, Act
from .adoption import adopted_repository
from .submodules import add_rates_submodule

pytestmark = pytest.mark.slow


def test_the_checkout_fetches_the_submodule_the_tests_read(wheelhouse, standin_bin, tmp_path: Path) -> None:
    repo = adopted_repository("submodule-data", tmp_path, "github",
                              (REMOTE_NAME, "https://github.com/pipegen-tests/submodule-data.git"),
                              add_rates_submodule)
    workflow = yaml.safe_load((repo.root / WORKFLOW).read_text(encoding="utf-8"))
    assert {step["with"]["submodules"] for job in workflow["jobs"].values() for step in job["steps"]
            if step.get("uses", "").startswith("actions/checkout@")} == {"recursive"}
    work = tmp_path / "act"
    work.mkdir()
    ran = Act(repo, wheelhouse, standin_bin, work).run(
        "push", {"ref": "refs/heads/main", "after": repo.head, "repository": {"default_branch": "main"}})
    assert ran.returncode == 0, ran.explain()
    assert ran.results == {"pipegen-check": "success", "lint": "success", "unit": "success"}, ran.explain()
    assert "checkout stand-in (test fixture): submodules tests/data" in ran.log("unit")
    assert "2 passed" in ran.log("unit")
