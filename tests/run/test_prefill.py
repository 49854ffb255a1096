"""`pipegen run --uv`: new venvs pre-filled by uv, the job's own install still run as written.
Real uv and pip, offline where it matters: the pysonar stand-in wheel from a find-links folder."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.plan import build_plan
from pipegen.run.prefill import find_uv, project_args, uv_environment

from .conftest import PYSONAR_STANDIN_VERSION, build_pysonar_standin_wheel, job_log, pipegen_run, run_environment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _job(example: str, job_id: str):
    plan = build_plan(load_descriptor(EXAMPLES / example / "pipegen.yaml"))
    return next(job for job in plan.jobs if job.id == job_id)


def test_project_args_are_what_the_jobs_pip_installs():
    assert project_args(_job("churn", "unit")) == ["-r", "requirements.txt", "-r", "requirements-test.txt",
                                                   "pytest>=7", "coverage[toml]>=7.10,<8", "-e", "."]
    assert project_args(_job("churn", "lint")) == ["-r", "requirements.txt", "-r", "requirements-dev.txt",
                                                   "pylint>=3.2,<5", "flake8>=7,<8", "-e", "."]
    assert project_args(_job("churn", "train")) == ["-r", "requirements.txt", "-e", "."]
    assert project_args(_job("churn", "model-gate")) == []  # pipegen only: its own venv


def test_project_installs_uv_cannot_read_are_left_to_the_job():
    from dataclasses import replace  # pylint: disable=import-outside-toplevel

    job = replace(_job("churn", "unit"), project_install=("poetry install --with dev",
                                                          'python -m pip install -e "$EXTRA"',
                                                          "python -m pip install -e '.[ml]'"))
    assert project_args(job) == ["-r", "requirements.txt", "-r", "requirements-test.txt", "pytest>=7",
                                 "coverage[toml]>=7.10,<8", "-e", ".[ml]"]


def test_pip_settings_reach_uv_under_uvs_names():
    env, links = uv_environment({"PIP_INDEX_URL": "https://pypi.example.test/simple", "PIP_NO_INDEX": "false",
                                 "PIP_FIND_LINKS": "/wheels /more-wheels", "PIP_CERT": "/ca.pem",
                                 "SSL_CERT_FILE": "/mine.pem"})
    assert env["UV_INDEX_URL"] == "https://pypi.example.test/simple"
    assert "UV_NO_INDEX" not in env
    assert env["SSL_CERT_FILE"] == "/mine.pem"  # the caller's own setting wins
    assert links == ["--find-links", "/wheels", "--find-links", "/more-wheels"]


def test_uv_is_found_beside_pipegens_python_when_not_on_path():
    found = find_uv({"PATH": "/nonexistent"})
    assert found == str(Path(sys.executable).parent / "uv")


def test_uv_that_cannot_be_found_is_a_usage_error(tmp_path):
    python = tmp_path / "python"
    python.symlink_to(Path(sys.executable).resolve())  # a Python with no uv beside it
    (tmp_path / "pipegen.yaml").write_text((EXAMPLES / "minimal" / "pipegen.yaml").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    env = {**os.environ, "PATH": "/nonexistent", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([str(python), "-m", "pipegen", "run", "--uv", "--dry-run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert "--uv: uv is neither on PATH nor beside pipegen's Python" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_minimal_unit_job_runs_in_a_venv_uv_filled(example_repo, run_find_links, wheelhouse):
    repo = example_repo("minimal")
    env = run_environment(PIP_FIND_LINKS=run_find_links, PIP_CACHE_DIR=str(wheelhouse.pip_cache),
                          UV_CACHE_DIR=wheelhouse.uv_environment["UV_CACHE_DIR"])
    ran = pipegen_run(repo.root, "--uv", "--job", "unit", "--job", "pipegen-check", env=env)
    assert ran.statuses == {"unit": "passed", "pipegen-check": "passed"}, ran.explain()
    log = job_log(repo.root, "unit")
    assert "the project's requirements pre-installed with uv" in log
    assert "Requirement already satisfied: pytest" in log  # pip ran as written, over what uv put there
    assert re.search(r"\b2 passed\b", log), log
    check = job_log(repo.root, "pipegen-check")
    assert "pipegen pre-installed with uv" in check and "current    .gitlab-ci.yml" in check, check


@pytest.mark.slow
def test_what_uv_cannot_resolve_pip_installs_from_its_own_configuration(example_repo, wheelhouse, tmp_path):
    """A requirement only pip's configuration file can find (uv does not read it): uv gives up, the
    venv starts again empty, and the job's pip installs everything."""
    links = tmp_path / "private-wheels"
    links.mkdir()
    build_pysonar_standin_wheel(links)
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nfind-links = {links} {wheelhouse.find_links}\n", encoding="utf-8")
    repo = example_repo("minimal")
    requirements = repo.root / "requirements-test.txt"
    repo.commit("a requirement from the private wheel folder",
                {"requirements-test.txt": requirements.read_text(encoding="utf-8")
                 + f"pysonar=={PYSONAR_STANDIN_VERSION}\n"})
    env = run_environment(PIP_CONFIG_FILE=str(config), PIP_CACHE_DIR=str(wheelhouse.pip_cache),
                          UV_CACHE_DIR=wheelhouse.uv_environment["UV_CACHE_DIR"])
    env.pop("PIP_FIND_LINKS", None)
    ran = pipegen_run(repo.root, "--uv", "--job", "unit", env=env)
    assert ran.statuses == {"unit": "passed"}, ran.explain()
    log = job_log(repo.root, "unit")
    assert "uv could not pre-install the project's requirements" in log
    assert "the install command installs all of it" in log
