"""Shared fixtures: the example descriptors, their plans, and a descriptor builder."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.descriptor.loader import parse_descriptor
from pipegen.plan import Plan, build_plan
from pipegen.records import replace

# Fixtures shared across folders: mlflow_server, sonar_server, standin_bin, wheelhouse, example_repo,
# airflow_python, terraform_bin.
pytest_plugins = ("executors.plugin", "deploy_tools")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CHURN = EXAMPLES / "churn" / "pipegen.yaml"
MINIMAL = EXAMPLES / "minimal" / "pipegen.yaml"


# DESIGN §2's reference descriptor is the churn example's, but for the environments: there each
# one deploys with a command (deploy.sh), while the example deploys to Kubernetes (a deploy kind,
# tests/plan/test_deploy_kinds.py). The graph tests hold the plan to DESIGN §3 with the reference.
REFERENCE_ENVIRONMENTS = """\
environments:
  test: {}
  qa: {deploy: ./deploy.sh qa "$IMAGE_REF"}
  prod:
    deploy: ./deploy.sh prod "$IMAGE_REF"
    approval: {approvers: [release-managers]}
    branch: main
jobs:
  - name: smoke-qa
    stage: qa
    needs: [deploy-qa]
    run: ./smoke.sh
"""


def reference_descriptor_text() -> str:
    """DESIGN §2's reference descriptor: the churn example's with command deploys."""
    text = CHURN.read_text(encoding="utf-8")
    return text[:text.index("\nenvironments:\n") + 1] + REFERENCE_ENVIRONMENTS


@pytest.fixture(scope="session")
def churn_plan() -> Plan:
    """The plan of DESIGN §2's reference descriptor (the churn example, deploying with commands)."""
    return build_plan(parse_descriptor(reference_descriptor_text(), CHURN))


@pytest.fixture(scope="session")
def minimal_plan() -> Plan:
    return build_plan(load_descriptor(MINIMAL))


@pytest.fixture(scope="session")
def churn_pip_plan() -> Plan:
    """The churn example's plan with `settings.installer: pip` (the fallback)."""
    descriptor = load_descriptor(CHURN)
    return build_plan(replace(descriptor, settings=replace(descriptor.settings, installer="pip")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The executed pipelines first, longest first (`pipeline_scenario(minutes=N)`: about how long one
    takes beside another on a 2-core machine), then the other slow tests: with two xdist workers the
    long ones start at once and the quick tests fill the gaps, instead of a long test starting last."""
    def weight(item: pytest.Item) -> tuple[int, int]:
        scenario = item.get_closest_marker("pipeline_scenario")
        if scenario:
            return 0, -int(scenario.kwargs.get("minutes", 1))
        return (1 if item.get_closest_marker("slow") else 2), 0
    items.sort(key=weight)  # stable: file order within each group, the same on every worker


def plan_from_yaml(text: str, name: str = "pipegen.yaml") -> Plan:
    """A plan from descriptor text (dedented), for tests that vary one thing."""
    return build_plan(parse_descriptor(textwrap.dedent(text), Path(name)))


# Fixture projects (tests/fixtures/adoption/*) carry their own tests: pipegen runs them in
# copies of those projects, pytest never collects them as pipegen's.
collect_ignore_glob = ["fixtures/*"]
