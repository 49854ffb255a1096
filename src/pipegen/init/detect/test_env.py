"""What the tests read from their environment, for tests.env: the existing CI's test-job
environment (known to work in CI) first, then the environment docker-compose gives the services
built from the repository (the application, its test runner). Hosts become where pipegen's CI
runs each service; what cannot be carried (secrets, expressions, container paths) is listed."""
from __future__ import annotations

from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.init.detect.ci_competition import Mainline, github_workflow, runs_checks
from pipegen.init.detect.services import ServiceFinding, TestEnvironment, carried_value, compose_test_environment
from pipegen.project_files import read_text

_LOCAL_HOSTS = ("localhost", "127.0.0.1")


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _workflow_test_env(data: dict) -> dict[str, object]:
    """The workflow's env, its testing jobs' env and their testing steps' env, in that order."""
    found = dict(_mapping(data.get("env")))
    for job in _mapping(data.get("jobs")).values():
        if not isinstance(job, dict) or not runs_checks(yaml.safe_dump(job)):
            continue
        found.update(_mapping(job.get("env")))
        for step in job.get("steps") or ():
            if isinstance(step, dict) and runs_checks(str(step.get("run", ""))):
                found.update(_mapping(step.get("env")))
    return found


def github_test_environment(root: Path, services: tuple[ServiceFinding, ...],
                            mainline: Mainline) -> TestEnvironment:
    """The environment the repository's GitHub test workflows give their tests."""
    folder = root / ".github" / "workflows"
    env: dict[str, str] = {}
    left_out: dict[str, str] = {}
    sources = []
    for file in sorted(folder.glob("*.y*ml")) if folder.is_dir() else ():
        relative = file.relative_to(root).as_posix()
        if not github_workflow(root, relative, mainline).competes:
            continue
        try:
            data = load_bounded(read_text(file))
        except yaml.YAMLError:
            continue
        raw = _workflow_test_env(data) if isinstance(data, dict) else {}
        for key, value in raw.items():
            key = str(key)
            if key in env or key in left_out:
                continue
            if "${{" in str(value):
                left_out[key] = "a GitHub expression (a secret, the matrix...): give it a value or a CI variable"
                continue
            carried, why = carried_value(key, value, services, (), _LOCAL_HOSTS)
            if carried is None:
                left_out[key] = why
            else:
                env[key] = carried
        if raw:
            sources.append(relative)
    return TestEnvironment(tuple(env.items()), tuple(sources), tuple(left_out.items()))


def environment_of_tests(root: Path, services: tuple[ServiceFinding, ...], mainline: Mainline) -> TestEnvironment:
    """The existing CI's test environment, then compose's for what it does not set."""
    ci = github_test_environment(root, services, mainline)
    compose = compose_test_environment(root, services)
    env = dict(ci.env)
    left_out = dict(ci.left_out)
    for key, value in compose.env:
        env.setdefault(key, value)
    for key, why in compose.left_out:
        if key not in env:
            left_out.setdefault(key, why)
    sources = ci.sources + tuple(source for source in compose.sources
                                 if any(key not in dict(ci.env) for key, _ in compose.env))
    left = tuple((key, why) for key, why in left_out.items() if key not in env)
    return TestEnvironment(tuple(env.items()), sources, left, compose.built, compose.built_services)
