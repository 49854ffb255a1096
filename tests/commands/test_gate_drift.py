"""`pipegen gate drift` as the pipeline's drift job calls it: the descriptor's data.drift,
flags over it, the reports, DATA_DRIFT for train, and the exit codes."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from pipegen.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gates"))
from test_drift import wine_halves, write_csv  # noqa: E402  pylint: disable=wrong-import-position

CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI", "JENKINS_URL", "PIPEGEN_GATE_MODE",
                "PIPEGEN_OUTPUTS_FILE")
DESCRIPTOR = """\
project: {name: demo}
targets: [github]
model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.5}}}
data:
  drift:
    reference: ref.csv
    current: cur.csv
    columns: {cultivar: categorical}
    on_drift: retrain
"""


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    reference, current = wine_halves()
    write_csv(reference, tmp_path / "ref.csv")
    write_csv(current, tmp_path / "cur.csv")
    current["alcohol"] = [v + 2 for v in current["alcohol"]]
    write_csv(current, tmp_path / "moved.csv")
    (tmp_path / "pipegen.yaml").write_text(DESCRIPTOR, encoding="utf-8")
    return tmp_path


def gate(*args: str, **env: str):
    return CliRunner().invoke(cli, ["gate", "drift", *args], env=env, catch_exceptions=False)


def test_descriptor_settings_and_data_drift_output(workdir):
    same = gate("--report-json", "same.json", PIPEGEN_OUTPUTS_FILE="out.env")
    assert same.exit_code == 0, same.output
    assert same.output.startswith("gate drift: PASS")
    moved = gate("--current", "moved.csv", "--junit", "drift.xml", "--markdown", "drift.md",
                 PIPEGEN_OUTPUTS_FILE="out.env")
    assert moved.exit_code == 0, moved.output  # on_drift: retrain reports and publishes, it does not fail
    assert (workdir / "out.env").read_text() == "DATA_DRIFT=false\nDATA_DRIFT=true\n"
    report = json.loads((workdir / "same.json").read_text())
    assert report["data"]["policy"] == {"alpha": 0.05, "correction": "fdr_bh", "new_categories": "fail",
                                        "on_drift": "retrain"}
    assert {f["feature"]: f["test"] for f in report["data"]["features"]}["cultivar"] == "chi2"
    cases = {case.get("name"): case for case in ET.parse(workdir / "drift.xml").iter("testcase")}
    assert len(cases) == 14 and cases["alcohol"].find("failure") is None
    assert "corrected p" in (workdir / "drift.md").read_text()


def test_flags_override_the_descriptor(workdir):
    failed = gate("--current", "moved.csv", "--on-drift", "fail", "--correction", "bonferroni")
    assert failed.exit_code == 1 and "alcohol" in failed.output
    excluded = gate("--current", "moved.csv", "--on-drift", "fail", "--exclude", "alcohol")
    assert excluded.exit_code == 0, excluded.output


def test_dropped_column_fails_even_in_report_mode(workdir):
    reference, current = wine_halves()
    del current["ash"]
    write_csv(current, workdir / "dropped.csv")
    run = gate("--current", "dropped.csv", "--on-drift", "report")
    assert run.exit_code == 1 and "schema:ash" in run.output


def test_exit_codes_for_unreadable_data_and_bad_usage(workdir):
    missing = gate("--current", "nope.csv", "--report-json", "r.json")
    assert missing.exit_code == 3 and "does not exist" in missing.output
    assert json.loads((workdir / "r.json").read_text())["exit_code"] == 3
    bad = gate("--column", "alcohol=text")
    assert bad.exit_code == 2 and "NAME=numeric or NAME=categorical" in bad.output
    (workdir / "pipegen.yaml").unlink()
    nothing = gate()
    assert nothing.exit_code == 2 and "no current data" in nothing.output


def test_without_scipy_the_gate_cannot_evaluate_and_names_the_extra(workdir, monkeypatch):
    monkeypatch.delitem(sys.modules, "scipy.stats", raising=False)
    monkeypatch.setitem(sys.modules, "scipy", None)  # as if the drift extra were not installed
    run = gate("--report-json", "r.json")
    assert run.exit_code == 3, run.output
    assert "pip install 'pipegen-ci[drift]'" in run.output and "Traceback" not in run.output
    assert json.loads((workdir / "r.json").read_text())["exit_code"] == 3


def test_a_data_set_over_the_size_cap_cannot_be_evaluated(workdir, monkeypatch):
    from pipegen.gates import drift  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(drift, "MAX_DATA_BYTES", 1024)  # the wine halves are a few KiB
    run = gate("--report-json", "r.json")
    assert run.exit_code == 3, run.output
    assert "ref.csv is" in run.output and "cap of 1,024 bytes" in run.output and "Traceback" not in run.output
    assert json.loads((workdir / "r.json").read_text())["exit_code"] == 3
