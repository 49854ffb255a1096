"""The committed GitLab pipelines, executed by gitlab-ci-local 4.73.0 (shell executor, a fresh venv per job),
asserted from what ran: job statuses, the MLflow registry's aliases and tags, values printed by jobs."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .descriptors import textstats_descriptor
from .gitlab_ci_local import GitlabCiLocal
from .plugin import forget_registered_model

pytestmark = pytest.mark.slow


@pytest.fixture
def gitlab(example_repo, wheelhouse, standin_bin, tmp_path: Path):
    def make(name: str, **variables: str) -> GitlabCiLocal:
        repo = example_repo(name, remote_url=f"https://gitlab.example.test/pipegen-tests/{name}.git")
        work = tmp_path / "gitlab"
        work.mkdir(exist_ok=True)
        return GitlabCiLocal(repo, wheelhouse, standin_bin, work, variables)
    return make


def test_minimal_push_to_main_runs_test_and_passes(gitlab) -> None:
    ran = gitlab("minimal").run("push")
    assert ran.returncode == 0, ran.explain()
    assert ran.statuses == {"pipegen-check": "PASS", "unit": "PASS"}, ran.explain()
    assert re.search(r"\b\d+ passed\b", ran.log("unit")), ran.log("unit")
    assert "current    .gitlab-ci.yml" in ran.log("pipegen-check")


RELEASE_DESCRIPTOR = textstats_descriptor("gitlab") + """\
environments:
  prod:
    approval: {approvers: [release-managers]}
    branch: main
jobs:
  - name: stamp
    stage: test
    run: pipegen output set RELEASE_STAMP "stamp-$CI_COMMIT_SHORT_SHA"
    outputs: [RELEASE_STAMP]
  - name: announce
    stage: prod
    inputs: [RELEASE_STAMP]
    run: echo "announce read RELEASE_STAMP=$RELEASE_STAMP"
"""


def test_custom_output_from_test_is_read_in_prod_after_approval(gitlab) -> None:
    pipeline = gitlab("minimal")
    repo = pipeline.repo
    repo.write({"pipegen.yaml": RELEASE_DESCRIPTOR, "azure-pipelines.yml": None, "Jenkinsfile": None,
                ".github/workflows/pipegen.yml": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("release stamp: a TEST output read in PROD")

    # (gitlab-ci-local refuses to start a pipeline whose blocking manual job is not released, so the
    # waiting pipeline GitLab would show cannot be run here; the approval is given up front.)
    released = pipeline.run("push", manual=("approve-prod",))
    assert released.returncode == 0, released.explain()
    assert {job: released.statuses.get(job) for job in ("stamp", "approve-prod", "announce")} == \
        {"stamp": "PASS", "approve-prod": "PASS", "announce": "PASS"}, released.explain()
    assert f"announce read RELEASE_STAMP=stamp-{repo.head[:8]}" in released.log("announce"), released.log("announce")


# ------------------------------------------------------------------------------------------------ churn
CHURN_MODEL = "churn-classifier"
REGISTRY = "registry.example.test/ml"
TEST_JOBS = {"pipegen-check", "lint", "unit", "integration", "functional", "sonar", "kubernetes-check"}
DEPLOYED = re.compile(r"pipegen deploy kubernetes render: Deployment/churn-api: api runs (\S+)$", re.MULTILINE)


def registry_client(tracking_uri: str):
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def champion_version(tracking_uri: str) -> str | None:
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

    try:
        return registry_client(tracking_uri).get_model_version_by_alias(CHURN_MODEL, "champion").version
    except MlflowException:
        return None


def deployed(ran, job: str) -> tuple[str, str]:
    """(IMAGE_REF, environment): the digest the kubernetes job set on the service's container, and the
    environment whose rendered manifests it applied and rolled out (from `job`'s log)."""
    log = ran.log(job)
    found = DEPLOYED.findall(log)
    applied = re.findall(r"kubectl apply -f pipegen-kubernetes/(\w+)\.yaml", log)
    assert len(found) == 1 and len(applied) == 1 and "rolled out: deployment/churn-api" in log, log
    return found[0], applied[0]


@pytest.fixture
def churn(gitlab, mlflow_server, sonar_server):
    """examples/churn in a fresh repository, with the project's CI/CD variables pointing at the session's
    `mlflow server` (registry emptied of the example's model) and the Sonar API stand-in."""
    forget_registered_model(mlflow_server, CHURN_MODEL)
    return gitlab("churn", MLFLOW_TRACKING_URI=mlflow_server, SONAR_HOST_URL=sonar_server.url,
                  SONAR_TOKEN="squ_pipegen_tests", REGISTRY=REGISTRY)


# Each job works in its own folder here (as on GitLab shell runners with concurrent ids): the functional
# job's combined coverage must still count src/ once (the combine step maps the paths).
@pytest.mark.pipeline_scenario(minutes=4)
def test_churn_push_promotes_after_approval_and_a_degraded_push_is_stopped(churn, mlflow_server) -> None:
    repo = churn.repo
    first = churn.run("push", manual=("approve-prod",))
    assert first.returncode == 0, first.explain()
    assert first.statuses == dict.fromkeys(
        [*TEST_JOBS, "drift", "train", "model-gate", "build", "kubernetes-qa", "smoke-qa", "approve-prod",
         "promote-model", "kubernetes-prod"], "PASS"), first.explain()
    # QA trained v1; the gate passed it on thresholds (no champion yet) and recorded its verdict.
    assert "gate model: PASS" in first.log("model-gate"), first.log("model-gate")
    client = registry_client(mlflow_server)
    assert [v.version for v in client.search_model_versions(f"name='{CHURN_MODEL}'")] == ["1"]
    assert client.get_model_version(CHURN_MODEL, "1").tags["pipegen.gate.verdict"] == "pass"
    # PROD, after approval, made v1 the champion and deployed the very image QA deployed.
    assert champion_version(mlflow_server) == "1"
    image = f"{REGISTRY}/churn-model:{repo.head[:12]}"
    assert ["build", "--file", "Dockerfile", "--tag", image, "."] in first.docker_calls, first.docker_calls
    assert ["push", image] in first.docker_calls, first.docker_calls
    # syft read the image the build saved and named its SBOM by the digest QA and PROD deploy.
    assert f"pipegen: SBOM of {REGISTRY}/churn-model@sha256:" in first.log("build"), first.log("build")
    qa_ref, qa = deployed(first, "kubernetes-qa")
    prod_ref, prod = deployed(first, "kubernetes-prod")
    assert (qa, prod) == ("qa", "prod")
    assert qa_ref == prod_ref and qa_ref.startswith(f"{REGISTRY}/churn-model@sha256:"), (qa_ref, prod_ref)
    assert "smoke.sh: churn scores customers" in first.log("smoke-qa"), first.log("smoke-qa")

    # A second push, new data under data/ (a watched path) and a degraded model (a CI/CD variable).
    before = repo.head
    repo.commit("data: a noisier extract", {"data/customers-2.csv": "customer,churned\n1,0\n2,1\n"})
    second = churn.run("push", before_sha=before, manual=("approve-prod",), variables={"CHURN_DEGRADED": "1"})
    repo.push()
    assert second.returncode != 0, second.explain()
    assert second.statuses.get("train") == "PASS" and second.statuses.get("model-gate") == "FAIL", second.explain()
    assert TEST_JOBS <= second.statuses.keys(), second.explain()
    # Nothing is promoted; the image, which does not serve the model (no image.serves_model), still reaches PROD.
    assert "promote-model" not in second.statuses, second.explain()
    assert second.statuses.get("kubernetes-prod") == "PASS", second.explain()
    gate_log = second.log("model-gate")
    assert "gate model: FAIL" in gate_log, gate_log
    table = re.compile(r"^\s+metric\s+rule\s+threshold\s+actual\s+status\s+detail$", re.MULTILINE)
    assert table.search(gate_log), gate_log
    # One row per metric rule (`auc:threshold`, `log_loss:min_relative_change`, ...).
    assert re.search(r"^\s+auc:\w+\s+.*\bFAIL\b", gate_log, re.MULTILINE), gate_log
    assert client.get_model_version(CHURN_MODEL, "2").tags["pipegen.gate.verdict"] == "fail"
    assert champion_version(mlflow_server) == "1"


@pytest.mark.pipeline_scenario(minutes=2)
def test_churn_merge_request_runs_tests_and_drift_only_and_nothing_ships(churn, mlflow_server) -> None:
    repo = churn.repo
    repo.push_change("data: a noisier extract", {"data/customers-2.csv": "customer,churned\n1,0\n"},
                     branch="feature/noisier-data")
    ran = churn.run("merge_request_event", variables={"CHURN_DEGRADED": "1", "REVIEW_TOKEN": "glpat-not-a-token"})
    assert ran.returncode == 0, ran.explain()
    # Merge requests never train (their code would register versions in the production registry):
    # the tests and the drift report run; nothing is trained, built, deployed or promoted. The
    # gate report runs last; GitLab's API is unreachable here, which it reports without failing.
    assert ran.statuses == dict.fromkeys([*TEST_JOBS, "drift", "report-comment"], "PASS"), ran.explain()
    assert "the report was not posted as a comment (this does not fail the pipeline)" in ran.log("report-comment")
    assert ran.docker_calls == []
    assert champion_version(mlflow_server) is None


SILENT_TRAIN_DESCRIPTOR = textstats_descriptor("gitlab") + """\
model:
  name: textstats-model
  tracking_uri_var: MLFLOW_TRACKING_URI
  train: python -c "print('trained, but MODEL_VERSION was never published')"
  metrics:
    accuracy: {greater_is_better: true, threshold: 0.5}
environments:
  prod: {approval: false}  # not what this scenario is about (PROD asks for an approval by default)
"""


def test_a_train_command_that_publishes_nothing_fails_its_own_job(gitlab) -> None:
    # The minimal example with a model whose training never publishes: the train job itself fails at
    # `pipegen output check`, not the gate one job later. (Nothing reaches the registry: its URL is closed.)
    pipeline = gitlab("minimal", MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    repo = pipeline.repo
    repo.write({"pipegen.yaml": SILENT_TRAIN_DESCRIPTOR, "azure-pipelines.yml": None, "Jenkinsfile": None,
                ".github/workflows/pipegen.yml": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("train: a command that forgets to publish MODEL_VERSION")

    ran = pipeline.run("push")
    assert ran.returncode != 0, ran.explain()
    assert {job: ran.statuses.get(job) for job in ("pipegen-check", "unit", "train")} == \
        {"pipegen-check": "PASS", "unit": "PASS", "train": "FAIL"}, ran.explain()
    assert "model-gate" not in ran.statuses, ran.explain()
    assert "MODEL_VERSION was not published by this job" in ran.log("train"), ran.log("train")


NEEDS_DESCRIPTOR = RELEASE_DESCRIPTOR.replace("""  - name: announce
    stage: prod
    inputs: [RELEASE_STAMP]
""", """  - name: relay
    stage: prod
    needs: [stamp]
    run: echo relay
  - name: announce
    stage: prod
    needs: [relay]
    inputs: [RELEASE_STAMP]
""")


def test_a_job_that_needs_a_producer_through_another_job_reads_the_output_it_names(gitlab) -> None:
    """announce needs relay, which needs stamp, and names RELEASE_STAMP in `inputs:`: it reads the
    value (a job sees its direct needs' outputs and the ones it names; GitLab used to list such
    needs with `artifacts: false`, and it printed nothing)."""
    pipeline = gitlab("minimal")
    repo = pipeline.repo
    repo.write({"pipegen.yaml": NEEDS_DESCRIPTOR, "azure-pipelines.yml": None, "Jenkinsfile": None,
                ".github/workflows/pipegen.yml": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr
    repo.commit("announce reads the stamp through relay")

    released = pipeline.run("push", manual=("approve-prod",))
    assert released.returncode == 0, released.explain()
    assert released.statuses.get("announce") == "PASS", released.explain()
    assert f"announce read RELEASE_STAMP=stamp-{repo.head[:8]}" in released.log("announce"), released.log("announce")
