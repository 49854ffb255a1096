"""What the tests read, carried into tests.env: the compose environment of the services built
from the repository and the existing CI's test-job environment, hosts rewritten to where pipegen's
CI runs each service; what cannot be carried is listed with the reason."""
from __future__ import annotations

import textwrap
from pathlib import Path

from pipegen.init.detect.ci_competition import Mainline
from pipegen.generate.render import header
from pipegen.init.detect import services as found_services
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


GITLAB_CI = """\
variables:
  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"
  GIT_DEPTH: "10"
  LOG_LEVEL: info
.python:
  image: python:3.12
  variables:
    SHOP_CURRENCY: EUR
unit:
  extends: .python
  variables:
    DATABASE_URL: postgresql://shop:shop@postgres:5432/shop
    CACHE_URL: redis://cache:6379/0
    SEARCH_URL: http://search:9200
    API_TOKEN: $SHOP_API_TOKEN
    LOG_LEVEL: debug
    TIMEOUT: {value: "30", description: seconds}
  services:
    - postgres:16
    - name: redis:7
      alias: cache
    - name: elastic/search:8
      alias: search
  script:
    - pytest tests
pages:
  variables: {DOCS_ONLY: "1"}
  script: [mkdocs build]
"""


def test_the_gitlab_test_jobs_variables_with_service_aliases_where_ci_runs_them(tmp_path):
    root = write(tmp_path, {".gitlab-ci.yml": GITLAB_CI, "docker-compose.yml": COMPOSE, "app.py": "",
                            "search/Dockerfile": "FROM opensearchproject/opensearch:2\n"})
    services, _ = compose_services(root)
    found = environment_of_tests(root, services, Mainline())
    assert dict(found.env) == {
        "LOG_LEVEL": "debug",  # the job's own over the pipeline's
        "SHOP_CURRENCY": "EUR",  # from the template it extends
        # `postgres` and `cache` are the job's aliases of the images compose runs as db and cache
        "DATABASE_URL": "postgresql://shop:shop@${DB_HOST}:${DB_PORT}/shop",
        "CACHE_URL": "redis://${CACHE_HOST}:${CACHE_PORT}/0",
        "TIMEOUT": "30",
        # then compose's, for what the CI does not set
        "FLAGS": "on",
    }
    left_out = dict(found.left_out)
    assert left_out["API_TOKEN"].startswith("a GitLab variable reference")
    assert left_out["SEARCH_URL"] == ("names search, a service of .gitlab-ci.yml's test jobs (elastic/search:8) that "
                                      "pipegen's descriptor does not run: add it under tests.services")
    assert not {"PIP_CACHE_DIR", "GIT_DEPTH", "DOCS_ONLY"} & (set(left_out) | set(dict(found.env)))
    assert found.sources[0] == ".gitlab-ci.yml"


AZURE_PIPELINE = """\
trigger: [main]
pr: [main]
resources:
  containers:
    - container: pg
      image: postgres:16
variables:
  python.version: "3.11"
  shop.currency: EUR
  LOG_LEVEL: info
stages:
  - stage: docs
    jobs:
      - job: docs
        variables: {DOCS_ONLY: "1"}
        steps: [{script: mkdocs build}]
  - stage: test
    variables:
      - name: ORDERS_TABLE
        value: orders_test
      - group: shop-secrets
    jobs:
      - job: unit
        pool: {vmImage: ubuntu-latest}
        container: python:3.11
        services: {postgres: pg}
        variables:
          DATABASE_URL: postgresql://shop:shop@postgres:5432/shop
          API_TOKEN: $(shopApiToken)
          BUILD_FLAVOUR: ${{ parameters.flavour }}
        steps:
          - script: python -m pytest tests
            env:
              REDIS_URL: redis://localhost:6379/0
"""


def test_the_azure_pipelines_variables_as_scripts_see_them_with_services_where_ci_runs_them(tmp_path):
    root = write(tmp_path, {"azure-pipelines.yml": AZURE_PIPELINE, "docker-compose.yml": COMPOSE, "app.py": "",
                            "search/Dockerfile": "FROM opensearchproject/opensearch:2\n"})
    services, _ = compose_services(root)
    found = environment_of_tests(root, services, Mainline())
    env = dict(found.env)
    assert {key: env[key] for key in ("SHOP_CURRENCY", "LOG_LEVEL", "ORDERS_TABLE", "DATABASE_URL", "REDIS_URL")} == {
        "SHOP_CURRENCY": "EUR",  # shop.currency, as Azure hands it to scripts
        "LOG_LEVEL": "info",
        "ORDERS_TABLE": "orders_test",
        "DATABASE_URL": "postgresql://shop:shop@${DB_HOST}:${DB_PORT}/shop",  # the container job's alias of pg
        "REDIS_URL": "redis://${CACHE_HOST}:${CACHE_PORT}/0",  # localhost:6379 on the VM: compose's cache
    }
    left_out = dict(found.left_out)
    assert left_out["API_TOKEN"].startswith("an Azure macro or expression")
    assert left_out["BUILD_FLAVOUR"].startswith("an Azure macro or expression")
    assert left_out["group shop-secrets"].startswith("a variable group in the Azure DevOps library")
    assert "PYTHON_VERSION" not in env and "PYTHON_VERSION" not in left_out  # the CI's own setting
    assert "DOCS_ONLY" not in env  # the docs job runs no tests
    assert found.sources[0] == "azure-pipelines.yml"


def test_a_pipeline_pipegen_wrote_is_not_read_as_the_existing_ci(tmp_path):
    root = write(tmp_path, {"app.py": ""})
    (root / ".gitlab-ci.yml").write_text(header("#", "pipegen.yaml", GITLAB_CI) + GITLAB_CI, encoding="utf-8")
    assert environment_of_tests(root, (), Mainline()) == found_services.TestEnvironment()
    (root / ".gitlab-ci.yml").write_text(GITLAB_CI, encoding="utf-8")
    assert environment_of_tests(root, (), Mainline()).sources == (".gitlab-ci.yml",)
