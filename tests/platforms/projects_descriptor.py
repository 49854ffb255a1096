"""A `projects:` descriptor the platform tests share: a library, two models (one with QA and an
approved PROD), each job of a model depending on the library's tests."""
from __future__ import annotations

from pathlib import Path

from pipegen.descriptor.loader import read_any
from pipegen.plan import Plan
from pipegen.plan.projects import build_projects_plan

MODELS = """\
targets: [github, gitlab, azure, jenkins]
project: {requirements: {test: requirements-test.txt}}
tests: {unit: tests/unit}
projects:
  features: {folder: libs/features}
  churn:
    folder: models/churn
    depends_on: [features]
    model:
      name: churn-classifier
      train: python -m churn.train
      metrics: {auc: {greater_is_better: true, threshold: 0.7}}
    image: {name: churn-api}
    environments:
      qa: {deploy: ./deploy.sh qa}
      prod: {deploy: ./deploy.sh prod, approval: {approvers: [ops]}}
  fraud:
    folder: models/fraud
    depends_on: [features]
    model:
      name: fraud-detector
      train: python -m fraud.train
      metrics: {recall: {greater_is_better: true, threshold: 0.6}}
"""
# Each project's gate report on the pull request (Jenkins posts it through the repository host).
REPORTED = MODELS + "report: {comment: true, host: github, token_secret: REPORT_TOKEN}\n"


def projects_plan(folder: Path, text: str = MODELS) -> Plan:
    (folder / "pipegen.yaml").write_text(text, encoding="utf-8")
    return build_projects_plan(read_any(folder / "pipegen.yaml"))
