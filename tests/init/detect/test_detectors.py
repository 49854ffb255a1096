"""The detectors on small repository trees written by each test: what init learns from the
files a team already has (packaging metadata, lock files, CI files, docker-compose, MLproject)."""
from __future__ import annotations

from pipegen.init.detect.install import POETRY_INTO_JOB

import textwrap
from pathlib import Path

import pytest

from pipegen.init.detect import Finding
from pipegen.project_files import read_toml
from pipegen.init.detect.install import install_commands, lock_files
from pipegen.project_files import is_package
from pipegen.init.detect.layout import app_folder, source_packages
from pipegen.init.detect.layout import test_levels as levels_of
from pipegen.init.detect.linters import configured_linters
from pipegen.init.detect.mlproject import Training, find_training
from pipegen.init.detect.name import project_name
from pipegen.init.detect.python_version import python_version
from pipegen.init.detect.services import compose_services


def tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def pyproject(root: Path) -> dict:
    return read_toml(root / "pyproject.toml")


@pytest.mark.parametrize("files, name, source", [
    ({"pyproject.toml": "[project]\nname = 'from-pep621'\n"}, "from-pep621", "pyproject.toml [project]"),
    ({"pyproject.toml": "[tool.poetry]\nname = 'from-poetry'\n"}, "from-poetry", "pyproject.toml [tool.poetry]"),
    ({"setup.cfg": "[metadata]\nname = from-cfg\n"}, "from-cfg", "setup.cfg [metadata]"),
    ({"setup.py": "from setuptools import setup\nsetup(name='from-setup-py', version='1')\n"}, "from-setup-py",
     "setup.py setup(name=...)"),
    ({"MLproject": "name: wine quality  # the experiment\nentry_points: {}\n"}, "wine-quality", "MLproject name"),
    ({"setup.py": "import setuptools\nNAME = 'x'\nsetuptools.setup(name=NAME)\n"}, "repo", "the folder name"),
])
def test_name_from_the_metadata_that_declares_it(tmp_path, files, name, source):
    root = tree(tmp_path / "repo", files)
    found = project_name(root, pyproject(root))
    assert (found.value, found.source) == (name, source)


def test_name_and_python_from_a_setup_py_in_a_subfolder(tmp_path):
    root = tree(tmp_path, {"src/setup.py": "from setuptools import setup\nsetup(name='ledger-app', "
                                           "python_requires='>=3.10', packages=['ledger'])\n",
                           "src/ledger/__init__.py": ""})
    name, python = project_name(root, pyproject(root)), python_version(root, pyproject(root))
    assert (name.value, name.source) == ("ledger-app", "src/setup.py setup(name=...)")
    assert (python.value, python.source) == ("3.10", "src/setup.py python_requires >=3.10")
    cfg = tree(tmp_path / "cfg", {"backend/setup.cfg": "[metadata]\nname = api-core\n",
                                  "backend/setup.py": "from setuptools import setup\nsetup()\n"})
    assert project_name(cfg, {}).source == "backend/setup.cfg [metadata]"


@pytest.mark.parametrize("files, version, source_start", [
    ({".python-version": "3.9.18\n", "pyproject.toml": "[project]\nrequires-python = '>=3.8'\n"}, "3.9",
     ".python-version"),
    ({"Dockerfile": "FROM --platform=linux/amd64 docker.io/library/python:3.12-slim AS base\n"}, "3.12",
     "Dockerfile"),
    ({".github/workflows/ci.yml":
      "on: [push]\njobs:\n  t:\n    strategy:\n      matrix:\n        python-version: ['3.11', '3.10']\n"
      "    steps:\n      - run: pytest\n"},
     "3.10", ".github/workflows/ci.yml"),
    ({".gitlab-ci.yml": "image: python:3.8\n"}, "3.8", ".gitlab-ci.yml"),
    ({".github/workflows/t.yaml": "on: pull_request\nsteps:\n  - with:\n      python-version:\n        - '3.12'\n"
                                  "        - '3.9'\n  - run: tox\n"},
     "3.9", ".github/workflows/t.yaml"),
    ({".github/workflows/a-release.yml":
      "on: {release: {}}\nsteps:\n  - with: {python-version: '3.13'}\n  - run: pytest\n",
      ".github/workflows/b-docs.yml": "on: push\nsteps:\n  - with: {python-version: '3.12'}\n  - run: mkdocs build\n",
      ".github/workflows/c-nightly.yml":
      "on: {workflow_run: {workflows: [t]}}\nsteps:\n  - with: {python-version: '3.8'}\n  - run: pytest\n",
      ".github/workflows/t.yml": "on: [push]\njobs:\n  t:\n    strategy:\n      matrix:\n        python-version:"
                                 " ['3.12', '3.10']\n    steps:\n      - run: pytest\n"},
     "3.10", ".github/workflows/t.yml (tests 3.10, 3.12)"),
    ({".github/workflows/a-lint.yml": "on: push\nsteps:\n  - with: {python-version: '3.13'}\n  - run: pre-commit run\n",
      ".github/workflows/z-test.yml":
      "on: push\nsteps:\n  - with:\n      python-version: ['3.11', '3.9']\n  - run: pytest\n"},
     "3.9", ".github/workflows/z-test.yml (tests 3.9, 3.11)"),
    ({".github/workflows/ci.yml":
      "on: push\njobs:\n  lint:\n    steps:\n      - with: {python-version: '3.13'}\n      - run: ruff check\n"
      "  test:\n    strategy:\n      matrix:\n        python: ['3.10', '3.11']\n    steps:\n"
      "      - with:\n          python-version: ${{ matrix.python }}\n      - run: pytest\n"},
     "3.10", ".github/workflows/ci.yml (tests 3.10, 3.11, 3.13)"),
    ({"azure-pipelines.yml": "- task: UsePythonVersion@0\n  inputs: {versionSpec: '3.10'}\n"}, "3.10",
     "azure-pipelines.yml"),
    ({"pyproject.toml": "[project]\nrequires-python = '>=3.10,<4'\n"}, "3.10", "requires-python"),
    ({"pyproject.toml": "[tool.poetry.dependencies]\npython = '^3.11'\n"}, "3.11", "[tool.poetry.dependencies]"),
    ({"setup.py": "from setuptools import setup\nsetup(python_requires='>=3.9')\n"}, "3.9", "setup.py"),
    ({"tox.ini": "[tox]\nenvlist = py312, py39, lint\n"}, "3.9", "tox.ini"),
    ({"pyproject.toml": "[project]\nrequires-python = '>=3.8,!=3.9.*'\n"}, "3.8", "requires-python"),
    ({}, "3.11", "default"),
])
def test_python_from_the_most_explicit_evidence(tmp_path, files, version, source_start):
    root = tree(tmp_path, files)
    found = python_version(root, pyproject(root))
    assert found.value == version and found.source.startswith(source_start), found


@pytest.mark.parametrize("files, packages", [
    ({"src/lib/__init__.py": "", "src/lib/sub/__init__.py": "", "tests/__init__.py": ""}, ("src/lib",)),
    ({"setup.py": "from setuptools import setup, find_packages\nsetup(packages=find_packages(where='src'),"
                  " package_dir={'': 'src'})\n", "src/svc/__init__.py": "", "svc_old/__init__.py": ""},
     ("src/svc",)),
    ({"pyproject.toml": "[tool.poetry]\nname='a'\npackages = [{include = 'api'}]\n", "api/__init__.py": "",
      "scripts/__init__.py": ""}, ("api",)),
    ({"pyproject.toml": "[tool.setuptools.packages.find]\nwhere = ['lib']\n", "lib/one/__init__.py": ""},
     ("lib/one",)),
    ({"app/__init__.py": "", "docs/__init__.py": "", "tests/__init__.py": ""}, ("app",)),
    ({"notes.txt": ""}, ()),
])
def test_source_packages_from_packaging_or_folders(tmp_path, files, packages):
    root = tree(tmp_path, files)
    assert source_packages(root, pyproject(root))[0] == packages


def test_test_levels_map_e2e_acceptance_and_system_to_functional(tmp_path):
    root = tree(tmp_path, {"tests/unit/t.py": "", "tests/integration/t.py": "", "tests/e2e/t.py": "",
                           "tests/acceptance/t.py": ""})
    levels, extra = levels_of(root)
    assert levels == {"unit": "tests/unit", "integration": "tests/integration", "functional": "tests/e2e"}
    assert extra == ("tests/acceptance",)  # a second functional folder: reported, not dropped silently


def test_a_bare_tests_folder_is_the_unit_level(tmp_path):
    assert levels_of(tree(tmp_path, {"test/test_x.py": ""})) == ({"unit": "test"}, ())
    assert levels_of(tmp_path / "nothing") == ({}, ())


def test_install_uv_lock_syncs_into_the_jobs_python(tmp_path):
    root = tree(tmp_path, {"pyproject.toml": "[project]\nname='a'\n[dependency-groups]\ndev=['pytest']\ndocs=['x']\n",
                           "uv.lock": ""})
    found = install_commands(root, pyproject(root))
    assert found.value.splitlines()[-1].endswith("uv sync --locked --inexact --group dev")
    assert lock_files(root) == ("uv.lock",)


def test_install_poetry_with_its_test_groups(tmp_path):
    root = tree(tmp_path, {"pyproject.toml": "[tool.poetry]\nname='a'\n[tool.poetry.group.test.dependencies]\n"
                                             "pytest='*'\n[tool.poetry.group.docs.dependencies]\nmkdocs='*'\n",
                           "poetry.lock": "", "a/__init__.py": ""})
    assert install_commands(root, pyproject(root)).value.splitlines()[-1] == \
        POETRY_INTO_JOB + " --no-interaction --with test"


@pytest.mark.parametrize("files, why", [
    ({"pyproject.toml": "[tool.poetry]\nname = 'shop'\npackage-mode = false\n", "shop/__init__.py": ""},
     "package-mode = false"),
    ({"pyproject.toml": "[tool.poetry]\nname = 'orders-service'\n", "app/__init__.py": ""},
     "no `packages` declared and no orders_service/ or orders_service.py for Poetry to find"),
    ({"pyproject.toml": "[project]\nname = 'Orders.Service'\n[tool.poetry]\n", "poetry.lock": ""},
     "no `packages` declared and no orders_service/ or orders_service.py for Poetry to find"),
])
def test_install_poetry_application_that_is_not_a_package_installs_without_the_root(tmp_path, files, why):
    root = tree(tmp_path, files)
    found = install_commands(root, pyproject(root))
    assert found.value.splitlines()[-1] == POETRY_INTO_JOB + " --no-interaction --no-root"
    assert why in found.source


@pytest.mark.parametrize("files", [
    {"pyproject.toml": "[tool.poetry]\nname = 'orders-service'\n", "src/orders_service/__init__.py": ""},
    {"pyproject.toml": "[tool.poetry]\nname = 'orders-service'\n", "orders_service.py": ""},
    {"pyproject.toml": "[tool.poetry]\nname = 'x'\npackages = [{include = 'app'}]\n", "app/__init__.py": ""},
])
def test_install_poetry_package_poetry_can_find_installs_the_root(tmp_path, files):
    root = tree(tmp_path, files)
    assert "--no-root" not in install_commands(root, pyproject(root)).value


def test_install_pep735_groups_with_pip(tmp_path):
    root = tree(tmp_path, {"pyproject.toml": "[project]\nname='a'\n[dependency-groups]\ntest=['pytest']\n"})
    lines = install_commands(root, pyproject(root)).value.splitlines()
    assert lines == ["python -m pip install --upgrade 'pip>=25.1'", "python -m pip install -e . --group test"]


def test_install_extras_and_a_package_in_a_subfolder(tmp_path):
    extras = tree(tmp_path / "extras", {"pyproject.toml": "[project]\nname='a'\n[project.optional-dependencies]\n"
                                                          "test=['pytest']\nplot=['matplotlib']\n"})
    assert install_commands(extras, pyproject(extras)).value == "python -m pip install -e '.[test]'"
    sub = tree(tmp_path / "sub", {"service/setup.py": "from setuptools import setup\nsetup()\n",
                                  "pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    assert not is_package(sub)  # only ruff's settings: configuration, not a package
    assert install_commands(sub, pyproject(sub)).value == "python -m pip install -e ./service"
    assert install_commands(tmp_path / "sub" / "service", {}).value == "python -m pip install -e ."
    assert install_commands(tree(tmp_path / "none", {"requirements.txt": "x\n"}), {}) is None


@pytest.mark.parametrize("files, tools", [
    ({"pyproject.toml": "[tool.ruff]\nline-length = 88\n"}, ("ruff",)),
    ({".pre-commit-config.yaml": "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n",
      ".pylintrc": ""}, ("ruff", "pylint")),
    ({"setup.cfg": "[flake8]\nformat = wemake\nmax-line-length = 80\n"}, ("flake8",)),
    ({}, ("pylint", "flake8")),
])
def test_linters_the_repository_configures(tmp_path, files, tools):
    root = tree(tmp_path, files)
    assert configured_linters(root, pyproject(root))[0] == tools


def test_services_from_docker_compose_published_images_only(tmp_path):
    root = tree(tmp_path, {"docker-compose.yml": """\
        services:
          app: {build: ., ports: ["8000:8000"]}
          db:
            image: postgres:16
            ports: ["127.0.0.1:15432:5432/tcp"]
            environment: {POSTGRES_PASSWORD: test, POSTGRES_DB: app, SECRET: "${FROM_DOTENV}"}
          cache:
            image: redis:7-alpine
            expose: ["6379"]
            environment: ["REDIS_ARGS=--save ''"]
        """})
    services, name = compose_services(root)
    assert name == "docker-compose.yml"
    assert [(s.name, s.image, s.ports) for s in services] == [("db", "postgres:16", (5432,)),
                                                              ("cache", "redis:7-alpine", (6379,))]
    assert dict(services[0].env) == {"POSTGRES_DB": "app", "POSTGRES_PASSWORD": "test"}  # ${...} left out
    assert compose_services(tree(tmp_path / "bad", {"compose.yaml": "services: [\n"})) == ((), "compose.yaml")


@pytest.mark.parametrize("mlproject, command", [
    ("entry_points:\n  main: {command: python train.py}\n", "mlflow run . --env-manager local"),
    ("entry_points:\n  prepare: {command: x}\n  train: {command: python train.py}\n",
     "mlflow run . -e train --env-manager local"),
    ("entry_points:\n  fit: {command: python fit.py}\n", "mlflow run . -e ENTRY_POINT --env-manager local"),
])
def test_training_from_mlproject_entry_points(tmp_path, mlproject, command):
    root = tree(tmp_path, {"MLproject": mlproject})
    assert find_training(root).command == command


def test_training_scripts_without_mlproject(tmp_path):
    assert find_training(tree(tmp_path / "a", {"train.py": ""})).command == "python train.py"
    assert find_training(tree(tmp_path / "b", {"src/churn/train.py": ""})).command == \
        "PYTHONPATH=src python -m churn.train"
    assert find_training(tmp_path / "b" / "src") is None
    assert find_training(tree(tmp_path / "c", {"src/train.py": ""})) == Training("python src/train.py", "src/train.py")
    assert find_training(tree(tmp_path / "d", {"forecast/__init__.py": "", "forecast/train.py": ""})) == \
        Training("python -m forecast.train", "forecast/train.py")


def test_a_package_in_a_subfolder_gives_the_code_the_tests_and_the_install(tmp_path):
    """A monorepo's backend/ (the root holds only a frontend and tool settings): init finds the
    code, the tests and the install there, not at the root."""
    root = tree(tmp_path, {"pyproject.toml": "[tool.ruff]\nline-length = 100\n",
                           "frontend/package.json": "{}\n",
                           "backend/pyproject.toml": "[project]\nname = 'app'\n[project.optional-dependencies]\n"
                                                     "test = ['pytest']\n",
                           "backend/app/__init__.py": "", "backend/app/main.py": "",
                           "backend/tests/unit/test_main.py": "", "backend/tests/e2e/test_api.py": ""})
    assert source_packages(root, pyproject(root)) == (("backend/app",), "packages at the repository root in backend/")
    assert levels_of(root) == ({"unit": "backend/tests/unit", "functional": "backend/tests/e2e"}, ())
    assert install_commands(root, pyproject(root)).value == "python -m pip install -e './backend[test]'"


def test_an_application_folder_holding_the_tests_gives_the_code_and_the_tests(tmp_path):
    """project/app with project/tests, as its Dockerfile in project/ runs it: no package anywhere, no tests at the
    root. The code is the folder's packages (or the folder, when its code is modules)."""
    root = tree(tmp_path / "app", {"README.md": "", "docs/tests/test_nothing.py": "",
                                   "project/app/__init__.py": "", "project/app/main.py": "",
                                   "project/tests/conftest.py": "", "project/tests/test_main.py": ""})
    assert app_folder(root) == "project"
    assert source_packages(root, {}) == (("project/app",), "packages in project/, the application folder holding "
                                                           "the tests")
    assert levels_of(root) == ({"unit": "project/tests"}, ())
    assert python_version(root, {}).value == "3.11"  # nothing names one: the default
    tree(root, {"project/Dockerfile": "FROM python:3.12.1-slim-bookworm\nWORKDIR /usr/src/app\n"})
    assert python_version(root, {}) == Finding("3.12", "project/Dockerfile FROM python image")
    modules = tree(tmp_path / "modules", {"service/main.py": "", "service/test/api_test.py": ""})
    assert source_packages(modules, {})[0] == ("service",) and levels_of(modules) == ({"unit": "service/test"}, ())


@pytest.mark.parametrize("files", [
    {"tests/test_x.py": "", "project/tests/test_y.py": ""},  # the root's tests are the tests
    {"one/tests/test_x.py": "", "two/tests/test_y.py": ""},  # two candidates: no guess
    {"project/tests/helpers.py": ""},  # a tests folder without test files
    {"project/app/__init__.py": "", "scripts/tests/test_x.py": ""},  # scripts/ holds no shipped code
    {"backend/pyproject.toml": "[project]\nname = 'b'\n", "backend/tests/test_x.py": ""},  # a package: installed
])
def test_no_application_folder_is_guessed(tmp_path, files):
    assert app_folder(tree(tmp_path, files)) is None


def test_a_uv_workspace_syncs_all_its_members(tmp_path):
    root = tree(tmp_path, {"pyproject.toml": "[tool.uv.workspace]\nmembers = ['backend']\n"
                                             "[dependency-groups]\ndev = ['ruff']\n",
                           "uv.lock": "", "backend/pyproject.toml": "[project]\nname = 'app'\n",
                           "backend/app/__init__.py": "", "backend/tests/test_x.py": ""})
    assert install_commands(root, pyproject(root)).value.splitlines()[-1].endswith(
        "uv sync --locked --inexact --all-packages --group dev")
    assert source_packages(root, pyproject(root))[0] == ("backend/app",)
    assert levels_of(root) == ({"unit": "backend/tests"}, ())


def test_the_mlprojects_environment_is_what_a_project_without_requirements_installs(tmp_path):
    # pylint: disable-next=import-outside-toplevel
    from pipegen.init.detect.mlproject import mlproject_install, mlproject_python
    conda = tree(tmp_path / "conda", {
        "MLproject": "name: t\nconda_env: conda.yaml\nentry_points:\n  main: {command: python train.py}\n",
        "conda.yaml": "dependencies:\n  - python=3.10\n  - numpy>=1.14\n  - pandas=2.1\n  - pip\n"
                      "  - pip:\n    - mlflow\n"})
    assert mlproject_install(conda).value == "python -m pip install 'numpy>=1.14' pandas==2.1 mlflow"
    assert mlproject_python(conda).value == "3.10"
    assert python_version(conda, {}).value == "3.10"
    python_env = tree(tmp_path / "pyenv", {
        "MLproject": "name: t\npython_env: python_env.yaml\n",
        "python_env.yaml": "python: '3.12.1'\ndependencies:\n  - -r requirements.txt\n  - scikit-learn\n"})
    assert mlproject_install(python_env).value == "python -m pip install -r requirements.txt scikit-learn"
    assert mlproject_python(python_env).value == "3.12"
    odd = tree(tmp_path / "odd", {"MLproject": "conda_env: conda.yaml\n",
                                  "conda.yaml": "dependencies:\n  - pip:\n    - 'git+https://x/y.git'\n"})
    assert mlproject_install(odd) is None  # what pip may read otherwise is left to the user
    assert mlproject_install(tree(tmp_path / "none", {"MLproject": "name: t\n"})) is None
