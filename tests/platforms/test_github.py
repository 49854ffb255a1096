"""GitHub Actions backend: parse the generated workflow and check its structure."""
from __future__ import annotations

import dataclasses
import json
import re
import shlex
from importlib import resources

import jsonschema
import pytest
import yaml

from conftest import plan_from_yaml
from platforms.install_lines import installed, pipegen_lines
from pipegen.plan.install import UV_VERSION
from pipegen.platforms.github.backend import GithubBackend
from pipegen.syntax import yaml_block, yaml_scalar
from pipegen.errors import UsageError
from pipegen.plan import Plan, RunWhen

BACKEND = GithubBackend()
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s+uses: (\S+)  # (v\d+\.\d+\.\d+)$")
TEST_JOBS = {"pipegen-check", "lint", "unit", "integration", "functional", "sonar"}
QA_JOBS = {"drift", "train", "model-gate", "build", "deploy-qa", "smoke-qa"}
PROD_JOBS = {"promote-model", "deploy-prod"}
MODEL_CHAIN = {"drift", "train", "model-gate"}
REPORT_JOBS = {"report-comment"}  # report.comment: the gate report, on pull requests
PROD_ONLY_ON_MAIN = "${{ github.ref == 'refs/heads/main' && github.event_name != 'pull_request' }}"
NOT_ON_PULL_REQUESTS = "${{ github.event_name != 'pull_request' }}"


def load(text: str) -> dict:
    """The workflow as data; PyYAML (YAML 1.1) reads the `on` key as True."""
    workflow = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True)
    return workflow


@pytest.fixture(scope="module")
def churn_text(churn_plan: Plan) -> str:
    return BACKEND.render(churn_plan)


@pytest.fixture(scope="module")
def churn(churn_text: str) -> dict:
    return load(churn_text)


@pytest.fixture(scope="module")
def minimal(minimal_plan: Plan) -> dict:
    return load(BACKEND.render(minimal_plan))


def steps_of(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def run_step(job: dict, name: str) -> dict:
    return next(step for step in job["steps"] if step.get("name") == name)


def ancestors(workflow: dict, job_id: str) -> set[str]:
    found: set[str] = set()
    pending = list(workflow["jobs"][job_id].get("needs", []))
    while pending:
        need = pending.pop()
        if need not in found:
            found.add(need)
            pending += workflow["jobs"][need].get("needs", [])
    return found


def command_flags(run: str, command: str) -> dict[str, list[str]]:
    """The flags of the `command` line in a step's shell, continuation lines joined."""
    words = shlex.split(run.replace("\\\n", " "))
    start = next(i for i in range(len(words)) if words[i:i + len(command.split())] == command.split())
    flags: dict[str, list[str]] = {}
    key = None
    for word in words[start + len(command.split()):]:
        if word.startswith("--"):
            key, _, value = word.partition("=")
            flags.setdefault(key, [])
            if value:
                flags[key].append(value)
        elif key is not None:
            flags[key].append(word)
    return flags


def workflow_schema() -> dict:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "github-workflows.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- validity


@pytest.mark.parametrize("name", ["churn", "minimal"])
def test_validates_against_check_jsonschema_vendored_schema(name, churn, minimal):
    workflow = {"churn": churn, "minimal": minimal}[name]
    jsonschema.validate(workflow, workflow_schema())


def test_render_is_deterministic(churn_plan, churn_text):
    assert BACKEND.render(churn_plan) == churn_text
    from conftest import CHURN  # pylint: disable=import-outside-toplevel
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel
    from pipegen.plan import build_plan  # pylint: disable=import-outside-toplevel

    example = build_plan(load_descriptor(CHURN))
    assert BACKEND.render(example) == BACKEND.render(build_plan(load_descriptor(CHURN)))


def test_backend_identity():
    assert (BACKEND.name, BACKEND.path, BACKEND.comment) == ("github", ".github/workflows/pipegen.yml", "#")


# ---------------------------------------------------------------------------- stages and graph


def test_churn_has_the_three_stages_in_order(churn, churn_text):
    assert set(churn["jobs"]) == TEST_JOBS | QA_JOBS | PROD_JOBS | REPORT_JOBS
    for job_id in QA_JOBS:
        assert TEST_JOBS <= ancestors(churn, job_id), job_id
    assert QA_JOBS <= ancestors(churn, "promote-model")
    # A failed model stops its promotion, not the image's deployment (the image does not serve it).
    assert ancestors(churn, "deploy-prod") & QA_JOBS == QA_JOBS - MODEL_CHAIN
    # the report runs last (after every other job), on pull requests only, also after failures
    assert ancestors(churn, "report-comment") == TEST_JOBS | QA_JOBS | PROD_JOBS
    assert churn["jobs"]["report-comment"]["if"] == "${{ always() && github.event_name == 'pull_request' }}"
    banners = [line.strip() for line in churn_text.splitlines() if line.strip().startswith("# ====")]
    assert banners == ["# ==== TEST ====", "# ==== QA ====", "# ==== PROD ====", "# ==== REPORT ===="]


def test_minimal_has_only_the_test_stage(minimal, minimal_plan):
    assert [stage.title for stage in minimal_plan.stages] == ["TEST"]
    assert set(minimal["jobs"]) == {"pipegen-check", "unit"}
    assert "needs" not in minimal["jobs"]["unit"]
    assert "environment" not in minimal["jobs"]["unit"]
    assert "# ==== QA ====" not in BACKEND.render(minimal_plan)


def test_lint_and_unit_run_in_parallel(churn):
    assert "lint" not in ancestors(churn, "unit")
    assert "unit" not in ancestors(churn, "lint")
    assert "needs" not in churn["jobs"]["lint"] and "needs" not in churn["jobs"]["unit"]


@pytest.mark.parametrize("job_id, need", [
    ("integration", "unit"), ("functional", "integration"), ("sonar", "functional"), ("model-gate", "train"),
    ("deploy-qa", "build"), ("smoke-qa", "deploy-qa"),
])
def test_direct_needs(churn, job_id, need):
    assert need in churn["jobs"][job_id]["needs"]


def test_needs_follow_plan_all_needs(churn, churn_plan):
    for job in churn_plan.jobs:
        assert churn["jobs"][job.id].get("needs", []) == list(churn_plan.all_needs(job))


# ---------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("producer, step_id, name, consumers", [
    ("train", "train", "MODEL_VERSION", ["model-gate", "promote-model"]),
    ("build", "image", "IMAGE_REF", ["deploy-qa", "deploy-prod"]),
])
def test_outputs_are_wired_natively(churn, producer, step_id, name, consumers):
    job = churn["jobs"][producer]
    assert job["outputs"] == {name: f"${{{{ steps.{step_id}.outputs.{name} }}}}"}
    producing = [step for step in job["steps"] if step.get("id") == step_id]
    assert len(producing) == 1 and "run" in producing[0]
    for consumer in consumers:
        assert producer in churn["jobs"][consumer]["needs"], consumer
        assert churn["jobs"][consumer]["env"][name] == f"${{{{ needs.{producer}.outputs.{name} }}}}"


def test_qa_outputs_reach_prod(churn):
    assert churn["jobs"]["promote-model"]["env"]["MODEL_VERSION"] == "${{ needs.train.outputs.MODEL_VERSION }}"
    assert churn["jobs"]["deploy-prod"]["env"]["IMAGE_REF"] == "${{ needs.build.outputs.IMAGE_REF }}"


def test_every_output_reference_is_a_direct_need_that_publishes_it(churn):
    reference = re.compile(r"needs\.([a-z0-9-]+)\.outputs\.([A-Za-z0-9_]+)")
    for job_id, job in churn["jobs"].items():
        values = list(job.get("env", {}).values()) + [v for s in job["steps"] for v in s.get("env", {}).values()]
        for producer, name in (m.groups() for value in values for m in reference.finditer(value)):
            assert producer in job["needs"], (job_id, producer)
            assert name in churn["jobs"][producer]["outputs"], (job_id, name)


# ---------------------------------------------------------------------------- approvals and conditions


def test_prod_runs_in_the_prod_environment_only_on_main(churn):
    for job_id in PROD_JOBS:
        job = churn["jobs"][job_id]
        assert job["environment"] == "prod"
        assert job["if"] == PROD_ONLY_ON_MAIN
    assert churn["jobs"]["deploy-qa"]["environment"] == "qa"
    for job_id in ("build", "deploy-qa", "smoke-qa", "train", "model-gate"):
        assert churn["jobs"][job_id]["if"] == NOT_ON_PULL_REQUESTS
    for job_id in TEST_JOBS:
        assert "if" not in churn["jobs"][job_id]
        assert "environment" not in churn["jobs"][job_id]


def test_model_gate_runs_in_auto_mode(churn):
    flags = command_flags(run_step(churn["jobs"]["model-gate"], "Model gate")["run"], "pipegen gate model")
    assert flags["--mode"] == ["auto"]


def test_branch_names_are_escaped_for_the_expression_language(churn_plan):
    jobs = {job.id: dataclasses.replace(job, branch="it's") if job.run_when is RunWhen.BRANCH else job
            for job in churn_plan.jobs}
    stages = tuple(dataclasses.replace(stage, jobs=tuple(jobs[job.id] for job in stage.jobs))
                   for stage in churn_plan.stages)
    workflow = load(BACKEND.render(dataclasses.replace(churn_plan, stages=stages)))
    assert workflow["jobs"]["deploy-prod"]["if"] == (
        "${{ github.ref == 'refs/heads/it''s' && github.event_name != 'pull_request' }}")


# ---------------------------------------------------------------------------- triggers


def test_churn_triggers(churn, churn_plan):
    on = churn["on"]
    assert on["push"]["branches"] == ["main"]
    assert on["push"]["paths"][0] == "data/**"
    assert on["push"]["paths"] == [*churn_plan.triggers.watched_paths, ".github/workflows/pipegen.yml"]
    assert on["pull_request"] == {"branches": ["main"]}
    assert on["schedule"] == [{"cron": "0 3 * * 1"}]
    assert on["workflow_dispatch"] == {}


def test_minimal_triggers_have_no_path_filter_or_schedule(minimal):
    assert minimal["on"] == {"push": {"branches": ["main"]}, "pull_request": {"branches": ["main"]},
                             "workflow_dispatch": {}}


def test_no_pull_request_trigger_when_disabled():
    plan = plan_from_yaml("""
        project: {name: lib, python: "3.12"}
        targets: [github]
        triggers: {branches: [main, release], pull_requests: false}
        tests: {unit: tests}
    """)
    workflow = load(BACKEND.render(plan))
    assert "pull_request" not in workflow["on"]
    assert workflow["on"]["push"]["branches"] == ["main", "release"]


def test_superseded_pull_request_runs_are_cancelled(churn):
    assert churn["concurrency"] == {"group": "${{ github.workflow }}-${{ github.ref }}",
                                    "cancel-in-progress": "${{ github.event_name == 'pull_request' }}"}


# ---------------------------------------------------------------------------- gates


def test_coverage_gate_carries_the_descriptor_thresholds(churn):
    flags = command_flags(run_step(churn["jobs"]["functional"], "Coverage gate")["run"], "pipegen gate coverage")
    assert flags["--min"] == ["80"] and flags["--diff-min"] == ["90"]
    assert flags["--report"] == ["coverage.xml"] and flags["--compare-branch"] == ["origin/main"]


def test_lint_gate_carries_the_descriptor_thresholds(churn):
    flags = command_flags(run_step(churn["jobs"]["lint"], "Lint gate")["run"], "pipegen gate lint")
    assert flags["--min-score"] == ["8.5"] and flags["--max-issues"] == ["0"]


def test_sonar_and_model_gates_carry_the_descriptor_settings(churn):
    sonar = command_flags(run_step(churn["jobs"]["sonar"], "Sonar gate")["run"], "pipegen gate sonar")
    assert sonar["--timeout"] == ["300"]
    model = command_flags(run_step(churn["jobs"]["model-gate"], "Model gate")["run"], "pipegen gate model")
    assert model["--metric"] == ["auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005",
                                 "log_loss:greater_is_better=false,min_relative_change=0.01"]
    assert model["--model-name"] == ["churn-classifier"] and model["--champion-alias"] == ["champion"]


def test_reports_are_kept_even_when_the_job_fails(churn, churn_plan):
    names = []
    for job in churn_plan.jobs:
        uploads = [step for step in churn["jobs"][job.id]["steps"] if step.get("if") == "${{ always() }}"
                   and step.get("uses", "").startswith("actions/upload-artifact@")]
        if not (job.junit or job.artifacts):
            assert not uploads, job.id
            continue
        assert len(uploads) == 1, job.id
        paths = uploads[0]["with"]["path"].splitlines()
        for junit in job.junit:
            assert any(junit == path or junit.startswith(path + "/") for path in paths), (job.id, junit)
        names.append(uploads[0]["with"]["name"])
    assert len(names) == len(set(names))


def test_coverage_is_handed_from_the_last_level_to_sonar(churn):
    upload = next(step for step in churn["jobs"]["functional"]["steps"]
                  if step.get("with", {}).get("name") == "handover-functional")
    assert upload["uses"].startswith("actions/upload-artifact@") and "if" not in upload
    assert upload["with"]["path"] == "coverage.xml"
    unit_data = next(step for step in churn["jobs"]["unit"]["steps"]
                     if step.get("with", {}).get("name") == "handover-unit")
    assert unit_data["with"]["path"] == "pipegen-coverage/unit.coverage"
    sonar_steps = churn["jobs"]["sonar"]["steps"]
    download = next(i for i, step in enumerate(sonar_steps)
                    if step.get("uses", "").startswith("actions/download-artifact@"))
    scanner = next(i for i, step in enumerate(sonar_steps)
                   if step.get("run", "").startswith("set -euo pipefail\npysonar"))
    assert sonar_steps[download]["with"] == {"name": "handover-functional", "path": "."}
    assert download < scanner


# ---------------------------------------------------------------------------- security


def test_every_action_is_pinned_to_a_commit_with_a_version_comment(churn_text, churn):
    uses = [step["uses"] for step in steps_of(churn) if "uses" in step]
    assert uses and all(SHA_PIN.match(ref) for ref in uses)
    lines = [line for line in churn_text.splitlines() if line.strip().startswith("uses:")]
    assert len(lines) == len(uses) and all(USES_LINE.match(line) for line in lines)


def test_least_privilege(churn, minimal):
    for workflow in (churn, minimal):
        assert workflow["permissions"] == {}
        for job_id, job in workflow["jobs"].items():
            if job_id == "report-comment":  # writes its one comment with the job's own token
                assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
            else:
                assert job["permissions"] == {"contents": "read"}, job_id


def test_checkouts_do_not_persist_credentials(churn):
    for job_id, job in churn["jobs"].items():
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"]["persist-credentials"] is False
        # pipegen-check: `pipegen diff` finds the merge base with the compare branch
        assert ("fetch-depth" in checkout["with"]) == (job_id in {"functional", "sonar", "pipegen-check"})
    assert churn["jobs"]["functional"]["steps"][0]["with"]["fetch-depth"] == 0


def test_no_expressions_in_scripts_and_secrets_only_through_env(churn):
    for job in churn["jobs"].values():
        assert "secrets." not in json.dumps(job.get("env", {}))
        for step in job["steps"]:
            assert "${{" not in step.get("run", "")
            assert "secrets." not in json.dumps(step.get("with", {}))
            for name, value in step.get("env", {}).items():
                if "secrets." in value:
                    assert value == f"${{{{ secrets.{name} }}}}" or (name, value) == (
                        "PIPEGEN_REPORT_TOKEN", "${{ secrets.GITHUB_TOKEN }}")  # the report job's own token
    with_job_token = [(job_id, step["name"]) for job_id, job in churn["jobs"].items() for step in job["steps"]
                      if "GITHUB_TOKEN" in json.dumps(step)]
    assert with_job_token == [("report-comment", "Post or update the report comment")]
    sonar = churn["jobs"]["sonar"]
    secret_steps = [step for step in sonar["steps"] if "env" in step]
    assert secret_steps and all(step["env"] == {"SONAR_TOKEN": "${{ secrets.SONAR_TOKEN }}"} for step in secret_steps)
    assert all("run" in step for step in secret_steps)  # never handed to an action or the install step
    # the CI variable that sets the mode of a gate the descriptor gives none, as on the other platforms
    assert sonar["env"] == {"SONAR_HOST_URL": "${{ vars.SONAR_HOST_URL }}",
                            "PIPEGEN_GATE_MODE": "${{ vars.PIPEGEN_GATE_MODE }}"}


def test_every_job_and_step_is_named_and_times_out(churn, churn_plan):
    assert churn["name"] and churn["defaults"] == {"run": {"shell": "bash"}}
    for job in churn_plan.jobs:
        rendered = churn["jobs"][job.id]
        assert rendered["name"] == job.title
        assert rendered["timeout-minutes"] == job.timeout_minutes > 0
        assert rendered["runs-on"] == "ubuntu-latest"
        assert all(step.get("name") for step in rendered["steps"])


def test_multi_line_scripts_run_strictly(churn):
    for step in steps_of(churn):
        if "\n" in step.get("run", "").rstrip("\n"):
            assert step["run"].startswith("set -euo pipefail\n"), step["name"]


def _setup(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


def test_uv_and_its_cache_are_set_up_except_in_jobs_that_publish(churn):
    for job_id, job in churn["jobs"].items():
        python = _setup(job, "actions/setup-python")
        if not python:
            assert job_id in {"deploy-qa", "deploy-prod"} and not _setup(job, "astral-sh/setup-uv")
            continue
        assert python[0]["with"] == {"python-version": "3.11"}  # pip installs nothing: no pip cache
        (uv,) = _setup(job, "astral-sh/setup-uv")
        inputs = uv["with"]
        assert inputs["version"] == UV_VERSION
        if job_id in {"build", "promote-model"}:
            assert inputs["enable-cache"] is False and "cache-dependency-glob" not in inputs
        else:
            assert inputs["enable-cache"] is True and inputs["cache-suffix"] == job_id  # one cache per install set
            assert inputs["cache-dependency-glob"].splitlines()[-1] == ".github/workflows/pipegen.yml"
    lint_keys = _setup(churn["jobs"]["lint"], "astral-sh/setup-uv")[0]["with"]["cache-dependency-glob"].splitlines()
    assert lint_keys[:-1] == ["requirements.txt", "requirements-test.txt", "requirements-dev.txt", "pyproject.toml"]


def test_pip_as_the_installer_keeps_setup_pythons_pip_cache(churn_pip_plan):
    workflow = load(BACKEND.render(churn_pip_plan))
    lint = workflow["jobs"]["lint"]
    assert not _setup(lint, "astral-sh/setup-uv")
    inputs = _setup(lint, "actions/setup-python")[0]["with"]
    assert inputs["cache"] == "pip"
    assert inputs["cache-dependency-path"].splitlines() == ["requirements.txt", "requirements-dev.txt",
                                                            ".github/workflows/pipegen.yml"]


def test_install_step_installs_requirements_and_packages(churn, churn_plan):
    for job in churn_plan.jobs:
        steps = [step for step in churn["jobs"][job.id]["steps"] if step["name"] == "Install dependencies"]
        if not (job.python and job.install_commands()):
            assert not steps
            continue
        script = steps[0]["run"]
        found = installed(script)
        assert found["requirements"] == list(job.requirements)
        assert found["packages"] == list(job.pip_packages)
        assert found["editable"] == (["."] if job.editable else [])
        # pipegen is never installed into the project's Python, only into its own venv.
        assert [words[-1] for words in pipegen_lines(script)] == ([job.pipegen] if job.pipegen else [])
        assert installed(script, "pipegen")["packages"] == ([job.pipegen] if job.pipegen else [])
        assert "env" not in steps[0]


# ---------------------------------------------------------------------------- escaping and refusals


HOSTILE = """
    project: {name: "it's: #1", python: "3.12"}
    targets: [github]
    triggers: {branches: [main]}
    tests: {unit: tests}
    jobs:
      - name: odd
        title: "Say 'hi': #now \\"quoted\\""
        stage: test
        needs: [unit]
        run: |
          echo 'one: two' # comment
          printf '%s\\n' "$GREETING" "{{ not jinja }}"
        env: {GREETING: "yes", OCTAL: "0o17", FLOAT: "1e3", TEXT: "a: b"}
        outputs: [ODD_VALUE]
      - name: reader
        stage: test
        needs: [odd]
        inputs: [ODD_VALUE]
        run: echo "$ODD_VALUE"
"""


def test_descriptor_strings_parse_back_exactly():
    plan = plan_from_yaml(HOSTILE)
    workflow = load(BACKEND.render(plan))
    jobs_by_id = {job.id: job for job in plan.jobs}
    odd = workflow["jobs"]["odd"]
    assert workflow["name"] == "it's: #1 (pipegen)"
    assert odd["name"] == jobs_by_id["odd"].title
    assert odd["env"] == {"FLOAT": "1e3", "GREETING": "yes", "OCTAL": "0o17", "TEXT": "a: b"}
    script = next(step for step in odd["steps"] if step.get("id") == "run")["run"]
    assert script == "set -euo pipefail\n" + jobs_by_id["odd"].steps[0].run
    assert odd["outputs"] == {"ODD_VALUE": "${{ steps.run.outputs.ODD_VALUE }}"}
    assert workflow["jobs"]["reader"]["env"] == {"ODD_VALUE": "${{ needs.odd.outputs.ODD_VALUE }}"}
    jsonschema.validate(workflow, workflow_schema())


@pytest.mark.parametrize("value", ["0o17", "1e3", "1E5", "true", "null", "~", ".inf", "12"])
def test_yaml_12_non_strings_are_quoted(value):
    assert yaml_scalar(value) == f"'{value}'"
    assert yaml_block(value, 10) == f"'{value}'"


def with_first_step(plan: Plan, **changes) -> Plan:
    """The plan with its first job's first step changed (plans normally come from a checked descriptor)."""
    first = plan.stages[0].jobs[0]
    job = dataclasses.replace(first, steps=(dataclasses.replace(first.steps[0], **changes), *first.steps[1:]))
    stage = dataclasses.replace(plan.stages[0], jobs=(job, *plan.stages[0].jobs[1:]))
    return dataclasses.replace(plan, stages=(stage, *plan.stages[1:]))


@pytest.mark.parametrize("changes", [{"run": "echo ${{ secrets.X }}"}, {"title": "Deploy ${{ github.actor }}"}])
def test_expressions_in_plan_text_are_refused(minimal_plan, changes):
    with pytest.raises(UsageError, match="evaluates as an expression"):
        BACKEND.render(with_first_step(minimal_plan, **changes))


# ---------------------------------------------------------------------------- checklist


def test_checklist_names_everything_configured_outside_the_file(churn_plan):
    items = {(item.kind, item.name): item.detail for item in BACKEND.checklist(churn_plan)}
    assert ("secret", "SONAR_TOKEN") in items
    assert {name for kind, name in items if kind == "variable"} == {"SONAR_HOST_URL", "MLFLOW_TRACKING_URI",
                                                                    "REGISTRY"}
    prod = items[("environment", "prod")]
    assert "required reviewers: release-managers" in prod and "deployment branches: selected branches main" in prod
    assert "required reviewers" not in items[("environment", "qa")]
    assert ("schedule", "0 3 * * 1") in items
    assert "build" in items[("other", "docker")]


def test_minimal_checklist_is_empty(minimal_plan):
    assert not BACKEND.checklist(minimal_plan)


# ---------------------------------------------------------------------------- variants


def test_release_branch_workflows_restore_no_cache():
    plan = plan_from_yaml("""
        project: {name: lib, python: "3.12", requirements: {test: requirements-test.txt}}
        targets: [github]
        triggers: {branches: [main, "release/*"]}
        tests: {unit: tests}
    """)
    workflow = load(BACKEND.render(plan))
    setup = [step for step in steps_of(workflow) if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup and all("cache" not in step["with"] for step in setup)


@pytest.mark.parametrize("paths, root", [
    (("coverage.xml",), "."), (("reports/coverage.xml",), "reports"), (("a/b/x.xml", "a/c/y.xml"), "a"),
    (("a/x.xml", "b/y.xml"), "."), (("a/x.xml", "y.xml"), "."),
])
def test_handed_over_files_land_where_they_were(paths, root):
    from pipegen.platforms.github.backend import _download_root  # pylint: disable=import-outside-toplevel

    assert _download_root(paths) == root


def test_deploy_secrets_stay_on_the_deploy_step_and_checklist_suggests_environment_secrets():
    plan = plan_from_yaml("""
        project: {name: app, python: "3.12"}
        targets: [github]
        tests: {unit: tests}
        image: {name: app, registry_var: REG}
        environments:
          qa: {deploy: ./deploy.sh qa, secrets: [QA_KEY], variables: [QA_URL]}
          prod: {deploy: ./deploy.sh prod, branch: main, approval: {approvers: [alice]}, secrets: [PROD_KEY]}
    """)
    workflow = load(BACKEND.render(plan))
    deploy_qa = workflow["jobs"]["deploy-qa"]
    assert deploy_qa["env"] == {"IMAGE_REF": "${{ needs.build.outputs.IMAGE_REF }}", "QA_URL": "${{ vars.QA_URL }}"}
    assert run_step(deploy_qa, "Deploy to QA")["env"] == {"QA_KEY": "${{ secrets.QA_KEY }}"}
    assert workflow["jobs"]["deploy-prod"]["environment"] == "prod"
    items = {(item.kind, item.name): item.detail for item in BACKEND.checklist(plan)}
    assert "secret of the environment(s) prod" in items[("secret", "PROD_KEY")]
    assert "required reviewers: alice" in items[("environment", "prod")]
    jsonschema.validate(workflow, workflow_schema())
