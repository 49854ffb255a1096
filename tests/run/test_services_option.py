"""`pipegen run` and tests.services: no containers are started locally, so the run says where
each job expects each service, and `--service NAME=HOST:PORT` points the jobs at one the user runs."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.errors import UsageError
from pipegen.plan import build_plan
from pipegen.run.runner import RunOptions, prepare, service_environment

from .test_runner import project

WITH_SERVICES = """\
version: 1
project: {name: shop, python: "3.11"}
targets: [gitlab]
tests:
  unit: tests/unit
  integration: tests/integration
  services:
    db: {image: "postgres:16", ports: [5432]}
    cache: {image: "redis:7", ports: [6379]}
"""


def prepared(tmp_path, *services):
    root = project(tmp_path, WITH_SERVICES)
    plan = build_plan(load_descriptor(root / "pipegen.yaml"))
    return plan, prepare(plan, root / "pipegen.yaml", RunOptions(stages=("test",), services=services, dry_run=True),
                         {})


def test_the_run_says_where_each_service_is_expected(tmp_path):
    plan, ready = prepared(tmp_path)
    notes = [note for note in ready.notes if note.startswith("service ")]
    assert notes == [
        "service db (postgres:16): pipegen run starts no containers; integration reach it at localhost:5432 as "
        "$DB_HOST/$DB_PORT; run it there, or give --service db=HOST:PORT",
        "service cache (redis:7): pipegen run starts no containers; integration reach it at localhost:6379 as "
        "$CACHE_HOST/$CACHE_PORT; run it there, or give --service cache=HOST:PORT"]
    integration = plan.job("integration")
    assert service_environment(integration, ()) == {}
    assert dict(integration.env)["DB_PORT"].value == "5432"  # what CI and a plain local run use


def test_service_points_the_jobs_at_another_address(tmp_path):
    plan, ready = prepared(tmp_path, ("db", "127.0.0.1", 15432))
    assert any("integration reach it at 127.0.0.1:15432 (--service)" in note for note in ready.notes)
    assert service_environment(plan.job("integration"), (("db", "127.0.0.1", 15432),)) == {
        "DB_HOST": "127.0.0.1", "DB_PORT": "15432"}
    assert service_environment(plan.job("unit"), (("db", "127.0.0.1", 15432),)) == {}  # unit has no services


def test_a_service_no_selected_job_uses_is_bad_usage(tmp_path):
    with pytest.raises(UsageError, match=r"--service queue: no selected job uses such a service \(they use "
                                         r"cache, db\)"):
        prepared(tmp_path, ("queue", "127.0.0.1", 1))


@pytest.mark.parametrize("value", ["db", "db=localhost", "db=:5432", "db=localhost:0", "=localhost:5432"])
def test_a_malformed_service_is_exit_2(tmp_path, value):
    root = project(tmp_path, WITH_SERVICES)
    done = subprocess.run([sys.executable, "-m", "pipegen", "run", "--dry-run", "--service", value], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "expected NAME=HOST:PORT" in done.stderr and "Traceback" not in done.stderr
