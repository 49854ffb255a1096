"""`pipegen gate dags` with real Airflow (its own venv, tests/deploy_tools.py): a fixture DAG folder
with a good DAG, one that fails to import and one with a cycle."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipegen.gates.dags import Rules, classify, evaluate_found

from .conftest import conditions_by_metric, read_json, run_gate

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dags"


def dag_folder(root: Path, *names: str) -> Path:
    folder = root / "dags"
    folder.mkdir()
    for name in names:
        shutil.copy(FIXTURES / f"{name}.py", folder / f"{name}.py")
    return folder


@pytest.mark.slow
def test_bad_dags_fail_by_name_and_the_good_one_loads(tmp_path, airflow_python) -> None:
    folder = dag_folder(tmp_path, "good", "broken", "cycle")
    result = run_gate("dags", "--dags", str(folder), "--python", airflow_python,
                      "--report-json", "dags.json", "--junit", "dags.xml")
    assert result.exit_code == 1, result.output
    report = read_json(tmp_path / "dags.json")
    rows = conditions_by_metric(report)
    assert (rows["files failing to import"]["actual"], rows["files failing to import"]["detail"]) == (1, "broken.py")
    assert (rows["DAGs with a cycle"]["actual"], rows["DAGs with a cycle"]["detail"]) == (1, "cycle.py")
    assert rows["DAGs loaded"]["status"] == "pass"
    assert [dag["dag_id"] for dag in report["data"]["dags"]] == ["good"]
    assert {error["file"]: error["kind"] for error in report["data"]["errors"]} == {"broken.py": "import",
                                                                                    "cycle.py": "cycle"}
    assert "a_provider_nobody_installed" in result.output  # the reason, in the log
    failed = [case.get("name") for case in ET.parse(tmp_path / "dags.xml").iter("testcase")
              if case.find("failure") is not None]
    assert failed == ["files failing to import", "DAGs with a cycle"]


@pytest.mark.slow
def test_a_good_folder_passes_and_the_rules_name_what_breaks_them(tmp_path, airflow_python) -> None:
    good = dag_folder(tmp_path, "good")
    passed = run_gate("dags", "--dags", str(good), "--python", airflow_python, "--require-owner",
                      "--require-tags", "--min-retries", "1")
    assert passed.exit_code == 0, passed.output
    shutil.copy(FIXTURES / "sloppy.py", good / "sloppy.py")
    ruled = run_gate("dags", "--dags", str(good), "--python", airflow_python, "--require-owner",
                     "--require-tags", "--min-retries", "1", "--report-json", "rules.json")
    assert ruled.exit_code == 1, ruled.output
    rows = conditions_by_metric(read_json(tmp_path / "rules.json"))
    assert rows["tasks without an owner"]["detail"] == "sloppy.only"
    assert rows["DAGs without tags"]["detail"] == "sloppy"
    assert rows["tasks with fewer than 1 retries"]["detail"] == "sloppy.only"
    assert rows["files failing to import"]["status"] == "pass"


def test_a_python_without_airflow_cannot_evaluate(tmp_path) -> None:
    folder = dag_folder(tmp_path, "good")
    result = run_gate("dags", "--dags", str(folder), "--python", sys.executable)
    assert result.exit_code == 3, result.output
    assert "apache-airflow cannot be imported" in result.output


def test_a_missing_folder_cannot_evaluate(tmp_path) -> None:
    result = run_gate("dags", "--dags", str(tmp_path / "nope"))
    assert result.exit_code == 3 and "no such DAG folder" in result.output


def test_classified_errors_and_an_empty_folder() -> None:
    assert classify("AirflowDagDuplicatedIdException: Ignoring DAG a from x.py - also found in y.py") == "duplicate"
    assert classify("AirflowDagCycleException: Cycle detected in DAG: a") == "cycle"
    result = evaluate_found({"files": [], "dags": [], "errors": []}, Rules(), "dags")
    assert result.status.value == "fail"
    assert [c.metric for c in result.conditions if c.status.value == "fail"] == ["DAGs loaded"]
    catchup = evaluate_found({"files": ["a.py"], "errors": [], "dags": [
        {"dag_id": "a", "file": "a.py", "tags": [], "catchup": True, "start_date": False, "tasks": []}]},
        Rules(), "dags")
    assert [c.detail for c in catchup.conditions if c.status.value == "fail"] == ["a"]
