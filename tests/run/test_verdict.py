"""A failed job says plainly what failed: the project's own tests, as written (read from the JUnit
file real pytest wrote), or the install; otherwise only the step and its exit code."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipegen.plan.model import Job
from pipegen.run.verdict import failed_step

JOB = Job(id="unit", title="Unit tests", stage="test", comment="", steps=(), junit=("reports/unit.junit.xml",))


def pytest_with_junit(root: Path, tests: str) -> None:
    (root / "tests").mkdir()
    (root / "tests" / "test_sample.py").write_text(tests, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                    "--junitxml=reports/unit.junit.xml"], cwd=root, capture_output=True, check=False)


def test_failing_tests_are_named_as_the_repositorys_own(tmp_path):
    pytest_with_junit(tmp_path, "def test_ok():\n    pass\n\ndef test_timing():\n    assert 20 < 1.1\n")
    message = failed_step(JOB, "step", "Unit tests under coverage", 1, tmp_path, "3.11")
    assert message == ("step 'Unit tests under coverage' exited with 1: the project's own tests fail as written "
                       "here (1 of 2 failed: tests/test_sample.py::test_timing; Python 3.11). That is the "
                       "repository's state on this machine, not pipegen's set-up: run the same tests without "
                       "pipegen to confirm")


def test_a_collection_error_counts_as_a_failure(tmp_path):
    pytest_with_junit(tmp_path, "import not_installed_anywhere\n")
    assert "the project's own tests fail as written here" in failed_step(JOB, "step", "Unit", 2, tmp_path, "3.11")


def test_an_install_failure_and_a_step_without_test_results(tmp_path):
    assert failed_step(JOB, "install", "Install", 1, tmp_path, "3.10").startswith(
        "step 'Install' exited with 1: installing the project failed")
    assert failed_step(JOB, "step", "Coverage gate", 1, tmp_path, "3.11") == "step 'Coverage gate' exited with 1"


def test_a_gate_failing_after_passing_tests_is_not_read_as_failing_tests(tmp_path):
    pytest_with_junit(tmp_path, "def test_timing():\n    assert 20 < 1.1\n")  # a gate's JUnit file, as it may be
    assert failed_step(JOB, "step", "Lint gate", 1, tmp_path, "3.11", runs_tests=False) == \
        "step 'Lint gate' exited with 1"


def failing_for_an_empty_submodule(root: Path) -> None:
    """A test reading tests/data, a submodule .gitmodules names whose folder is empty: it failed, in JUnit."""
    (root / ".gitmodules").write_text('[submodule "tests/data"]\n\tpath = tests/data\n'
                                      '\turl = https://example.invalid/d\n', encoding="utf-8")
    pytest_with_junit(root, "from pathlib import Path\n\ndef test_data():\n"
                            "    assert list((Path(__file__).parent / 'data').iterdir())\n")
    (root / "tests" / "data").mkdir()


def test_tests_failing_for_a_submodule_that_is_not_checked_out_say_so(tmp_path):
    failing_for_an_empty_submodule(tmp_path)
    message = failed_step(JOB, "step", "Unit", 1, tmp_path, "3.11")
    assert "1 of 1 tests failed, and the repository's git submodules are not checked out (tests/data)" in message
    assert "repository's state" not in message


def test_tests_failing_for_a_submodule_the_descriptor_switched_off_say_where(tmp_path):
    failing_for_an_empty_submodule(tmp_path)
    with_fetch = failed_step(JOB, "step", "Unit", 1, tmp_path, "3.11")
    assert with_fetch.endswith("the tests need them; check them out (`git submodule update --init --recursive`) "
                               "and run again")
    switched_off = failed_step(JOB, "step", "Unit", 1, tmp_path, "3.11", submodules=False)
    assert switched_off.endswith("the tests need them; project.submodules is false in the descriptor, so no "
                                 "checkout of the pipeline fetches them: remove that line (or set it to true) and "
                                 "run `pipegen generate`")
