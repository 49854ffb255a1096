"""Several projects in one descriptor (`projects:`): shared settings once, per-project overrides, and every
problem located where it was written (file:line:col), exit 2, no traceback."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import run_pipegen
from pipegen.descriptor.loader import load_descriptor, read_any
from pipegen.descriptor.projects import ProjectSet
from pipegen.errors import DescriptorError

MONOREPO = """\
version: 1
targets: [github, gitlab]
project:
  python: "3.11"
  requirements: {test: requirements-test.txt}
tests:
  unit: tests/unit
quality:
  coverage: {min: 70}
projects:
  features:
    folder: libs/features
  churn:
    folder: models/churn
    depends_on: [features]
    quality:
      coverage: {min: 85}
    model:
      name: churn-classifier
      train: python -m churn.train
      champion_alias: churn-champion
      metrics:
        auc: {greater_is_better: true, threshold: 0.75}
  fraud:
    folder: models/fraud/
    depends_on: [features]
    project: {python: "3.12"}
    model:
      name: fraud-detector
      train: python -m fraud.train
      metrics:
        recall: {greater_is_better: true, threshold: 0.6}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipegen.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_project_is_the_shared_settings_under_its_own(tmp_path: Path) -> None:
    parsed = read_any(write(tmp_path, MONOREPO))
    assert isinstance(parsed, ProjectSet)
    assert parsed.names == ("features", "churn", "fraud")
    features, churn, fraud = (entry.descriptor for entry in parsed.projects)
    assert (features.project.name, features.folder, features.quality.coverage.min) == ("features", "libs/features", 70)
    assert (churn.quality.coverage.min, churn.project.requirements.test) == (85, "requirements-test.txt")
    assert (fraud.project.python, fraud.folder, churn.project.python) == ("3.12", "models/fraud", "3.11")
    assert features.model is None
    assert (churn.model.name, churn.model.champion_alias) == ("churn-classifier", "churn-champion")
    assert (fraud.model.name, fraud.model.champion_alias) == ("fraud-detector", "champion")
    assert parsed.dependants("features") == ("churn", "fraud")


def test_one_project_is_chosen_by_name_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, MONOREPO)
    assert load_descriptor(path, "fraud").model.name == "fraud-detector"
    monkeypatch.setenv("PIPEGEN_PROJECT", "churn")
    assert load_descriptor(path).model.name == "churn-classifier"
    assert load_descriptor(path).command_path == "../../pipegen.yaml"
    monkeypatch.delenv("PIPEGEN_PROJECT")
    with pytest.raises(DescriptorError, match=r"declares several projects \(features, churn, fraud\)"):
        load_descriptor(path)


ERRORS = {
    "unknown-dependency": (MONOREPO.replace("[features]\n    quality", "[featurs]\n    quality"),
                           15, 18, "projects.churn.depends_on[0]: no project named 'featurs'"),
    "shared-folder": (MONOREPO.replace("folder: models/fraud/", "folder: models/churn"), 25, 13,
                      "projects.fraud.folder: models/churn is already the folder of project churn"),
    "cycle": (MONOREPO.replace("  features:\n    folder: libs/features\n",
                               "  features:\n    folder: libs/features\n    depends_on: [fraud]\n"),
              13, 18, "projects.features.depends_on: a cycle: features -> fraud -> features"),
    "folder-outside": (MONOREPO.replace("folder: libs/features", "folder: ../elsewhere"), 12, 13,
                       "projects.features.folder: '../elsewhere' must be a relative folder inside the repository"),
    "root-only-key": (MONOREPO.replace("    folder: libs/features\n",
                                       "    folder: libs/features\n    targets: [github]\n"), 13, 5,
                      "projects.features: unknown key 'targets' (shared by every project: write it at the root)"),
    "project-section-problem": (MONOREPO.replace("threshold: 0.6", "threshold: high"), 32, 54,
                                "model.metrics.recall.threshold"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_problems_are_located_where_written(case: str, tmp_path: Path, capsys) -> None:
    text, line, col, message = ERRORS[case]
    path = write(tmp_path, text)
    result = run_pipegen(capsys, "validate", "--descriptor", str(path))
    assert result.exit_code == 2, result.out + result.err
    assert "Traceback" not in result.err
    located = re.findall(rf"^{re.escape(str(path))}:(\d+):(\d+): (.*)$", result.err, re.MULTILINE)
    assert any((int(found_line), int(found_col)) == (line, col) and message in found_message
               for found_line, found_col, found_message in located), result.err


def test_a_shared_problem_is_reported_once(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, MONOREPO.replace("  unit: tests/unit", "  unit: tests/unit\n  unitt: tests/x"))
    result = run_pipegen(capsys, "validate", "--descriptor", str(path))
    assert result.exit_code == 2
    assert result.err.count("unitt") == 1, result.err


def test_validate_says_ok_and_warns_per_project_folder(tmp_path: Path, capsys) -> None:
    path = write(tmp_path, MONOREPO)
    for folder in ("libs/features", "models/churn", "models/fraud"):
        (tmp_path / folder / "tests" / "unit").mkdir(parents=True)
        (tmp_path / folder / "requirements-test.txt").write_text("pytest\n", encoding="utf-8")
    (tmp_path / "models/fraud/requirements-test.txt").unlink()
    result = run_pipegen(capsys, "validate", "--descriptor", str(path))
    assert result.exit_code == 0, result.err
    assert "OK (" in result.out and "targets: github, gitlab" in result.out
    missing = [line for line in result.err.splitlines() if "does not exist" in line]
    assert missing == [f"{path}:5:24: warning: project.requirements.test: test requirements file "
                       "'requirements-test.txt' does not exist in models/fraud"], result.err
