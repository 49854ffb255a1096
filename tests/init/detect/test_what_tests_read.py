"""What the tests read, carried into tests.env: the compose environment of the services built
from the repository and the existing CI's test-job environment, hosts rewritten to where pipegen's
CI runs each service; what cannot be carried is listed with the reason."""
from __future__ import annotations

import textwrap
from pathlib import Path

from pipegen.init.detect.ci_competition import Mainline
from pipegen.init.detect.services import compose_services
from pipegen.init.detect.test_env import environment_of_tests

COMPOSE = """\
services:
  web:
    build: .
    environment:
      DATABASE_URL: postgresql://shop:${DB_PASSWORD:-shop}@db:5432/db
      CACHE_URL: redis://cache:6380/0
      DB_PORT: "5432"
      API_URL: http://web:8000
      SECRET_KEY: ${SECRET_KEY}
      PYTHONPATH: /app
      FLAGS: "on"
  tests:
    build: {context: ., dockerfile: Dockerfile.test}
    command: pytest
    environment:
      - DB_HOST=db
      - SEARCH_HOST=search
      - TOKEN
  db:
    image: postgres:16
    ports: ["5432:5432"]
  search:
    build: ./search
    environment:
      SEARCH_ADMIN_PASSWORD: admin
  cache:
    image: redis:7
    ports: ["6379"]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_compose_environment_of_the_built_services_with_hosts_where_ci_runs_the_services(tmp_path):
    root = write(tmp_path, {"docker-compose.yml": COMPOSE, "requirements.txt": "flask\n",
                            "search/Dockerfile": "FROM opensearchproject/opensearch:2\n"})
    services, _ = compose_services(root)
    assert [service.name for service in services] == ["db", "cache"]  # web and tests are built: no CI services
    found = environment_of_tests(root, services, Mainline())
    assert dict(found.env) == {
        "DATABASE_URL": "postgresql://shop:shop@${DB_HOST}:${DB_PORT}/db",  # the trailing /db is a path
        "CACHE_URL": "redis://${CACHE_HOST}:6380/0",
        "FLAGS": "on",
    }
    assert dict(found.left_out) == {
        "DB_PORT": "pipegen sets it: where the CI runs the service",
        "API_URL": "names web, which is built from this repository and does not run in CI",
        "SECRET_KEY": "${SECRET_KEY} comes from compose's .env or the shell: set it as a CI variable",
        "PYTHONPATH": "a path inside the container",
        "DB_HOST": "pipegen sets it: where the CI runs the service",
        "SEARCH_HOST": "names search, which is built from this repository and does not run in CI",
        "TOKEN": "passed through from the shell that runs compose: set it as a CI variable",
    }
    assert found.built == (("web", "."), ("tests", "."))
    assert found.built_services == (("search", "./search"),)  # no Python there: its env is the server's own
    assert found.sources == ("docker-compose.yml (web, tests)",)


def test_the_existing_test_workflows_env_comes_first_localhost_becomes_the_service(tmp_path):
    workflow = """\
    on: [push, pull_request]
    env:
      LOG_LEVEL: debug
    jobs:
      docs:
        runs-on: ubuntu-latest
        env: {DOCS_ONLY: "1"}
        steps: [{run: mkdocs build}]
      test:
        runs-on: ubuntu-latest
        env:
          DATABASE_URL: postgresql://postgres:postgres@localhost:5432/test
          API_TOKEN: ${{ secrets.API_TOKEN }}
        steps:
          - run: pytest
            env: {POSTGRES_DSN: "host=127.0.0.1 port=5432"}
    """
    root = write(tmp_path, {".github/workflows/ci.yml": workflow, "docker-compose.yml": COMPOSE, "app.py": ""})
    services, _ = compose_services(root)
    found = environment_of_tests(root, services, Mainline())
    env = dict(found.env)
    assert env["DATABASE_URL"] == "postgresql://postgres:postgres@${DB_HOST}:${DB_PORT}/test"  # the CI's, not compose's
    assert env["LOG_LEVEL"] == "debug" and "DOCS_ONLY" not in env
    assert env["POSTGRES_DSN"] == "host=127.0.0.1 port=5432"  # not a host:port pair: as written
    assert dict(found.left_out)["API_TOKEN"].startswith("a GitHub expression")
    assert found.sources[0] == ".github/workflows/ci.yml"
