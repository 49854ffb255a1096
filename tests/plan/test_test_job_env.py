"""tests.env: what the tests read (DATABASE_URL, DB_HOST ...) reaches every test job; a value
naming where a service runs is put together by the job's shell from the service's host and port,
so the same descriptor works wherever the platform runs the service. The exports are executed."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import plan_from_yaml
from pipegen.descriptor.loader import parse_descriptor
from pipegen.errors import DescriptorError

DESCRIPTOR = """\
version: 1
project: {name: svc}
targets: [gitlab]
tests:
  unit: tests/unit
  integration: tests/integration
  services:
    db: {image: "postgres:16", ports: [5432]}
  env:
    DATABASE_URL: "postgresql://app:it's@${DB_HOST}:${DB_PORT}/app"
    CACHE_TTL: 30
"""


def step_environment(job) -> dict[str, str]:
    """The environment a test step's shell ends up with: the job's env, then the step's exports."""
    literal = {name: value.value for name, value in job.env}
    step = next(step.run for step in job.steps if "under coverage" in step.title)
    exports = "".join(line + "\n" for line in step.splitlines() if line.startswith("export ") and
                      "COVERAGE" not in line)
    done = subprocess.run(["bash", "-euc", exports + "env -0"], env={**os.environ, **literal}, capture_output=True,
                          text=True, check=True)
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def test_service_addresses_are_put_together_where_the_job_runs():
    plan = plan_from_yaml(DESCRIPTOR)
    integration = next(job for job in plan.jobs if job.id == "integration")
    env = step_environment(integration)
    assert env["DATABASE_URL"] == "postgresql://app:it's@localhost:5432/app"
    assert env["CACHE_TTL"] == "30"


def test_the_unit_level_without_services_still_gets_what_the_tests_read():
    plan = plan_from_yaml(DESCRIPTOR)
    unit = next(job for job in plan.jobs if job.id == "unit")
    assert not unit.services
    assert step_environment(unit)["DATABASE_URL"] == "postgresql://app:it's@localhost:5432/app"


@pytest.mark.parametrize("env, message", [
    ('{URL: "http://${API_HOST}/"}', "tests.env.URL: ${API_HOST} is no service's host or port (known: ${DB_HOST}, "
                                     "${DB_PORT})"),
    ("{DB_HOST: somewhere}", "tests.env.DB_HOST: set by the service db (where the CI runs it); use another name"),
    ('{URL: "$(whoami)"}', "tests.env.URL"),
    ('{URL: "$HOME"}', "tests.env.URL"),
])
def test_references_to_anything_but_a_services_host_or_port_are_refused(env, message):
    text = DESCRIPTOR.split("  env:")[0] + f"  env: {env}\n"
    with pytest.raises(DescriptorError) as refused:
        parse_descriptor(text, Path("pipegen.yaml"))
    assert message in str(refused.value)
