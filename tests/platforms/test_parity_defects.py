"""Each defect found when the four files were first read side by side: the file as generated
now passes the parity check, and the same file with the defect put back fails it, with a
message that names the problem. (The parity check would have caught each one.)"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Callable

import pytest
import yaml

from pipegen.platforms import parity
from pipegen.platforms import readback as rb
from pipegen.platforms import get_backend
from pipegen.platforms.readers import read_back
from pipegen.generate.checklist import checklist
from pipegen.descriptor.loader import parse_descriptor
from pipegen.errors import DescriptorError
from pipegen.plan import EnvKind, Plan, RunWhen, build_plan

MODEL = "model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}"
BASE = f"""
project: {{name: p}}
targets: [github, gitlab, azure, jenkins]
triggers: {{branches: [main], pull_requests: true, schedule: "0 3 * * 1"}}
tests: {{unit: tests}}
quality: {{coverage: {{min: 80}}, sonar: {{project_key: p}}}}
{MODEL}
image: {{name: app, username_secret: REG_USER, password_secret: REG_PASSWORD}}
environments:
  test: {{deploy: ./deploy.sh test}}
  qa: {{deploy: ./deploy.sh qa}}
  prod: {{deploy: ./deploy.sh prod, approval: {{approvers: [ops]}}, branch: main}}
jobs:
  - {{name: announce, stage: prod, needs: [promote-model, snapshot, train], run: ./announce.sh}}
  - {{name: snapshot, stage: prod, needs: [promote-model], outputs: [SNAPSHOT], run: pipegen output set SNAPSHOT s}}
  - {{name: qa-check, stage: qa, run: ./qa-check.sh}}
"""


def plan_of(text: str) -> Plan:
    return build_plan(parse_descriptor(textwrap.dedent(text), Path("pipegen.yaml")))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_of(BASE)


def problems(plan: Plan, target: str, text: str) -> list[str]:
    protected = frozenset(name for name, approval in plan.environments if approval)
    view = read_back(target, text, rb.release_branch(plan), protected)
    return parity.compare(rb.from_plan(plan), view)


def edit_yaml(change: Callable[[dict], None]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        document = yaml.load(text, Loader=yaml.BaseLoader)
        change(document)
        return yaml.safe_dump(document, sort_keys=False)
    return edit


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)
    return edit


def in_job(job: str, old: str, new: str) -> Callable[[str], str]:
    """Replaces text inside one job's block of a GitHub workflow, comments and all."""
    def edit(text: str) -> str:
        start = text.index(f"\n  {job}:\n")
        end = text.find("\n\n", start + 1)
        end = len(text) if end < 0 else end
        assert old in text[start:end], (job, old)
        return text[:start] + text[start:end].replace(old, new) + text[end:]
    return edit


def _gh_job(name: str, **changes) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        document["jobs"][name].update(changes)
    return change


def _gh_drop_env(job: str, name: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        del document["jobs"][job]["env"][name]
    return change


def _gh_secret_on_mkdir(document: dict) -> None:
    (step,) = [step for step in document["jobs"]["sonar"]["steps"] if step.get("name") == "Prepare the report folder"]
    step["env"] = {"SONAR_TOKEN": "${{ secrets.SONAR_TOKEN }}"}


def _gl_need_without_artifacts(document: dict) -> None:
    for need in document["announce"]["needs"]:
        if need["job"] == "train":
            need["artifacts"] = "false"


def _gl_any_target(document: dict) -> None:
    document["workflow"]["rules"][0]["if"] = '$CI_PIPELINE_SOURCE == "merge_request_event"'


def _az_batch(document: dict) -> None:
    document["trigger"]["batch"] = "true"


DEFECTS = [
    # (what, target, how the defect is put back, a phrase of the parity message)
    ("needing a producer gives its outputs (GitLab artifacts: false)", "gitlab", edit_yaml(_gl_need_without_artifacts),
     "announce: reads [('MODEL_VERSION', 'train')] but the file does not hand them over"),
    ("needing a producer gives its outputs (GitHub env from needs)", "github",
     edit_yaml(_gh_drop_env("announce", "MODEL_VERSION")), "announce.inputs: missing [('MODEL_VERSION', 'train')]"),
    ("Jenkins aborts a build waiting at the PROD input", "jenkins",
     replace("abortPrevious: env.BRANCH_NAME != 'main'", "abortPrevious: true"), "release_runs: 'abort'"),
    ("Jenkins dry-run gate makes the build UNSTABLE", "jenkins",
     lambda text: text.replace(", skipMarkingBuildUnstable: true", "").replace(
         "pipegen gate coverage \\\\", "pipegen gate coverage --mode dry-run \\\\"), "events: missing"),
    ("Azure batching holds main's CI while PROD waits", "azure", edit_yaml(_az_batch),
     "release_runs: 'queue', expected 'parallel'"),
    ("GitHub skips a QA job on pull requests because TEST deploy jobs are skipped", "github",
     edit_yaml(_gh_job("qa-check", **{"if": ""})), "qa-check.events: missing ['pull-request']"),
    ("Jenkins cron in the controller's time zone", "jenkins", replace("TZ=UTC\\n", ""),
     "schedule: plan '0 3 * * 1', file '0 3 * * 1 (controller time zone)'"),
    ("GitLab merge request pipelines for any target branch", "gitlab", edit_yaml(_gl_any_target),
     "pipeline events: missing [], extra ['pull-request:other']"),
    ("a secret on a step that does not read it (GitHub)", "github", edit_yaml(_gh_secret_on_mkdir),
     "sonar, step 'Prepare the report folder': secrets ['SONAR_TOKEN'], plan []"),
    ("a secret on a step that does not read it (Azure)", "azure",
     replace("            displayName: Prepare the report folder\n", "            displayName: Prepare the report "
             "folder\n            env:\n              SONAR_TOKEN: $(SONAR_TOKEN)\n"),
     "sonar, step 'Prepare the report folder': reads: missing [], extra ['SONAR_TOKEN']"),
    ("GitHub asks for the PROD approval twice", "github", edit_yaml(_gh_job("snapshot", environment="prod")),
     "snapshot.asks_approval: plan False, file True"),
    ("promotion on any branch (a manual run of a feature branch)", "github",
     edit_yaml(_gh_job("promote-model", **{"if": "${{ github.event_name != 'pull_request' }}"})),
     "promote-model.events: missing [], extra ['manual:other']"),
]


def _gl_approval_waits_for_all_of_qa(text: str) -> str:
    start = text.index("\napprove-prod:\n")
    block = re.compile(r"  needs:\n(?:    - job: [\w-]+\n      artifacts: false\n(?:      optional: true\n)?)+")
    match = block.search(text, start)
    assert match, "approve-prod has needs"
    return text[:match.start()] + "  dependencies: []\n" + text[match.end():]


def _az_model_gate_stops_the_release(document: dict) -> None:
    (qa,) = [stage for stage in document["stages"] if stage["stage"] == "QA"]
    for job in qa["jobs"]:
        job.pop("continueOnError", None)


# A failed model gate must not stop the image's deployment (no `image.serves_model`).
DEFECTS += [
    ("a failed model gate blocks deploy-prod (GitHub needs)", "github",
     in_job("deploy-prod", "    needs:\n", "    needs:\n      - model-gate\n"),
     "deploy-prod.after: missing [], extra ['model-gate', 'train']"),
    ("a failed model gate blocks deploy-prod (GitLab approval job waits for all of QA)", "gitlab",
     _gl_approval_waits_for_all_of_qa, "deploy-prod.after: missing [], extra ['model-gate', 'train']"),
    ("a failed model gate blocks deploy-prod (Azure QA stage fails)", "azure",
     edit_yaml(_az_model_gate_stops_the_release),
     "deploy-prod.after: missing [], extra ['model-gate', 'train']"),
    ("a failed model gate blocks deploy-prod (Jenkins failure not caught)", "jenkins",
     replace("catchError(buildResult: 'FAILURE', stageResult: 'FAILURE') {", "withEnv([]) {"),
     "deploy-prod.after: missing [], extra ['model-gate', 'train']"),
]
# GitHub and Azure files must say which environments ask for an approval (reviewers live in settings).
_NO_APPROVAL = ("# Approvals this file relies on (kept in the platform's settings, see the setup checklist):\n"
                "#   environment prod: approval by ops\n")
DEFECTS += [
    (f"the {target} file does not say PROD needs an approval", target,
     replace(_NO_APPROVAL, "# Approvals: none (no environment of this pipeline asks for one)\n"),
     "pipeline approvers: plan (('prod', 'ops'),), file ()")
    for target in ("github", "azure")
]
NO_TEST_DEPLOY = BASE.replace("  test: {deploy: ./deploy.sh test}\n", "")
DEFECTS_WITHOUT_TEST_DEPLOY = [
    ("training on pull requests (the production registry)", "github",
     in_job("train", "    if: ${{ github.event_name != 'pull_request' }}\n", ""),
     "train.events: missing [], extra ['pull-request']"),
    ("training on pull requests (the production registry)", "gitlab",
     lambda text: text.replace("""train:
  stage: qa
  timeout: 60m
  rules:
    # Not in merge request pipelines.
    - if: '$CI_PIPELINE_SOURCE == "merge_request_event"'
      when: never
    # Pushes, schedules and manual runs.
    - when: on_success
""", """train:
  stage: qa
  timeout: 60m
"""), "train.events: missing [], extra ['pull-request']"),
]


@pytest.mark.parametrize("target", ["github", "gitlab", "azure", "jenkins"])
def test_the_generated_files_pass(plan: Plan, target: str) -> None:
    assert problems(plan, target, get_backend(target).render(plan)) == []


@pytest.mark.parametrize("what, target, put_back, message", DEFECTS, ids=[defect[0] for defect in DEFECTS])
def test_the_defect_put_back_fails_parity(plan: Plan, what: str, target: str, put_back, message: str) -> None:
    found = problems(plan, target, put_back(get_backend(target).render(plan)))
    assert any(message in problem for problem in found), (what, found)


@pytest.mark.parametrize("what, target, put_back, message", DEFECTS_WITHOUT_TEST_DEPLOY,
                         ids=[f"{defect[0]} ({defect[1]})" for defect in DEFECTS_WITHOUT_TEST_DEPLOY])
def test_the_defect_put_back_fails_parity_without_test_deploy(what: str, target: str, put_back, message: str) -> None:
    plan = plan_of(NO_TEST_DEPLOY)
    text = get_backend(target).render(plan)
    assert problems(plan, target, text) == []
    found = problems(plan, target, put_back(text))
    assert any(message in problem for problem in found), (what, found)


# ---------------------------------------------------------------------------- in the plan itself


def test_a_job_sees_the_outputs_of_its_direct_needs_and_of_its_inputs(plan: Plan) -> None:
    announce = dict(plan.job("announce").env)
    assert announce["MODEL_VERSION"].kind is EnvKind.OUTPUT and announce["MODEL_VERSION"].producer == "train"
    assert announce["SNAPSHOT"].producer == "snapshot"
    # deploy-qa needs build: the digest reaches a job after deploy-qa only when it names it as an input
    smoke = plan_of(BASE + "  - {name: smoke, stage: qa, needs: [deploy-qa], run: ./smoke.sh}\n").job("smoke")
    assert "IMAGE_REF" not in dict(smoke.env) and smoke.needs == ("deploy-qa",)
    smoke = plan_of(BASE + "  - {name: smoke, stage: qa, needs: [deploy-qa], inputs: [IMAGE_REF], run: ./smoke.sh}\n"
                    ).job("smoke")
    assert dict(smoke.env)["IMAGE_REF"].producer == "build" and "build" in smoke.needs


def test_an_input_produced_by_a_job_written_later_is_not_lost() -> None:
    plan = plan_of("""
        project: {name: p}
        targets: [github]
        tests: {unit: tests}
        jobs:
          - {name: announce, stage: qa, inputs: [RELEASE_ID], run: ./announce.sh}
          - {name: release, stage: test, outputs: [RELEASE_ID], run: pipegen output set RELEASE_ID 1}
    """)
    assert plan.job("announce").inputs == (("RELEASE_ID", "release"),)
    assert "release" in plan.job("announce").needs


def test_an_input_nobody_produces_is_a_descriptor_error() -> None:
    with pytest.raises(DescriptorError, match=r"pipegen.yaml:\d+:\d+: job 'announce' reads output 'NOPE'"):
        plan_of("""
            project: {name: p}
            targets: [github]
            tests: {unit: tests}
            jobs:
              - {name: announce, stage: qa, inputs: [NOPE], run: ./announce.sh}
        """)


def test_promotion_without_a_prod_environment_runs_only_on_the_release_branch() -> None:
    plan = plan_of(f"""
        project: {{name: p}}
        targets: [github]
        triggers: {{branches: [trunk, develop]}}
        tests: {{unit: tests}}
        {MODEL}
    """)
    promote = plan.job("promote-model")
    assert (promote.run_when, promote.branch) == (RunWhen.BRANCH, "trunk")
    events = rb.from_plan(plan).job("promote-model").events
    assert events == {rb.PUSH_RELEASE, rb.SCHEDULE, rb.MANUAL_RELEASE} - {rb.SCHEDULE}


def test_pull_requests_never_train(plan: Plan) -> None:
    view = rb.from_plan(plan)
    assert rb.PULL_REQUEST not in view.job("train").events
    assert rb.PULL_REQUEST not in view.job("model-gate").events
    assert rb.PULL_REQUEST in view.job("qa-check").events


def test_azure_checklist_says_the_build_logs_in_with_the_registry_secrets(plan: Plan) -> None:
    (docker,) = [item for item in checklist(plan, ("azure",))["azure"] if item.name == "Docker for build"]
    assert "no login step" not in docker.detail
    assert "logs in" in docker.detail and "username and password secrets" in docker.detail
    plain = plan_of(re.sub(r", username_secret: REG_USER, password_secret: REG_PASSWORD", "", BASE))
    (docker,) = [item for item in checklist(plain, ("azure",))["azure"] if item.name == "Docker for build"]
    assert "no login step" in docker.detail


def test_the_image_deployment_waits_for_the_model_only_where_the_image_serves_it(plan: Plan) -> None:
    assert "promote-model" not in plan.job("deploy-prod").needs
    serving = plan_of(BASE.replace("image: {name: app,", "image: {name: app, serves_model: true,"))
    # PROD deploys the image recorded on the champion: after the promotion decided which one that is
    assert serving.job("deploy-prod").needs[0] == "serving-image"
    assert {"model-gate", "promote-model"} <= rb.from_plan(serving).job("deploy-prod").after
    assert mismatches_of(serving) == {}


def test_jenkins_deploys_a_serving_image_only_after_the_model_passed() -> None:
    """A stage skipped by its `when` does not stop the stages after it: with promote-model skipped
    (failed gate), deploy-prod would still deploy the image serving the rejected model unless it
    tests the model stages' success itself."""
    serving = plan_of(BASE.replace("image: {name: app,", "image: {name: app, serves_model: true,"))
    text = get_backend("jenkins").render(serving)
    start = text.index("stage('deploy-prod')")
    end = text.index("options {", start)
    block = text[start:end]
    without = re.sub(r"\n *// Only after the model stages.*|\n *expression \{\n[^}]*\}", "", block)
    assert without != block
    found = problems(serving, "jenkins", text[:start] + without + text[end:])
    assert "deploy-prod.after: missing ['model-gate', 'train'], extra []" in found, found


def test_a_failed_model_stops_only_what_needs_it(plan: Plan) -> None:
    view = rb.from_plan(plan)
    assert not {"train", "model-gate"} & view.job("deploy-prod").after
    assert {"train", "model-gate"} <= view.job("promote-model").after
    assert {"build", "deploy-qa", "qa-check"} <= view.job("deploy-prod").after  # the rest of QA still holds PROD
    chain = {job.id for job in plan.jobs if not job.blocks_later_stages}
    assert chain == {"train", "model-gate"}


def mismatches_of(plan: Plan) -> dict[str, list[str]]:
    found = {target: problems(plan, target, get_backend(target).render(plan))
             for target in ("github", "gitlab", "azure", "jenkins")}
    return {target: found_ for target, found_ in found.items() if found_}


def test_pull_requests_run_pipegen_diff_in_the_test_stage_unless_switched_off(plan: Plan) -> None:
    workflow = yaml.load(get_backend("github").render(plan), Loader=yaml.BaseLoader)
    check = workflow["jobs"]["pipegen-check"]
    runs = [" ".join(step.get("run", "").replace("\\\n", " ").split()) for step in check["steps"]]
    assert ("set -euo pipefail pipegen diff --pull-requests-only --compare-branch origin/main "
            "--summary pipegen-reports/pipeline-diff.md") in runs
    assert check["steps"][0]["with"]["fetch-depth"] == "0"  # the merge base needs history
    assert any("pipegen-ci[diff]==" in run for run in runs)  # tree-sitter, to read the Jenkinsfile
    off = plan_of(BASE.replace("quality: {coverage", "quality: {pipeline_diff: false, coverage"))
    assert [step.title for step in off.job("pipegen-check").steps] == ["pipegen check"]
    no_prs = plan_of(BASE.replace("pull_requests: true", "pull_requests: false"))
    assert [step.title for step in no_prs.job("pipegen-check").steps] == ["pipegen check"]
