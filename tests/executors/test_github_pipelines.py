"""The committed GitHub Actions workflows, executed by act on this host (tests/executors/act_runner.py),
asserted from what ran: act's job results, values the consuming jobs printed, the MLflow registry."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .act_runner import REMOTE_NAME, WORKFLOW, Act
from .descriptors import textstats_descriptor

pytestmark = pytest.mark.slow


def push_event(repo, branch: str = "main") -> dict[str, Any]:
    return {"ref": f"refs/heads/{branch}", "after": repo.head, "repository": {"default_branch": "main"}}


@pytest.fixture
def act(example_repo, wheelhouse, standin_bin, tmp_path: Path):
    def make(name: str, variables: dict[str, str] | None = None, secrets: dict[str, str] | None = None) -> Act:
        repo = example_repo(name)
        repo.git("remote", "add", REMOTE_NAME, f"https://github.com/pipegen-tests/{name}.git")
        work = tmp_path / "act"
        work.mkdir(exist_ok=True)
        return Act(repo, wheelhouse, standin_bin, work, variables or {}, secrets or {})
    return make


def test_minimal_push_to_main_runs_test_and_passes(act) -> None:
    runner = act("minimal")
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode == 0, ran.explain()
    assert ran.results == {"pipegen-check": "success", "unit": "success"}, ran.explain()
    assert "passed" in ran.log("unit"), ran.log("unit")


MODEL = "churn-classifier"
REGISTRY = "registry.example.test/team"


@pytest.fixture
def churn(act, mlflow_server, sonar_server):
    """The churn example under act, wired to the real loopback MLflow server and the Sonar API stand-in,
    with an empty registry for its model (the MLflow server is shared by the session)."""
    from mlflow import MlflowClient  # pylint: disable=import-outside-toplevel  # heavy: registry scenarios
    client = MlflowClient(mlflow_server)
    if client.search_registered_models(filter_string=f"name = '{MODEL}'"):
        client.delete_registered_model(MODEL)
    runner = act("churn", variables={"MLFLOW_TRACKING_URI": mlflow_server, "REGISTRY": REGISTRY,
                                     "SONAR_HOST_URL": sonar_server.url},
                 secrets={"SONAR_TOKEN": "sonar-token-for-tests"})
    return runner, client, sonar_server


def workflow_jobs(runner: Act) -> set[str]:
    return set(yaml.safe_load((runner.repo.root / WORKFLOW).read_text(encoding="utf-8"))["jobs"])


def deployed(ran, job: str) -> str:
    """The image reference the kubernetes job set on the service's container before applying (`job`'s log)."""
    found = re.findall(r"pipegen deploy kubernetes render: Deployment/churn-api: api runs (\S+)", ran.log(job))
    assert len(found) == 1, ran.log(job)
    return found[0]


def champion(client) -> str | None:
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel
    try:
        return client.get_model_version_by_alias(MODEL, "champion").version
    except MlflowException:
        return None


@pytest.mark.pipeline_scenario(minutes=5)
def test_churn_push_promotes_v1_then_a_degraded_push_is_stopped_by_the_gate(churn) -> None:
    runner, client, sonar = churn
    repo = runner.repo

    # First push to main: the whole pipeline, every job green.
    first = runner.run("push", push_event(repo))
    assert first.returncode == 0, first.explain()
    # Every job green but the gate report, which runs on pull requests only.
    assert first.results == {job: "success" for job in workflow_jobs(runner)} | {"report-comment": "skipped"}, \
        first.explain()
    assert sonar.submissions() and sonar.submissions()[0]["authorization"], "the scanner never reached Sonar"
    # QA trained v1 and the gate passed it as the first model, against the thresholds.
    gate = first.log("model-gate")
    assert "gate model: PASS" in gate and f"{MODEL} v1: no version has alias 'champion' yet" in gate, gate
    # PROD promoted exactly that version (needs.train.outputs.MODEL_VERSION reached promote-model)...
    assert client.get_model_version(MODEL, "1").tags["pipegen.gate.verdict"] == "pass"
    assert champion(client) == "1"
    assert f"{MODEL} v1" in first.log("promote-model"), first.log("promote-model")
    # ... and deployed the exact digest QA deployed (needs.build.outputs.IMAGE_REF reached both).
    image = f"{REGISTRY}/churn-model:{repo.head[:12]}"
    digest = f"{REGISTRY}/churn-model@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
    assert deployed(first, "kubernetes-qa") == deployed(first, "kubernetes-prod") == digest
    # The image was built and pushed once, in QA's build job (the docker stand-in's record).
    assert [call[0] for call in first.docker_calls] == ["build", "push"], first.docker_calls
    assert first.docker_calls[1] == ["push", image], first.docker_calls
    # smoke-qa ran against QA after kubernetes-qa (its result is in the all-green check above). act ignores
    # environment protection rules, so promote-model and kubernetes-prod (environment prod) ran without a
    # reviewer; that the workflow asks for one is asserted on the generated file (tests/platforms/test_github.py).

    # Second push: a degraded model (the example's one knob, CHURN_DEGRADED, set on the runner as a CI
    # variable would be). The gate fails with its per-metric table; nothing is promoted; v1 stays champion.
    repo.push_change("retrain on new data", {"data/README.md": "new data drop\n"})
    second = runner.run("push", push_event(repo), env={"CHURN_DEGRADED": "1"})
    assert second.returncode != 0, second.explain()
    assert second.results["train"] == "success" and second.results["model-gate"] == "failure", second.explain()
    gate = second.log("model-gate")
    assert "gate model: FAIL" in gate and f"{MODEL}: candidate v2 against champion v1" in gate, gate
    # One row per metric rule (`auc:threshold`, `log_loss:min_relative_change`, ...): rule, bound, actual, status.
    table = [line.split() for line in gate.splitlines() if line.strip().startswith(("auc:", "log_loss:"))]
    assert {row[0].split(":")[0] for row in table} == {"auc", "log_loss"}, gate
    assert "FAIL" in {row[4] for row in table} and {row[4] for row in table} <= {"PASS", "FAIL"}, gate
    # Nothing is promoted; the image, which does not serve the model (no image.serves_model), still reaches PROD.
    assert "promote-model" not in second.ran() and "kubernetes-prod" in second.ran(), second.explain()
    assert client.get_model_version(MODEL, "2").tags["pipegen.gate.verdict"] == "fail"
    assert champion(client) == "1"


def pull_request_event(repo, number: int = 7) -> dict[str, Any]:
    pull_request = {"number": number, "head": {"ref": "feature", "sha": repo.head}, "base": {"ref": "main"}}
    return {"number": number, "pull_request": pull_request}


@pytest.mark.pipeline_scenario(minutes=2)
def test_churn_pull_request_gate_reports_only_and_nothing_is_built_deployed_or_promoted(churn) -> None:
    runner, client, _ = churn
    repo = runner.repo
    repo.push_change("a change to review", {"data/README.md": "proposed data\n"}, branch="feature")
    # Pull requests never train (their code would register versions in the production registry):
    # the tests and the drift report run; nothing is trained, gated, built, deployed or promoted.
    ran = runner.run("pull_request", pull_request_event(repo), env={"CHURN_DEGRADED": "1"})
    assert ran.returncode == 0, ran.explain()
    held_back = {"train", "model-gate", "build", "kubernetes-qa", "smoke-qa", "promote-model", "kubernetes-prod"}
    assert ran.skipped() == held_back, ran.explain()
    # the tests, the drift report and, last, the gate report comment (report.comment)
    assert ran.ran() == {job: "success" for job in workflow_jobs(runner) - held_back}, ran.explain()
    assert "report-comment" in ran.ran(), ran.explain()
    assert ran.docker_calls == [], ran.docker_calls  # no image built or pushed for a pull request
    assert champion(client) is None


def generate_variant(repo, descriptor: str) -> None:
    """Replaces the example's descriptor and pipelines with `descriptor` and what it generates."""
    repo.write({"pipegen.yaml": descriptor, "azure-pipelines.yml": None, "Jenkinsfile": None, ".gitlab-ci.yml": None})
    generated = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--force", "--quiet"], cwd=repo.root,
                               capture_output=True, text=True, check=False)
    assert generated.returncode == 0, generated.stderr


RELEASE_DESCRIPTOR = textstats_descriptor("github") + """\
environments:
  prod:
    approval: {approvers: [release-managers]}
    branch: main
jobs:
  - name: stamp
    stage: test
    run: pipegen output set RELEASE_STAMP "stamp-${GITHUB_SHA::12}"
    outputs: [RELEASE_STAMP]
  - name: announce
    stage: prod
    inputs: [RELEASE_STAMP]
    run: echo "announce read RELEASE_STAMP=$RELEASE_STAMP"
"""


def test_custom_output_produced_in_test_is_read_in_prod(act) -> None:
    runner = act("minimal")
    generate_variant(runner.repo, RELEASE_DESCRIPTOR)
    runner.repo.push_change("release stamp: a TEST output read in PROD", {})
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode == 0, ran.explain()
    assert ran.results == {job: "success" for job in workflow_jobs(runner)}, ran.explain()
    # act ignores environment protection: `announce` (environment prod) ran without a reviewer. That the
    # workflow asks for one is asserted on the generated file (tests/platforms/test_github.py).
    assert f"announce read RELEASE_STAMP=stamp-{runner.repo.head[:12]}" in ran.log("announce"), ran.explain()


GATE_MODE_DESCRIPTOR = textstats_descriptor("github") + """\
quality:
  coverage: {min: 100}
  lint: false
"""
PARTLY_TESTED = '''def describe(flag):
    if flag:
        return "never reached by the tests"
    return "reached"


def test_describe():
    assert describe(False) == "reached"
'''


def test_the_gate_mode_repository_variable_reaches_the_gate(act) -> None:
    # A repository variable reaches a step only through `env:`: the workflow maps PIPEGEN_GATE_MODE into the
    # jobs whose gate the descriptor gives no mode, as the other platforms hand every job their variables.
    runner = act("minimal", variables={"PIPEGEN_GATE_MODE": "dry-run"})
    generate_variant(runner.repo, GATE_MODE_DESCRIPTOR)
    runner.repo.push_change("an untested branch under a 100 % bar", {"tests/unit/test_partly.py": PARTLY_TESTED})
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode == 0, ran.explain()
    assert ran.results == {"pipegen-check": "success", "unit": "success"}, ran.explain()
    log = ran.log("unit")
    assert "gate coverage: FAIL (dry-run)" in log, log


SILENT_TRAIN_DESCRIPTOR = textstats_descriptor("github") + """\
model:
  name: textstats-model
  train: python -c "print('trained, but MODEL_VERSION was never published')"
  metrics:
    accuracy: {greater_is_better: true, threshold: 0.5}
"""


def test_a_train_command_that_cannot_publish_model_version_fails_its_own_job(act) -> None:
    runner = act("minimal", variables={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    generate_variant(runner.repo, SILENT_TRAIN_DESCRIPTOR)
    runner.repo.push_change("a train command that publishes nothing", {})
    ran = runner.run("push", push_event(runner.repo))
    assert ran.returncode != 0, ran.explain()
    assert ran.results["train"] == "failure", ran.explain()
    assert "model-gate" not in ran.ran(), ran.explain()
    assert ran.failed_steps("train") == ["Verify the promised outputs were published"], ran.explain()
    assert "MODEL_VERSION was not published by this job" in ran.log("train"), ran.log("train")


def wide_stages_descriptor(test_jobs: int, qa_jobs: int) -> str:
    """Independent TEST and QA jobs, enough that QA's jobs need one stage-barrier job (`start_qa`) rather
    than every TEST job. Each TEST job leaves a mark in $STAGE_ORDER_DIR; test-0 then fails when
    $FAIL_TEST is 1; each QA job prints the marks it finds."""
    lines = [textstats_descriptor("github").rstrip("\n"), "jobs:"]
    for index in range(test_jobs):
        fails = ' && test "$FAIL_TEST" != 1' if index == 0 else ""
        lines += [f"  - name: test-{index}", "    stage: test",
                  f'    run: touch "$STAGE_ORDER_DIR/test-{index}"{fails}']
    for index in range(qa_jobs):
        lines += [f"  - name: qa-{index}", "    stage: qa",
                  f'    run: echo "qa-{index} found $(ls "$STAGE_ORDER_DIR" | sort | tr "\\n" " ")"']
    return "\n".join(lines) + "\n"


@pytest.mark.pipeline_scenario(minutes=10)
def test_a_stage_barrier_job_holds_the_stage_order_and_a_failed_test_job_stops_qa(act, tmp_path: Path) -> None:
    runner = act("minimal")
    generate_variant(runner.repo, wide_stages_descriptor(test_jobs=5, qa_jobs=5))
    runner.repo.push_change("wide stages: QA waits for TEST through start_qa", {})
    jobs = workflow_jobs(runner)
    assert "start_qa" in jobs, jobs  # the stage-barrier job is there (its structure: tests/platforms)
    test_jobs = {f"test-{index}" for index in range(5)}
    qa_jobs = {f"qa-{index}" for index in range(5)}

    marks = tmp_path / "marks-green"
    marks.mkdir()
    green = runner.run("push", push_event(runner.repo), env={"STAGE_ORDER_DIR": str(marks), "FAIL_TEST": "0"})
    assert green.returncode == 0, green.explain()
    assert green.results == {job: "success" for job in jobs}, green.explain()
    # Every QA job started after every TEST job had finished: each found all five marks.
    for job in sorted(qa_jobs):
        assert f"{job} found {' '.join(sorted(test_jobs))} " in green.log(job), green.log(job)

    marks = tmp_path / "marks-red"
    marks.mkdir()
    red = runner.run("push", push_event(runner.repo), env={"STAGE_ORDER_DIR": str(marks), "FAIL_TEST": "1"})
    assert red.returncode != 0, red.explain()
    assert red.results["test-0"] == "failure", red.explain()
    # The other TEST jobs ran; neither the barrier job nor any QA job did.
    assert all(red.results[job] == "success" for job in test_jobs - {"test-0"}), red.explain()
    assert not (qa_jobs | {"start_qa"}) & set(red.ran()), red.explain()
    assert not any(f"{job} found" in red.log(job) for job in qa_jobs), red.explain()
