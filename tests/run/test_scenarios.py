"""`pipegen run` executing the examples' plans end to end, asserted from what ran: job
statuses from the run's JSON summary, the MLflow registry's aliases, values printed by the
jobs that consume outputs. Each scenario works in a copy of the example in a fresh git
repository whose `origin` holds main (diff coverage compares with origin/main)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from executors.plugin import forget_registered_model

from .conftest import job_log, pipegen_run, run_environment

pytestmark = pytest.mark.slow

CUSTOM_JOBS = """\
  - name: release-stamp
    stage: test
    run: pipegen output set RELEASE_STAMP "stamp-$(git rev-parse --short=8 HEAD)"
    outputs: [RELEASE_STAMP]
  - name: announce
    stage: prod
    inputs: [RELEASE_STAMP]
    run: echo "announce read RELEASE_STAMP=$RELEASE_STAMP"
"""


def test_minimal_push_runs_test_and_passes(example_repo, run_find_links, wheelhouse):
    repo = example_repo("minimal")
    env = run_environment(PIP_FIND_LINKS=run_find_links, PIP_CACHE_DIR=str(wheelhouse.pip_cache))
    ran = pipegen_run(repo.root, "--event", "push", env=env)
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "passed", "unit": "passed"}, ran.explain()
    assert re.search(r"\b2 passed\b", job_log(repo.root, "unit"))
    assert "current    .gitlab-ci.yml" in job_log(repo.root, "pipegen-check")
    assert "[unit" in ran.stdout and "passed" in ran.stdout.splitlines()[-1]  # prefixed lines, then the table


def test_venv_cache_seeds_the_next_runs_venvs(example_repo, run_find_links, wheelhouse, tmp_path):
    repo = example_repo("minimal")
    env = run_environment(PIP_FIND_LINKS=run_find_links, PIP_CACHE_DIR=str(wheelhouse.pip_cache),
                          PIPEGEN_RUN_VENV_CACHE=str(tmp_path / "venvs"))
    first = pipegen_run(repo.root, "--job", "unit", env=env)
    assert first.statuses == {"unit": "passed"}, first.explain()
    assert "seeded" not in job_log(repo.root, "unit")
    # The next run's working copy carries an uncommitted change the seeded venv must see.
    repo.write({"tests/unit/test_more.py": "def test_more():\n    assert True\n"})
    second = pipegen_run(repo.root, "--job", "unit", env=env)
    assert second.statuses == {"unit": "passed"}, second.explain()
    log = job_log(repo.root, "unit")
    assert "venv seeded from" in log and "$ \"$uv\" pip install --python python -e ." in log
    assert re.search(r"\b3 passed\b", log), log


def test_venv_cache_seeds_pipegens_own_venv_for_a_job_whose_project_changed(
        example_repo, run_find_links, wheelhouse, tmp_path):
    repo = example_repo("minimal")
    env = run_environment(PIP_FIND_LINKS=run_find_links, PIP_CACHE_DIR=str(wheelhouse.pip_cache),
                          PIPEGEN_RUN_VENV_CACHE=str(tmp_path / "venvs"))
    first = pipegen_run(repo.root, "--job", "pipegen-check", env=env)
    assert first.statuses == {"pipegen-check": "passed"}, first.explain()
    # A changed pyproject.toml: a new job venv, but pipegen's own venv (the same requirement) is seeded
    # and relocated, and the job's `pipegen check` runs through it.
    pyproject = (repo.root / "pyproject.toml").read_text(encoding="utf-8")
    repo.write({"pyproject.toml": pyproject + "# a comment changes the job venv's key\n"})
    second = pipegen_run(repo.root, "--job", "pipegen-check", env=env)
    assert second.statuses == {"pipegen-check": "passed"}, second.explain()
    log = job_log(repo.root, "pipegen-check")
    assert "pipegen's venv seeded from" in log, log
    assert "venv seeded from" not in log.replace("pipegen's venv seeded", ""), log  # the job's own is new
    assert "current    .gitlab-ci.yml" in log, log


def _deployed(log: str) -> str:
    """The digest the kubernetes job set on the service's container before it applied the manifests."""
    (ref,) = re.findall(r"pipegen deploy kubernetes render: Deployment/churn-api: api runs (\S+)", log)
    assert "rolled out: deployment/churn-api" in log, log
    return ref


def _aliases(tracking_uri: str, name: str) -> dict[str, str]:
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


@pytest.mark.pipeline_scenario(minutes=5)
def test_churn_release_then_degraded_push_then_pull_request(  # pylint: disable=too-many-arguments  # fixtures
        example_repo, scenario_settings, standin_bin, sonar_server, mlflow_server):
    repo = example_repo("churn")
    descriptor = (repo.root / "pipegen.yaml").read_text(encoding="utf-8")
    repo.write({"pipegen.yaml": descriptor + CUSTOM_JOBS})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("churn with a release stamp read in PROD")
    repo.push("main")
    forget_registered_model(mlflow_server, "churn-classifier")
    env = run_environment(
        **scenario_settings, PIP_NO_COMPILE="1",
        PATH=f"{standin_bin}:{run_environment()['PATH']}", PIPEGEN_TEST_DOCKER_LOG=str(repo.root.parent / "docker.log"),
        PIPEGEN_TEST_KUBECTL_STATE=str(repo.root.parent / "cluster"),
        MLFLOW_TRACKING_URI=mlflow_server,
        REGISTRY="registry.example.test:5000",
        SONAR_HOST_URL=sonar_server.url, SONAR_TOKEN="sonar-test-token")

    # Push to main, PROD approved with --approve: every job passes on the example's own code.
    first = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--approve", "--parallel", "2", env=env)
    assert first.returncode == 0, first.explain()
    # Every job passes but the gate report, which runs on pull requests only.
    statuses = first.statuses
    assert statuses.pop("report-comment") == "not run", statuses
    assert set(statuses.values()) == {"passed"}, statuses
    assert set(first.statuses) >= {"lint", "unit", "integration", "functional", "sonar", "train", "model-gate",
                                   "build", "kubernetes-qa", "smoke-qa", "promote-model", "kubernetes-prod",
                                   "release-stamp", "announce"}
    version = first.outputs("train")["MODEL_VERSION"]
    assert _aliases(mlflow_server, "churn-classifier") == {"champion": version}
    image = first.outputs("build")["IMAGE_REF"]
    assert re.fullmatch(r"registry\.example\.test:5000/churn-model@sha256:[0-9a-f]{64}", image)
    assert _deployed(job_log(repo.root, "kubernetes-qa")) == image
    assert _deployed(job_log(repo.root, "kubernetes-prod")) == image
    stamp = first.outputs("release-stamp")["RELEASE_STAMP"]
    assert stamp == f"stamp-{repo.head[:8]}"
    assert f"announce read RELEASE_STAMP={stamp}" in job_log(repo.root, "announce")

    # A second push whose training is degraded: QA and PROD again; the gate fails with its table,
    # nothing is promoted, the champion stays; the image (which does not serve the model: no
    # image.serves_model) is still deployed, and the run fails.
    second = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--stage", "qa", "--stage", "prod",
                         "--approve", env={**env, "CHURN_DEGRADED": "1"})
    assert second.returncode == 1, second.explain()
    assert second.statuses["train"] == "passed"
    assert second.statuses["model-gate"] == "failed"
    assert second.statuses["promote-model"] == "skipped", second.statuses
    assert second.statuses["kubernetes-prod"] == "passed", second.statuses
    assert _deployed(job_log(repo.root, "kubernetes-prod")) == second.outputs("build")["IMAGE_REF"]
    gate_log = job_log(repo.root, "model-gate")
    failed_rows = [line.split()[0] for line in gate_log.splitlines() if " FAIL " in line]
    assert "auc:min_absolute_change" in failed_rows, gate_log
    assert _aliases(mlflow_server, "churn-classifier") == {"champion": version}

    # A pull request: nothing reaches the registry or an environment. Pull requests never train
    # (their code would register versions in the production registry with its credentials), so
    # the model gate has no candidate; the drift report runs; build, deployments and promotion do not.
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit("a change under review", {"NOTES.md": "reviewed\n"})
    pull = pipegen_run(repo.root, "--event", "pull_request", "--stage", "qa", "--stage", "prod",
                       env={**env, "CHURN_DEGRADED": "1"})
    assert pull.returncode == 0, pull.explain()
    assert pull.statuses["drift"] == "passed"
    assert {pull.statuses[job] for job in ("train", "model-gate", "build", "kubernetes-qa", "smoke-qa", "promote-model",
                                           "kubernetes-prod")} == {"not run"}, pull.statuses
    assert _aliases(mlflow_server, "churn-classifier") == {"champion": version}

    # A training command that cannot publish MODEL_VERSION fails its own job (an uncommitted
    # change: the working copies carry the work tree as it is on disk).
    repo.write({"pipegen.yaml": (repo.root / "pipegen.yaml").read_text(encoding="utf-8").replace(
        "train: python -m churn.train", "train: python -m churn.train --no-publish")})
    silent = pipegen_run(repo.root, "--event", "push", "--branch", "main", "--job", "train", env=env)
    assert silent.returncode == 1, silent.explain()
    assert silent.statuses == {"train": "failed"}
    assert "MODEL_VERSION" in job_log(repo.root, "train")
