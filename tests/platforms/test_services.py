"""`tests.services` rendered natively on every platform, read back from the generated files:
the containers beside the integration and functional jobs (never the unit job), and the same
$<NAME>_HOST / $<NAME>_PORT the tests use to reach them wherever they run."""
from __future__ import annotations

import yaml

from platforms import jenkins_structure as js
from conftest import plan_from_yaml
from pipegen.platforms import get_backend

DESCRIPTOR = """\
version: 1
project: {name: svc, python: "3.11"}
targets: [github, gitlab, azure, jenkins]
tests:
  unit: tests/unit
  integration: tests/integration
  functional: tests/e2e
  services:
    db: {image: "postgres:16", ports: [5432], env: {POSTGRES_PASSWORD: test, POSTGRES_DB: app}}
    redis-cache: {image: "redis:7-alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  ports: [6379]}
"""
PLAN = plan_from_yaml(DESCRIPTOR)
IMAGE_REDIS = "redis:7-alpine@sha256:" + "0123456789abcdef" * 4


def render(target: str, plan=PLAN) -> str:
    return get_backend(target).render(plan)


def test_github_services_publish_their_ports_and_tests_reach_localhost():
    jobs = yaml.safe_load(render("github"))["jobs"]
    assert "services" not in jobs["unit"]
    for job in ("integration", "functional"):
        assert jobs[job]["services"] == {
            "db": {"image": "postgres:16", "ports": ["5432:5432"],
                   "env": {"POSTGRES_DB": "app", "POSTGRES_PASSWORD": "test"}},
            "redis-cache": {"image": IMAGE_REDIS, "ports": ["6379:6379"]}}
        assert {k: v for k, v in jobs[job]["env"].items() if k.endswith(("_HOST", "_PORT"))} == {
            "DB_HOST": "localhost", "DB_PORT": "5432", "REDIS_CACHE_HOST": "localhost", "REDIS_CACHE_PORT": "6379"}


def test_gitlab_services_have_an_alias_the_host_variable_names():
    pipeline = yaml.safe_load(render("gitlab"))
    assert "services" not in pipeline["unit"]
    for job in ("integration", "functional"):
        assert pipeline[job]["services"] == [
            {"name": "postgres:16", "alias": "db", "variables": {"POSTGRES_DB": "app", "POSTGRES_PASSWORD": "test"}},
            {"name": IMAGE_REDIS, "alias": "redis-cache"}]
        variables = {name: value["value"] if isinstance(value, dict) else value
                     for name, value in pipeline[job]["variables"].items()}
        assert variables["DB_HOST"] == "db" and variables["REDIS_CACHE_HOST"] == "redis-cache"
        assert variables["DB_PORT"] == "5432" and variables["REDIS_CACHE_PORT"] == "6379"


def test_gitlab_shell_runner_gets_no_services_and_a_checklist_item():
    plan = plan_from_yaml(DESCRIPTOR + "settings: {gitlab: {shell: true}}\n")
    pipeline = yaml.safe_load(render("gitlab", plan))
    assert "services" not in pipeline["integration"]
    assert pipeline["integration"]["variables"]["DB_HOST"]["value"] == "localhost"
    items = {item.name: item.detail for item in get_backend("gitlab").checklist(plan)}
    assert "postgres:16" in items["service db"] and "localhost:5432" in items["service db"]


def test_azure_container_resources_are_services_of_the_jobs():
    pipeline = yaml.safe_load(render("azure"))
    assert pipeline["resources"]["containers"] == [
        {"container": "db", "image": "postgres:16", "ports": ["5432:5432"],
         "env": {"POSTGRES_DB": "app", "POSTGRES_PASSWORD": "test"}},
        {"container": "redis-cache", "image": IMAGE_REDIS, "ports": ["6379:6379"]}]
    jobs = {job["job"]: job for stage in pipeline["stages"] for job in stage["jobs"] if "job" in job}
    assert "services" not in jobs["unit"]
    for job in ("integration", "functional"):
        assert jobs[job]["services"] == {"db": "db", "redis-cache": "redis-cache"}
        envs = [step.get("env", {}) for step in jobs[job]["steps"] if "bash" in step]
        assert any(env.get("DB_HOST") == "localhost" and env.get("DB_PORT") == "5432" for env in envs)


def test_jenkins_names_the_sidecars_in_the_stage_and_the_checklist():
    text = render("jenkins")
    pipeline = js.read_pipeline(text)
    leaves = {leaf.name: leaf for top in pipeline.stages for leaf in top.leaves()}
    assert {"integration", "functional", "unit"} <= set(leaves)
    assert text.count("Needs db (postgres:16), redis-cache") == 2  # the two stages that need them
    items = {item.name: item.detail for item in get_backend("jenkins").checklist(PLAN)}
    assert "localhost:5432" in items["service db"] and "POSTGRES_PASSWORD=test" in items["service db"]
    assert "REDIS_CACHE_HOST" in items["service redis-cache"]
