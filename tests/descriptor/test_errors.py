"""Broken descriptors: each gives file:line:col: message, exit 2, and no traceback."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from helpers import run_pipegen

BASE = """\
project:
  name: demo
targets: [github]
tests:
  unit: tests/unit
"""

CASES = {
    "bad-yaml": ("project: [unclosed\n", 2, 1, "invalid YAML"),
    "tab-indent": ("project:\n\tname: x\n", 2, 1, "invalid YAML"),
    "empty": ("", 1, 1, "empty"),
    "not-a-mapping": ("- a\n- b\n", 1, 1, "must be a mapping"),
    "unknown-top-key": (BASE + "trigers: {branches: [main]}\n", 6, 1, "unknown key 'trigers' in the descriptor; did you mean 'triggers'?"),
    "unknown-nested-key": (BASE.replace("  name: demo", "  name: demo\n  pyhton: '3.11'"), 3, 3, "did you mean 'python'?"),
    "wrong-type": (BASE.replace("targets: [github]", "targets: github"), 3, 10, "targets: expected a list, got a string"),
    "python-number": (BASE.replace("  name: demo", "  name: demo\n  python: 3.10"), 3, 11, 'quote it: "3.10"'),
    "unknown-target": (BASE.replace("[github]", "[github, gitlabb]"), 3, 19, "did you mean 'gitlab'?"),
    "empty-targets": (BASE.replace("[github]", "[]"), 3, 10, "targets: must not be empty"),
    "missing-name": ("project: {python: '3.11'}\ntargets: [github]\n", 1, 10, "missing required key 'name'"),
    "missing-project": ("targets: [github]\n", 1, 1, "missing required key 'project'"),
    "duplicate-key": (BASE + "targets: [gitlab]\n", 6, 1, "duplicate key 'targets'"),
    "bad-cron": (BASE + "triggers: {schedule: '61 * * * *'}\n", 6, 22, "cron field minute '61': values must be 0-59"),
    "cron-fields": (BASE + "triggers: {schedule: '0 3 * *'}\n", 6, 22, "must have 5 fields"),
    "unknown-needs": (BASE + "jobs:\n  - {name: smoke, stage: test, run: ./s.sh, needs: [unti]}\n", 7, 53, "needs unknown job 'unti'"),
    "cycle": (BASE + "jobs:\n  - {name: a, stage: test, run: x, needs: [b]}\n  - {name: b, stage: test, run: y, needs: [a]}\n",
              8, 43, "jobs form a cycle: a -> b -> a"),
    "output-clash": (BASE + "jobs:\n  - {name: a, stage: test, run: x, outputs: [V]}\n  - {name: b, stage: test, run: y, outputs: [V]}\n",
                     8, None, "output 'V' is published by both 'a' and 'b'"),
    "output-never-produced": (BASE + "jobs:\n  - {name: a, stage: test, run: x, inputs: [NOPE]}\n", 7, 45, "reads output 'NOPE', which no job produces"),
    "later-stage-need": (BASE + "environments: {qa: {deploy: ./d.sh}}\njobs:\n  - {name: a, stage: test, run: x, needs: [deploy-qa]}\n",
                         8, 44, "cannot need 'deploy-qa' from the later stage qa"),
    "name-clash-builtin": (BASE + "jobs:\n  - {name: unit, stage: test, run: x}\n", 7, None, "already used by a job pipegen generates"),
    "bad-job-name": (BASE + "jobs:\n  - {name: 'Deploy QA', stage: test, run: x}\n", 7, 12, "is not a job name"),
    "newline-in-title": (BASE + 'jobs:\n  - {name: a, title: "two\\nlines", stage: test, run: x}\n', 7, 22, "one line of text"),
    "unknown-stage": (BASE + "jobs:\n  - {name: a, stage: stagging, run: x}\n", 7, 22, "'stagging' is not allowed (allowed: prod, qa, test)"),
    "expression-in-run": (BASE + "jobs:\n  - {name: a, stage: test, run: 'echo ${{ secrets.X }}'}\n", 7, 33,
                          "GitHub Actions would evaluate '${{'"),
    "bad-metric-change": (BASE + "model:\n  name: m\n  train: t\n  metrics: {auc: {greater_is_better: true, min_relative_change: 2}}\n",
                          9, None, "must be at most 1"),
    "missing-greater-is-better": (BASE + "model:\n  name: m\n  train: t\n  metrics: {auc: {threshold: 0.7}}\n", 9, 18,
                                  "missing required key 'greater_is_better'"),
    "unknown-profile": (BASE + "quality: {profile: nosuch}\n", 6, 20, "unknown gate profile 'nosuch'"),
    "metric-without-rule": (BASE + "model: {name: m, train: t, metrics: {auc: {greater_is_better: true}}}\n", 6, 43,
                            "model.metrics.auc: give at least one of threshold"),
    "bad-env-name": (BASE + "model: {name: m, train: t, tracking_uri_var: mlflow-uri, metrics: {a: {greater_is_better: true}}}\n",
                     6, None, "an environment variable name"),
    "control-char": (BASE + 'jobs:\n  - {name: a, stage: test, run: "echo \\u0007"}\n', 7, 33, "control characters"),
    "dollar-in-path": (BASE.replace("tests/unit", "tests/$UNIT"), 5, 9, "without '$'"),
    "prod-without-work": (BASE + "environments: {prod: {approval: {approvers: [me]}}}\n", 6, 22, "nothing to do in PROD"),
    "drift-correction": (BASE + "data:\n  drift: {current: d.csv, reference: r.csv, correction: holm}\n", 7, 57,
                         "'holm' is not allowed (allowed: bonferroni, fdr_bh)"),
    "drift-two-references": (BASE + "data:\n  drift: {current: d.csv, reference: r.csv, reference_artifact: x.csv}\n",
                             7, 10, "give exactly one of reference"),
    "drift-artifact-without-model": (BASE + "data:\n  drift: {current: d.csv, reference_artifact: x.csv}\n", 7, 47,
                                     "data.drift.reference_artifact: needs a model block"),
    "drift-alpha": (BASE + "data:\n  drift: {current: d.csv, reference: r.csv, alpha: 1.5}\n", 7, 52, "must be less than 1"),
    "drift-column-type": (BASE + "data:\n  drift: {current: d.csv, reference: r.csv, columns: {a: text}}\n", 7, 58,
                          "'text' is not allowed (allowed: categorical, numeric)"),
    "drift-include-exclude": (BASE + "data:\n  drift: {current: d.csv, reference: r.csv, include: [a], exclude: [a]}\n",
                              7, 68, "column 'a' is both included and excluded"),
    "drift-no-current": (BASE + "data:\n  drift: {reference: r.csv}\n", 7, 10, "missing required key 'current'"),
    "deploy-unknown-kind": (BASE + "environments: {qa: {deploy: {helm: {chart: c}}}}\n", 6, 30,
                            "unknown key 'helm' in environments.qa.deploy"),
    "deploy-kind-typo": (BASE + "environments:\n  qa:\n    deploy:\n      terraform: {var_files: qa.tfvars}\n", 9, 19,
                         "did you mean 'var_file'?"),
    "deploy-not-a-command": (BASE + "environments: {qa: {deploy: [a, b]}}\n", 6, 29,
                             "environments.qa.deploy: expected a string or a mapping, got a list"),
    "airflow-relative-target": (BASE + "environments: {qa: {deploy: {airflow: {target: out/dags}}}}\n", 6, 48,
                                "an absolute path (a mounted volume), gs://bucket/path or s3://bucket/path"),
    "airflow-two-targets": (BASE + "environments: {qa: {deploy: {airflow: {target: /d, target_var: D}}}}\n", 6, 39,
                            "give exactly one of target"),
    "airflow-retries": (BASE + "environments: {qa: {deploy: {airflow: {target: /d, rules: {retries: -1}}}}}\n", 6, None,
                        "retries: must be at least 0"),
    "kubernetes-timeout": (BASE + "environments: {qa: {deploy: {kubernetes: {manifests: k8s, timeout: 5}}}}\n", 6, 68,
                           "timeout: must be at least 10"),
    "kubernetes-two-sources": (BASE + "environments: {qa: {deploy: {kubernetes: {manifests: k8s, chart: c}}}}\n", 6, 42,
                               "give exactly one of manifests"),
    "terraform-backend-var": (BASE + "environments: {qa: {deploy: {terraform: {backend_config: {bucket: tf-state}}}}}\n",
                              6, None, "an environment variable name"),
    "report-token-name": (BASE + "report: {comment: true, token_secret: lower-case}\n", 6, 39, "an environment variable name"),
    "report-jenkins-host": (BASE.replace("[github]", "[jenkins]") + "report: {comment: true, token_secret: T}\n", 6, 9,
                            "set report.host to github, gitlab or bitbucket"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_descriptor_is_located(name: str, tmp_path: Path, capsys, monkeypatch) -> None:
    text, line, col, fragment = CASES[name]
    path = tmp_path / "pipegen.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "validate")
    assert result.exit_code == 2, result
    assert "Traceback" not in result.err + result.out
    first = result.err.splitlines()[0]
    match = re.match(r"^pipegen\.yaml:(\d+):(\d+): (.*)$", first)
    assert match, first
    assert int(match.group(1)) == line, first
    if col is not None:
        assert int(match.group(2)) == col, first
    assert fragment in result.err, result.err


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "pipegen.yaml").write_text(textwrap.dedent("""\
        project: {name: x, pyton: '3'}
        targets: [github, jenkinz]
        tets: {}
        """), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "validate")
    assert result.exit_code == 2
    assert [line.split(": ", 1)[0] for line in result.err.splitlines()] == [
        "pipegen.yaml:1:20", "pipegen.yaml:2:19", "pipegen.yaml:3:1"]


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "validate")
    assert result.exit_code == 2
    assert result.err.startswith("pipegen.yaml:1:1: no such file (run `pipegen init`")


def test_reference_descriptor_validates(capsys) -> None:
    from conftest import CHURN  # pylint: disable=import-outside-toplevel

    result = run_pipegen(capsys, "validate", "--descriptor", str(CHURN))
    assert result.exit_code == 0, result.err
    assert "TEST -> QA -> PROD" in result.out
