"""Green on day one where the repository is healthy, for the shapes that used to go red: a Poetry
application that is not a package, a repository whose existing workflows compete with pipegen's
or are kept beside it, a docker-compose app whose tests read their services from the environment,
pytest-xdist in the pytest options, a setup.py in src/ with a training script beside it. Each runs
`pipegen init` (which changes nothing but the descriptor) -> `pipegen generate` -> the TEST stage
under `pipegen run`, on fixture projects written for these tests (tests/fixtures/adoption/)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from executors.submodules import FILE_PROTOCOL, add_rates_submodule
from pipegen.init.detect.install import POETRY_INTO_JOB

from . import services
from .conftest import job_log, run_environment
from .test_adoption import fixture_repository, git, jobs, pipegen, publish, run_test_stage

pytestmark = pytest.mark.slow


def initialised(shape: str, tmp_path, *init_args: str, prepare=None):
    """The fixture committed as it is (after `prepare(root)`), then `pipegen init`: the only change is the
    descriptor."""
    root = fixture_repository(shape, tmp_path)
    if prepare is not None:
        prepare(root)
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "the project as it is")
    init = pipegen(root, "init", *(init_args or ("--target", "gitlab")))
    assert init.returncode == 0, init.stdout + init.stderr
    assert git(root, "status", "--porcelain", "--untracked-files=all") == "?? pipegen.yaml\n"
    return root, init


def generated(root) -> None:
    done = pipegen(root, "generate", "-q")
    assert done.returncode == 0, done.stdout + done.stderr


def green_on_day_one(root, settings: dict[str, str], *selection: str, test_jobs: tuple[str, ...] = ("unit",)):
    """Commits the adoption, pushes it, and runs the TEST stage on a feature branch: every job passes."""
    publish(root)
    green = run_test_stage(root, run_environment(**settings), *selection)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed",
                              **{job: "passed" for job in test_jobs}}, green.explain()
    return green


def count_tests_ran(green, job: str = "unit") -> int:
    """How many tests `job` ran, from the JUnit file its test step wrote in the working copy `pipegen run --keep`
    kept (removed afterwards): the tests ran, not only the job was green."""
    kept = Path(re.search(r"working copies and venvs kept in (\S+)", green.stdout).group(1))
    try:
        reports = [path for path in (kept / job).rglob(f"{job}.junit.xml") if "venv" not in path.parts]
        assert len(reports) == 1, reports
        return len(list(ElementTree.parse(reports[0]).getroot().iter("testcase")))
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def descriptor_of(root) -> dict:
    return yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))


@pytest.mark.pipeline_scenario(minutes=2)
def test_poetry_application_that_is_not_a_package_installs_without_its_root(tmp_path, scenario_settings):
    root, _ = initialised("poetry-app", tmp_path)
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert descriptor_of(root)["project"]["install"][-1] == \
        POETRY_INTO_JOB + " --no-interaction --no-root --with dev"
    assert "--no-root: no `packages` declared and no ticket_desk/ or ticket_desk.py for Poetry to find" in text
    generated(root)
    green_on_day_one(root, scenario_settings)
    assert "2 passed" in job_log(root, "unit")
    assert "No file/folder found for package" not in job_log(root, "unit")


@pytest.mark.pipeline_scenario(minutes=1)
def test_only_the_workflow_testing_the_mainline_competes_the_others_are_kept(tmp_path, scenario_settings):
    root, init = initialised("kept-ci", tmp_path, "--target", "github")
    descriptor = descriptor_of(root)
    assert descriptor["project"]["python"] == "3.11"  # the test workflow's oldest; not release's or nightly's
    kept = {line.split(":")[0].split()[-1] for line in init.stdout.splitlines() if "kept CI" in line}
    assert kept == {f".github/workflows/{name}.yml" for name in
                    ("coverage-badge", "docs", "labels", "nightly", "release")}

    refused = pipegen(root, "generate", "-q")
    assert refused.returncode == 1
    named = [line.strip() for line in refused.stderr.splitlines() if line.startswith("  ")]
    assert named == [".github/workflows/ci.yml: runs tests or linters on push to main and pull requests into main, "
                     "as pipegen's does"]
    assert not (root / ".github" / "workflows" / "pipegen.yml").exists()

    git(root, "rm", "--quiet", ".github/workflows/ci.yml")  # its work now lives in pipegen's pipeline
    generated(root)
    workflow = yaml.safe_load((root / ".github" / "workflows" / "pipegen.yml").read_text(encoding="utf-8"))
    assert "unit" in workflow["jobs"]
    green_on_day_one(root, scenario_settings)
    assert "2 passed" in job_log(root, "unit")


@pytest.fixture
def shop_database():
    """A real PostgreSQL on loopback (Debian's binaries), its superuser `shop`, its database `shop`."""
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL's binaries are not on this machine (Debian's postgresql package)")
    postgres = services.postgres_server("shop", "shop")
    yield next(postgres)
    postgres.close()


@pytest.mark.pipeline_scenario(minutes=2)
def test_compose_app_tests_read_their_database_where_the_ci_runs_it(tmp_path, scenario_settings, shop_database):
    root, _ = initialised("compose-app", tmp_path)
    tests = descriptor_of(root)["tests"]
    assert list(tests["services"]) == ["db"]  # web and tests are built from the repository: no CI services
    assert tests["env"] == {"ORDERS_TABLE": "orders_test", "SHOP_CURRENCY": "EUR",
                            "DATABASE_URL": "postgresql://shop:shop@${DB_HOST}:${DB_PORT}/shop"}
    generated(root)
    # The database listens on a port of its own, not compose's 5432: the tests follow $DB_PORT.
    green_on_day_one(root, scenario_settings, "--stage", "test", "--service", f"db=127.0.0.1:{shop_database}",
                     test_jobs=("unit", "integration"))
    assert "1 passed" in job_log(root, "unit") and "1 passed" in job_log(root, "integration")


@pytest.mark.pipeline_scenario(minutes=2)
def test_xdist_workers_and_subprocesses_are_measured_so_the_gate_sees_the_real_total(tmp_path, scenario_settings):
    root, _ = initialised("xdist-lib", tmp_path)
    descriptor = root / "pipegen.yaml"
    text = descriptor.read_text(encoding="utf-8")
    # The bar the first pipeline's total meets: every line, in the workers and in the subprocess.
    descriptor.write_text(text.replace("coverage: {min: 0,", "coverage: {min: 100,"), encoding="utf-8")
    generated(root)
    green_on_day_one(root, scenario_settings)
    log = job_log(root, "unit")
    assert "created: 2/2 workers" in log and "5 passed" in log  # -n 2 from addopts
    assert re.search(r"total_coverage\s.*100(\.0+)?%?\s.*PASS", log), log[-3000:]


@pytest.mark.pipeline_scenario(minutes=1)
def test_setup_py_in_src_with_a_training_script(tmp_path, scenario_settings):
    root, _ = initialised("src-setup-train", tmp_path)
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    project = descriptor_of(root)["project"]
    assert project["name"] == "harvest-forecast"  # src/setup.py's name, not the folder's
    assert project["python"] == "3.10"
    assert project["install"] == ["python -m pip install -e './src[test]'"]
    assert project["source"] == ["src/harvest"]
    assert "#   train: python src/train.py  # from src/train.py" in text
    generated(root)
    green_on_day_one(root, scenario_settings)
    assert "2 passed" in job_log(root, "unit")


@pytest.mark.pipeline_scenario(minutes=1)
def test_tests_reading_a_git_submodule_are_green_as_every_checkout_fetches_it(tmp_path, scenario_settings):
    root, init = initialised("submodule-data", tmp_path, prepare=add_rates_submodule)
    assert "submodules   tests/data (.gitmodules): every job's checkout fetches them" in init.stdout
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "  # submodules: false  # .gitmodules names tests/data: every job's checkout fetches the git " \
           "submodules; uncomment if the jobs need none of them" in text
    generated(root)
    gitlab = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert gitlab["variables"]["GIT_SUBMODULE_STRATEGY"] == "recursive"
    green_on_day_one(root, scenario_settings)
    assert "2 passed" in job_log(root, "unit")  # both tests read tests/data/rates.csv, the submodule's file


@pytest.mark.pipeline_scenario(minutes=1)
def test_tests_reading_the_variables_gitlab_and_azure_gave_them_find_them(tmp_path, scenario_settings):
    root, init = initialised("ci-variables", tmp_path)
    tests = descriptor_of(root)["tests"]
    # SHOP_CURRENCY from the GitLab test job, ORDERS_TABLE from the Azure pipeline's orders.table
    assert tests["env"] == {"SHOP_CURRENCY": "EUR", "ORDERS_TABLE": "orders_test"}
    text = (root / "pipegen.yaml").read_text(encoding="utf-8")
    assert "from .gitlab-ci.yml, azure-pipelines.yml" in text
    assert "# env SHOP_API_TOKEN left out: a GitLab variable reference" in text
    assert "test env     SHOP_CURRENCY, ORDERS_TABLE (from .gitlab-ci.yml, azure-pipelines.yml)" in init.stdout
    refused = pipegen(root, "generate", "-q")
    assert refused.returncode != 0 and not (root / ".gitlab-ci.yml.bak").exists()  # a GitLab CI pipegen did not write
    forced = pipegen(root, "generate", "-q", "--force")  # its work is in pipegen.yaml now; a backup is kept
    assert forced.returncode == 0, forced.stdout + forced.stderr
    green_on_day_one(root, scenario_settings)
    assert "2 passed" in job_log(root, "unit")


@pytest.mark.pipeline_scenario(minutes=2)
def test_a_pylint_score_measured_without_the_dependencies_is_no_bar_so_day_one_is_green(tmp_path,
                                                                                        scenario_settings):
    root, init = initialised("lint-deps", tmp_path)
    assert "measured without tomli_w, which the lint job installs" in init.stdout
    assert "pylint" not in descriptor_of(root)["quality"]  # today's score is written as a comment only
    generated(root)
    green_on_day_one(root, scenario_settings)
    # Had init written today's score as the bar, the lint job would be red: with tomli-w installed its
    # pylint finds what init's could not (tomli_w has no dump_to), and the score drops below it.
    descriptor = root / "pipegen.yaml"
    text = descriptor.read_text(encoding="utf-8")
    floor = re.search(r"  # pylint: \{min_score: ([\d.]+)\}", text).group(1)
    descriptor.write_text(text.replace("  # pylint: {min_score", "  pylint: {min_score"), encoding="utf-8")
    generated(root)
    git(root, "commit", "--quiet", "-am", "today's score as the bar")
    red = run_test_stage(root, run_environment(**scenario_settings), *jobs("lint"))
    assert red.statuses == {"lint": "failed"}, red.explain()
    below = re.search(rf"pylint_score\s+>=\s+{re.escape(floor)}\s+(\d+(?:\.\d+)?)\s+FAIL", job_log(root, "lint"))
    assert below and float(below.group(1)) < float(floor), job_log(root, "lint")[-3000:]


@pytest.mark.pipeline_scenario(minutes=2)
def test_a_pylint_score_measured_as_the_job_measures_it_is_the_bar_it_meets(tmp_path, scenario_settings):
    root, init = initialised("pylint-stdlib", tmp_path)
    measured = re.search(r"pylint 2 messages, score (\d+\.\d+)", init.stdout)
    assert measured, init.stdout
    assert descriptor_of(root)["quality"]["pylint"] == {"min_score": float(measured.group(1)[:3])}
    generated(root)
    green_on_day_one(root, scenario_settings)
    assert re.search(rf"pylint_score\s.*{re.escape(measured.group(1))}\s.*PASS", job_log(root, "lint"))


@pytest.mark.pipeline_scenario(minutes=1)
def test_an_application_in_a_folder_of_its_own_has_its_tests_found_and_run(tmp_path, scenario_settings):
    """project/app with project/tests importing it as `app`, nothing at the root: init used to find no tests, and
    the pipeline was green without running any."""
    root, init = initialised("subfolder-app", tmp_path)
    assert "tests        unit project/tests (importing project/'s code: run from the root with PYTHONPATH=project)" \
        in init.stdout
    descriptor = descriptor_of(root)
    assert descriptor["tests"] == {"unit": "project/tests", "env": {"PYTHONPATH": "project"}}
    assert descriptor["project"]["requirements"] == {"runtime": "project/requirements.txt"}
    assert descriptor["project"]["source"] == ["project/app"]
    generated(root)
    green = green_on_day_one(root, scenario_settings, "--stage", "test", "--keep")
    assert count_tests_ran(green) == 4


@pytest.mark.pipeline_scenario(minutes=1)
def test_a_submodule_the_clone_did_not_check_out_is_fetched_and_the_tests_reading_it_run(tmp_path,
                                                                                         scenario_settings):
    """A new user's clone, made without --recurse-submodules: .gitmodules and the recorded commit, an empty
    tests/data. pipegen run's working copy fetches the submodule at that commit, as every CI checkout does."""
    upstream = fixture_repository("submodule-data", tmp_path)
    add_rates_submodule(upstream)
    publish(upstream)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "submodule-data-origin.git"), str(clone))
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(clone, "config", key, value)
    assert (clone / ".gitmodules").is_file() and not any((clone / "tests" / "data").iterdir())
    init = pipegen(clone, "init", "--target", "gitlab")
    assert init.returncode == 0, init.stdout + init.stderr
    assert "submodules   tests/data (.gitmodules): every job's checkout fetches them" in init.stdout
    generated(clone)
    git(clone, "add", ".")
    git(clone, "commit", "--quiet", "-m", "adopt pipegen")
    git(clone, "push", "--quiet", "origin", "main")
    git(clone, "checkout", "--quiet", "-b", "feature")
    # file:// submodule URLs need git's leave here (a local bare repository stands in for the data's host).
    green = run_test_stage(clone, run_environment(**scenario_settings, **FILE_PROTOCOL), "--stage", "test", "--keep")
    assert green.returncode == 0 and green.statuses == {"pipegen-check": "passed", "lint": "passed",
                                                        "unit": "passed"}, green.explain()
    assert count_tests_ran(green) == 2  # both read tests/data/rates.csv, the submodule's file
    assert not any((clone / "tests" / "data").iterdir())  # the clone itself is left as it was


@pytest.mark.pipeline_scenario(minutes=1)
def test_a_repository_without_tests_gets_a_unit_job_that_fails_not_a_green_pipeline(tmp_path, scenario_settings):
    root, init = initialised("pylint-stdlib", tmp_path, prepare=lambda root: shutil.rmtree(root / "tests"))
    assert "tests        none found: the unit job fails until tests/ holds tests" in init.stdout
    assert descriptor_of(root)["tests"] == {"unit": "tests"}
    generated(root)
    publish(root)
    red = run_test_stage(root, run_environment(**scenario_settings))
    assert red.returncode == 1, red.explain()
    assert red.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "failed"}, red.explain()
    assert "file or directory not found: tests" in job_log(root, "unit")
