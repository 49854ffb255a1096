"""Adoption, end to end: a fixture project shaped like a real repository (tests/fixtures/adoption/),
`pipegen init` -> `pipegen generate` -> the TEST stage executed by `pipegen run` on the project as
it is (green on day one); then a change that adds an untested function, or a lint issue on a line
it touches, turns it red, and a change that does neither stays green."""
from __future__ import annotations

from pipegen.init.detect.install import POETRY_INTO_JOB

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from . import services
from .conftest import job_log, pipegen_run, run_environment

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adoption"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout


def pipegen(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipegen", *args], cwd=root, capture_output=True, text=True,
                          check=False)


def fixture_repository(shape: str, tmp_path: Path) -> Path:
    """The fixture in a git repository with an `origin` remote (a bare repository), not committed."""
    root, origin = tmp_path / shape, tmp_path / f"{shape}-origin.git"
    shutil.copytree(FIXTURES / shape, root)
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "remote", "add", "origin", str(origin))
    return root


def publish(root: Path) -> Path:
    """Commits everything on main, pushes it to origin and starts a feature branch."""
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "adopt pipegen")
    git(root, "push", "--quiet", "origin", "main")
    git(root, "remote", "set-head", "origin", "main")
    git(root, "checkout", "--quiet", "-b", "feature")
    return root


def adopted(shape: str, tmp_path: Path) -> Path:
    """The fixture in a git repository whose origin holds main, after init and generate."""
    root = fixture_repository(shape, tmp_path)
    init = pipegen(root, "init", "--target", "gitlab")
    assert init.returncode == 0, init.stdout + init.stderr
    generate = pipegen(root, "generate", "-q")
    assert generate.returncode == 0, generate.stdout + generate.stderr
    return publish(root)


def change(root: Path, relative: str, text: str) -> None:
    with open(root / relative, "a", encoding="utf-8") as handle:
        handle.write(text)
    git(root, "commit", "--quiet", "-am", f"change {relative}")


def run_test_stage(root: Path, env: dict[str, str], *selection: str):
    """The TEST stage on the feature branch, or only the jobs `selection` names (--job ...)."""
    return pipegen_run(root, *(selection or ("--stage", "test")), "--branch", "feature", env=env)


def jobs(*ids: str) -> tuple[str, ...]:
    return tuple(part for job_id in ids for part in ("--job", job_id))


@dataclass(frozen=True)
class Ratchet:
    """The three changes every fixture gets after its green day one: a tested function (stays
    green), an untested one (changed-lines coverage fails), a lint issue on an added line."""
    module: str
    tested: str
    test_file: str
    tested_test: str
    untested: str
    lint_issue: str
    lint_codes: tuple[str, ...]
    lint_module: str = ""


def assert_ratchet(root: Path, env: dict[str, str], ratchet: Ratchet, test_jobs: tuple[str, ...] = ("unit",),
                   where: tuple[str, ...] = ()) -> None:
    """Green on a tested change, red on an untested one (the last test level's combined coverage),
    red on a new lint issue; `where` points the test jobs at their services."""
    change(root, ratchet.module, ratchet.tested)
    change(root, ratchet.test_file, ratchet.tested_test)
    still_green = run_test_stage(root, env, *jobs("lint", *test_jobs), *where)  # pipegen-check ran on day one
    assert still_green.returncode == 0, still_green.explain()

    change(root, ratchet.module, ratchet.untested)
    untested = run_test_stage(root, env, *jobs(*test_jobs), *where)
    last = test_jobs[-1]
    assert untested.statuses == {**{job: "passed" for job in test_jobs[:-1]}, last: "failed"}, untested.explain()
    assert re.search(r"changed_lines_coverage .* FAIL", job_log(root, last))
    assert f"not covered: {ratchet.module}" in job_log(root, last)

    git(root, "reset", "--quiet", "--hard", "HEAD~1")
    change(root, ratchet.lint_module or ratchet.module, ratchet.lint_issue)
    unlinted = run_test_stage(root, env, *jobs("lint"))
    assert unlinted.statuses == {"lint": "failed"}, unlinted.explain()
    assert any(code in job_log(root, "lint") for code in ratchet.lint_codes), job_log(root, "lint")


TESTED = '''

def initials(text: str) -> str:
    """The first letter of each word."""
    return "".join(word[0] for word in words(text))
'''
TESTED_TEST = '''

def test_initials():
    from textkit.core import initials

    assert initials("Hello World") == "hw"
'''
UNTESTED = '''

def shout(text: str) -> str:
    """Upper-cased, with emphasis."""
    if not text:
        return ""
    loud = text.upper()
    return loud + "!"
'''
LINT_ISSUE = '''

def quiet(text: str) -> str:
    """Lower-cased."""
    import os
    return text.lower()
'''


@pytest.mark.pipeline_scenario(minutes=1)
def test_pep735_library_is_green_as_it_is_and_red_on_an_untested_or_unlinted_change(
        tmp_path, scenario_settings):
    root = adopted("pep735-lib", tmp_path)
    descriptor = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "--group test" in descriptor and "lint: [ruff]" in descriptor  # what init read from the repository
    env = run_environment(**scenario_settings)

    green = run_test_stage(root, env)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed"}, green.explain()
    assert "2 passed" in job_log(root, "unit")

    assert_ratchet(root, env, Ratchet("src/textkit/core.py", TESTED, "tests/test_core.py", TESTED_TEST, UNTESTED,
                                      LINT_ISSUE, ("F401",)))


# --- a src/setup.py service: three test levels, Postgres and Redis from docker-compose ----------

STOCK_TESTED = '''

def count_low(levels: dict, floor: int) -> int:
    """How many items are below `floor`."""
    return sum(1 for on_hand in levels.values() if on_hand < floor)
'''
STOCK_TESTED_TEST = '''

def test_count_low():
    from inventory.stock import count_low

    assert count_low({"a": 1, "b": 5}, 2) == 1
'''
STOCK_UNTESTED = '''

def transfer(source: int, target: int, count: int) -> tuple:
    """Moves `count` items between two stock levels."""
    if count > source:
        raise OutOfStock(f"{count} wanted, {source} on hand")
    moved = source - count
    return moved, target + count
'''
STOCK_LINT_ISSUE = '''

def total(levels: dict) -> int:
    return sum(levels.values())  ;  # a stray semicolon: E703 on a line this change adds
'''


@pytest.fixture
def service_backends():
    """A real PostgreSQL on loopback (Debian's binaries) and the Redis stand-in (no redis-server here)."""
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL's binaries are not on this machine (Debian's postgresql package)")
    postgres = services.postgres_server("inventory", "inventory")
    port = next(postgres)
    with services.RedisStandin() as redis:
        yield port, redis
    postgres.close()


@pytest.mark.pipeline_scenario(minutes=2)
def test_setup_py_service_with_three_levels_and_compose_services(
        tmp_path, scenario_settings, service_backends):
    postgres_port, redis = service_backends
    root = adopted("setup-service", tmp_path)
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    # What init read: setup.py's name and extras, the Dockerfile's Python, tests/e2e, compose's services.
    assert descriptor["project"]["name"] == "inventory-service"
    assert descriptor["project"]["python"] == "3.11"
    assert descriptor["project"]["install"] == ["python -m pip install -e '.[test]'"]
    assert descriptor["tests"]["functional"] == "tests/e2e"
    assert sorted(descriptor["tests"]["services"]) == ["postgres", "redis"]
    assert descriptor["quality"]["lint"] == {"tools": ["flake8"], "ratchet": ["changed-lines"]}  # 2 issues today
    env = run_environment(**scenario_settings)
    where = ("--service", f"postgres=127.0.0.1:{postgres_port}", "--service", f"redis=127.0.0.1:{redis.port}")

    green = run_test_stage(root, env, "--stage", "test", *where)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed",
                              "integration": "passed", "functional": "passed"}, green.explain()
    assert "2 passed" in job_log(root, "integration") and "1 passed" in job_log(root, "functional")
    assert {"SET", "GET"} <= set(redis.seen)  # the integration tests reached the Redis address given

    assert_ratchet(root, env, Ratchet("src/inventory/stock.py", STOCK_TESTED, "tests/unit/test_stock.py",
                                      STOCK_TESTED_TEST, STOCK_UNTESTED, STOCK_LINT_ISSUE, ("E703",)),
                   test_jobs=("unit", "integration", "functional"), where=where)  # coverage over all three levels


# --- a Poetry FastAPI app: code in api/, flake8 with wemake's format, show-source and statistics ---

ORDERS_TESTED = '''

def average_line(lines: list) -> int:
    """The mean line total, in whole cents."""
    return order_total(lines) // max(len(lines), 1)
'''
ORDERS_TESTED_TEST = '''

def test_average_line():
    from api.orders import average_line

    assert average_line([(100, 1), (300, 1)]) == 200
'''
ORDERS_UNTESTED = '''

def with_tax(cents: int, rate_percent: int) -> int:
    """The total with tax added, rounded down to the cent."""
    if rate_percent < 0:
        raise ValueError("a tax rate is not negative")
    taxed = cents + cents * rate_percent // 100
    return taxed
'''
MAIN_LINT_ISSUE = '''

@app.get("/version")
def version() -> dict:
    import os
    return {"version": "0.2.0"}
'''


@pytest.mark.pipeline_scenario(minutes=1)
def test_poetry_fastapi_app_with_code_in_api_and_a_wemake_flake8_format(
        tmp_path, scenario_settings):
    root = adopted("poetry-api", tmp_path)
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert descriptor["project"]["source"] == ["api"]  # from [tool.poetry] packages, not a guessed src
    assert descriptor["project"]["install"][-1] == \
        POETRY_INTO_JOB + " --no-interaction --with dev"
    assert descriptor["quality"]["lint"] == {"tools": ["flake8"], "ratchet": ["changed-lines"]}  # 1 issue today
    env = run_environment(**scenario_settings)

    green = run_test_stage(root, env)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed"}, green.explain()
    assert "6 passed" in job_log(root, "unit")
    assert "wemake" not in (root / ".pipegen" / "run" / "logs" / "lint.log").read_text(encoding="utf-8").split(
        "--- Lint gate")[-1]  # the gate read flake8's issues whatever setup.cfg's format says

    assert_ratchet(root, env, Ratchet("api/orders.py", ORDERS_TESTED, "tests/test_orders.py", ORDERS_TESTED_TEST,
                                      ORDERS_UNTESTED, MAIN_LINT_ISSUE, ("F401",), lint_module="api/main.py"))


# --- an ML project: an MLproject whose entry points are train and evaluate (no main) ------------

MODEL_TESTED = '''

def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(actual - predicted)))
'''
MODEL_TESTED_TEST = '''

def test_mae():
    from winequality.model import mae

    assert mae(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 1.0
'''
MODEL_UNTESTED = '''

def r_squared(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the target's variance the model explains."""
    residual = np.sum((actual - predicted) ** 2)
    total = np.sum((actual - actual.mean()) ** 2)
    return float(1 - residual / total)
'''
MODEL_LINT_ISSUE = '''

def clip(values: np.ndarray) -> np.ndarray:
    """Predictions kept on the 0-10 scale."""
    unused = 3
    return np.clip(values, 0, 10)
'''


@pytest.mark.pipeline_scenario(minutes=1)
def test_ml_project_with_an_mlproject_without_main(tmp_path, scenario_settings):
    root = adopted("mlproject", tmp_path)
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    descriptor = yaml.safe_load(text)
    assert descriptor["project"]["name"] == "wine-quality"  # from the MLproject, not the folder
    assert descriptor["project"]["python"] == "3.11"  # .python-version
    assert descriptor["project"]["source"] == ["winequality"]
    assert "#   train: mlflow run . -e train --env-manager local" in text  # the entry point that exists
    env = run_environment(**scenario_settings)

    green = run_test_stage(root, env)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed"}, green.explain()
    assert "2 passed" in job_log(root, "unit")

    assert_ratchet(root, env, Ratchet("winequality/model.py", MODEL_TESTED, "tests/test_model.py", MODEL_TESTED_TEST,
                                      MODEL_UNTESTED, MODEL_LINT_ISSUE, ("W0612", "F841")))


# --- a library whose ruff settings fix on every run (fix = true, unsafe-fixes) ---------------------

FEET_WITH_A_FIXABLE_ISSUE = '''

def feet(metres: float) -> float:
    """`metres` in feet."""
    import os
    return convert(metres, "m", "ft")
'''


@pytest.mark.pipeline_scenario(minutes=1)
def test_ruff_fix_true_counts_a_fixable_issue_on_a_changed_line(tmp_path, scenario_settings):
    """`fix = true` would have ruff remove an unused import before counting: the lint job's ruff never
    fixes, so the import a change adds fails the changed-lines ratchet."""
    root = adopted("ruff-fix", tmp_path)
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert descriptor["quality"]["lint"] == {"tools": ["ruff"], "ratchet": ["changed-lines"]}  # 2 fixable today
    env = run_environment(**scenario_settings)

    green = run_test_stage(root, env)
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed"}, green.explain()

    change(root, "src/unitconv/length.py", FEET_WITH_A_FIXABLE_ISSUE)
    unlinted = run_test_stage(root, env, *jobs("lint"))
    assert unlinted.statuses == {"lint": "failed"}, unlinted.explain()
    log = job_log(root, "lint")
    assert re.search(r"ruff_issues_on_changed_lines .* FAIL", log), log
    assert re.search(r"changed line: src/unitconv/length.py:29: F401 .os. imported but unused", log), log
