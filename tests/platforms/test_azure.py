"""Azure Pipelines backend: the generated file is parsed and its structure asserted."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import plan_from_yaml
from pipegen.platforms.azure.backend import AzureBackend
from pipegen.plan import Plan
from pipegen.generate.render import render_file

BACKEND = AzureBackend()
PREAMBLE = "set -euo pipefail\n"
NOT_PR = "and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))"
ON_MAIN = "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))"
AZURE_MACRO = re.compile(r"\$\([A-Za-z0-9_.]+\)")


def render(plan: Plan) -> dict:
    return yaml.safe_load(BACKEND.render(plan))


@pytest.fixture(scope="module")
def churn(churn_plan: Plan) -> dict:
    return render(churn_plan)


@pytest.fixture(scope="module")
def minimal(minimal_plan: Plan) -> dict:
    return render(minimal_plan)


def stages(doc: dict) -> dict[str, dict]:
    return {stage["stage"]: stage for stage in doc["stages"]}


def jobs(doc: dict) -> dict[str, dict]:
    """Azure job name -> job mapping (regular and deployment jobs), with its stage under '_stage'."""
    found = {}
    for stage in doc["stages"]:
        for job in stage["jobs"]:
            name = job.get("job") or job["deployment"]
            found[name] = {**job, "_stage": stage["stage"]}
    return found


def steps(job: dict) -> list[dict]:
    if "deployment" in job:
        return job["strategy"]["runOnce"]["deploy"]["steps"]
    return job["steps"]


def bash_steps(job: dict) -> list[dict]:
    return [step for step in steps(job) if "bash" in step]


def all_jobs_steps(doc: dict):
    for job in jobs(doc).values():
        for step in steps(job):
            yield job, step


def depends_on(item: dict) -> list[str]:
    value = item.get("dependsOn", [])
    return [value] if isinstance(value, str) else list(value)


def command_flags(script: str, command: str) -> dict[str, list[str]]:
    """Flags of the line starting with `command` (continuations joined): --flag -> values."""
    joined = script.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if line.strip().startswith(command))
    words = shlex.split(line)[len(shlex.split(command)):]
    flags: dict[str, list[str]] = {}
    current = None
    for word in words:
        if word.startswith("--"):
            current = word
            flags.setdefault(word, [])
        elif current is not None:
            flags[current].append(word)
    return flags


def step_running(job: dict, command: str) -> dict:
    return next(step for step in bash_steps(job) if command in step["bash"])


# ---------------------------------------------------------------------------- stages and jobs


def test_stages_of_the_reference_and_the_minimal_descriptor(churn: dict, minimal: dict) -> None:
    assert [stage["stage"] for stage in churn["stages"]] == ["TEST", "QA", "PROD", "REPORT"]
    assert [stage["stage"] for stage in minimal["stages"]] == ["TEST"]
    # the churn example's gate report: last, on pull requests only, also after a failed stage
    report = stages(churn)["REPORT"]
    assert depends_on(report) == ["PROD"]
    assert report["condition"] == "and(always(), eq(variables['Build.Reason'], 'PullRequest'))"
    assert [job["job"] for job in report["jobs"]] == ["report_comment"]
    # System.AccessToken reaches the posting step only, in no other step of the pipeline
    with_token = [step for stage in churn["stages"] for job in stage["jobs"] for step in steps(job)
                  if "System.AccessToken" in json.dumps(step)]
    assert [step["displayName"] for step in with_token] == ["Post or update the report comment"]
    assert with_token[0]["env"] == {"PIPEGEN_REPORT_TOKEN": "$(System.AccessToken)"}
    fetch = next(step for step in steps(report["jobs"][0]) if step.get("task") == "DownloadPipelineArtifact@2")
    assert fetch["inputs"]["itemPattern"] == "**/*.md"  # the gates' Markdown, nothing else
    assert list(jobs(minimal)) == ["pipegen_check", "unit"]


def test_stages_depend_explicitly_on_the_previous_stage(churn: dict) -> None:
    by_id = stages(churn)
    assert depends_on(by_id["TEST"]) == []
    assert depends_on(by_id["QA"]) == ["TEST"]
    assert depends_on(by_id["PROD"]) == ["QA"]
    for stage in churn["stages"]:
        assert stage["displayName"]


def test_job_graph_inside_stages(churn: dict) -> None:
    by_name = jobs(churn)
    assert depends_on(by_name["lint"]) == []
    assert depends_on(by_name["unit"]) == []
    assert depends_on(by_name["integration"]) == ["unit"]
    assert depends_on(by_name["functional"]) == ["unit", "integration"]
    assert depends_on(by_name["sonar"]) == ["functional"]
    assert depends_on(by_name["model_gate"]) == ["train", "drift"]  # drift: it fetches the drift report
    assert depends_on(by_name["deploy_qa"]) == ["build"]
    assert depends_on(by_name["smoke_qa"]) == ["deploy_qa"]  # reads no output: build only through deploy-qa
    # Stage entry jobs wait for the stage, never for jobs of another stage.
    assert depends_on(by_name["train"]) == ["drift"]  # data.drift: the drift gate first
    assert depends_on(by_name["drift"]) == depends_on(by_name["build"]) == []
    assert depends_on(by_name["promote_model"]) == depends_on(by_name["deploy_prod"]) == []


def test_job_names_are_azure_identifiers(churn: dict) -> None:
    for name in jobs(churn):
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
    for stage in churn["stages"]:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stage["stage"])


def test_every_job_has_a_timeout(churn: dict, churn_plan: Plan) -> None:
    by_name = jobs(churn)
    for job in churn_plan.jobs:
        assert int(by_name[job.id.replace("-", "_")]["timeoutInMinutes"]) == job.timeout_minutes > 0


# ---------------------------------------------------------------------------- outputs


def test_outputs_produced_by_named_steps(churn: dict) -> None:
    by_name = jobs(churn)
    assert [step["name"] for step in bash_steps(by_name["train"]) if "name" in step] == ["train"]
    image = step_running(by_name["build"], "pipegen output set IMAGE_REF")
    assert image["name"] == "image"
    assert "set -x" not in image["bash"]


def test_outputs_consumed_in_the_same_stage(churn: dict) -> None:
    by_name = jobs(churn)
    gate = by_name["model_gate"]
    assert gate["variables"] == {"MODEL_VERSION": "$[ dependencies.train.outputs['train.MODEL_VERSION'] ]",
                                 "DATA_DRIFT": "$[ dependencies.drift.outputs['drift.DATA_DRIFT'] ]"}
    assert "train" in depends_on(gate)
    assert step_running(gate, "pipegen gate model")["env"]["MODEL_VERSION"] == "$(MODEL_VERSION)"
    deploy = by_name["deploy_qa"]
    assert deploy["variables"] == {"IMAGE_REF": "$[ dependencies.build.outputs['image.IMAGE_REF'] ]"}
    assert "build" in depends_on(deploy)
    assert step_running(deploy, "./deploy.sh qa")["env"]["IMAGE_REF"] == "$(IMAGE_REF)"


def test_outputs_from_qa_consumed_in_prod(churn: dict) -> None:
    by_name = jobs(churn)
    assert "QA" in depends_on(stages(churn)["PROD"])
    promote = by_name["promote_model"]
    assert promote["variables"] == {
        "MODEL_VERSION": "$[ stageDependencies.QA.train.outputs['train.MODEL_VERSION'] ]"}
    assert step_running(promote, "pipegen model promote")["env"]["MODEL_VERSION"] == "$(MODEL_VERSION)"
    deploy = by_name["deploy_prod"]
    assert deploy["variables"] == {"IMAGE_REF": "$[ stageDependencies.QA.build.outputs['image.IMAGE_REF'] ]"}
    assert step_running(deploy, "./deploy.sh prod")["env"]["IMAGE_REF"] == "$(IMAGE_REF)"


def test_output_of_a_deployment_job_is_prefixed_with_its_job_name() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        environments:
          prod: {deploy: ./deploy.sh}
        jobs:
          - {name: release-notes, stage: prod, run: pipegen output set NOTES_URL https://x, outputs: [NOTES_URL]}
          - {name: announce, stage: prod, run: ./announce.sh "$NOTES_URL", inputs: [NOTES_URL]}
    """)
    by_name = jobs(render(plan))
    assert "deployment" in by_name["release_notes"]
    assert [step["name"] for step in bash_steps(by_name["release_notes"]) if "name" in step] == ["run"]
    assert by_name["announce"]["variables"] == {
        "NOTES_URL": "$[ dependencies.release_notes.outputs['release_notes.run.NOTES_URL'] ]"}
    assert depends_on(by_name["announce"]) == ["release_notes"]


def test_output_read_two_stages_later_adds_the_producer_stage_to_depends_on() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        environments:
          qa: {deploy: ./deploy.sh qa}
        jobs:
          - {name: version, stage: test, run: pipegen output set APP_VERSION 1.2.3, outputs: [APP_VERSION]}
          - {name: tag, stage: prod, run: ./tag.sh "$APP_VERSION", inputs: [APP_VERSION]}
    """)
    doc = render(plan)
    assert depends_on(stages(doc)["PROD"]) == ["TEST", "QA"]
    assert jobs(doc)["tag"]["variables"] == {
        "APP_VERSION": "$[ stageDependencies.TEST.version.outputs['run.APP_VERSION'] ]"}


# ---------------------------------------------------------------------------- approvals, conditions


def test_prod_jobs_are_deployment_jobs_in_the_prod_environment(churn: dict) -> None:
    by_name = jobs(churn)
    for name in ("promote_model", "deploy_prod"):
        job = by_name[name]
        assert job["deployment"] == name
        assert job["environment"] == "prod"
        job_steps = steps(job)
        assert job_steps[0]["checkout"] == "self"  # deployment jobs do not check out by themselves
        assert {"download": "none"} in job_steps
    assert by_name["deploy_qa"]["environment"] == "qa"
    assert "job" in by_name["build"] and "environment" not in by_name["build"]


def test_prod_runs_only_on_main_and_needs_approval(churn: dict, churn_plan: Plan) -> None:
    assert stages(churn)["PROD"]["condition"] == ON_MAIN
    items = {(item.kind, item.name): item.detail for item in BACKEND.checklist(churn_plan)}
    prod = items[("environment", "prod")]
    assert "Approvals" in prod and "release-managers" in prod and "1440" in prod
    assert "Branch control" in prod and "refs/heads/main" in prod
    assert ("environment", "qa") in items


def test_deployments_and_the_build_skip_pull_requests(churn: dict) -> None:
    by_name = jobs(churn)
    # Pull requests never train (their code would write to the production registry); the drift
    # report still runs on them, so the QA stage runs and its other jobs skip pull requests.
    assert "condition" not in stages(churn)["QA"] and "condition" not in by_name["drift"]
    # ... and each runs only after the model jobs it needs really succeeded: the model's chain
    # continues on error (SucceededWithIssues), so `succeeded()` alone would not say it.
    needed = {"train": ["drift"], "model_gate": ["train", "drift"]}
    for name, needs in needed.items():
        checks = "".join(f", eq(dependencies.{need}.result, 'Succeeded')" for need in needs)
        assert by_name[name]["condition"] == NOT_PR[:-1] + checks + ")"
        assert by_name[name]["continueOnError"] == "true"
    assert "continueOnError" not in by_name["build"] and "continueOnError" not in by_name["deploy_qa"]
    for name in ("lint", "unit"):
        assert "condition" not in by_name[name]
    assert "condition" not in stages(churn)["TEST"]


def test_checklist_warns_when_an_approval_guards_a_stage_that_runs_on_pull_requests() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        tests: {unit: tests}
        environments:
          test: {deploy: ./deploy.sh test, approval: {approvers: [qa-team]}}
    """)
    [item] = [item for item in BACKEND.checklist(plan) if item.kind == "environment"]
    assert "qa-team" in item.detail and "before job conditions" in item.detail


def test_prod_branch_glob_becomes_a_prefix_test() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        environments:
          prod: {deploy: ./deploy.sh, branch: "release/*"}
    """)
    condition = stages(render(plan))["PROD"]["condition"]
    assert condition == "and(succeeded(), startsWith(variables['Build.SourceBranch'], 'refs/heads/release/'))"


def test_model_gate_runs_in_auto_mode(churn: dict) -> None:
    flags = command_flags(step_running(jobs(churn)["model_gate"], "pipegen gate model")["bash"], "pipegen gate model")
    assert flags["--mode"] == ["auto"]
    assert flags["--metric"] == ["auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005",
                                 "log_loss:greater_is_better=false,min_relative_change=0.01"]


# ---------------------------------------------------------------------------- triggers


def test_triggers_of_the_reference_descriptor(churn: dict, churn_plan: Plan) -> None:
    assert churn["trigger"]["branches"]["include"] == ["main"]
    assert churn["trigger"]["paths"]["include"] == list(churn_plan.triggers.watched_paths)
    assert "data/**" in churn["trigger"]["paths"]["include"]
    assert churn["pr"]["branches"]["include"] == ["main"]
    assert "paths" not in churn["pr"]  # pull requests always run
    assert churn["pr"]["autoCancel"] == "true"
    [schedule] = churn["schedules"]
    assert schedule["cron"] == "0 3 * * 1"
    assert schedule["branches"]["include"] == ["main"]
    assert schedule["displayName"]


def test_triggers_without_data_paths_or_schedule(minimal: dict) -> None:
    assert "paths" not in minimal["trigger"]
    assert "schedules" not in minimal


def test_no_pull_request_trigger_when_disabled() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        triggers: {branches: [main, develop], pull_requests: false}
        tests: {unit: tests}
    """)
    doc = render(plan)
    assert doc["pr"] == "none"
    assert doc["trigger"]["branches"]["include"] == ["main", "develop"]


# ---------------------------------------------------------------------------- gates, reports, caches


def test_gate_thresholds_are_the_descriptors(churn: dict) -> None:
    by_name = jobs(churn)
    coverage = command_flags(step_running(by_name["functional"], "pipegen gate coverage")["bash"],
                             "pipegen gate coverage")
    assert coverage["--min"] == ["80"] and coverage["--diff-min"] == ["90"]
    lint = command_flags(step_running(by_name["lint"], "pipegen gate lint")["bash"], "pipegen gate lint")
    assert lint["--min-score"] == ["8.5"] and lint["--max-issues"] == ["0"]
    sonar = command_flags(step_running(by_name["sonar"], "pipegen gate sonar")["bash"], "pipegen gate sonar")
    assert sonar["--timeout"] == ["300"]


def test_junit_and_reports_are_kept_even_when_the_job_fails(churn: dict, churn_plan: Plan) -> None:
    by_name = jobs(churn)
    for job in churn_plan.jobs:
        tasks = [step for step in steps(by_name[job.id.replace("-", "_")]) if "task" in step]
        results = [step for step in tasks if step["task"] == "PublishTestResults@2"]
        artifacts = [step for step in tasks if step["task"] == "PublishPipelineArtifact@1"
                     and step.get("condition") == "succeededOrFailed()"]
        if job.junit:
            [published] = results
            assert published["condition"] == "succeededOrFailed()"
            assert published["inputs"]["testResultsFormat"] == "JUnit"
            assert published["inputs"]["testResultsFiles"].splitlines() == list(job.junit)
        else:
            assert not results
        assert [step["inputs"]["targetPath"] for step in artifacts] == list(job.artifacts)


def test_last_level_hands_coverage_over_to_sonar(churn: dict) -> None:
    by_name = jobs(churn)
    publish = [step for step in steps(by_name["functional"])
               if step.get("inputs", {}).get("artifact") == "functional-handover"]
    assert len(publish) == 1
    sonar_steps = steps(by_name["sonar"])
    download = next(i for i, step in enumerate(sonar_steps) if step.get("task") == "DownloadPipelineArtifact@2")
    assert sonar_steps[download]["inputs"]["artifactName"] == "functional-handover"
    scanner = next(i for i, step in enumerate(sonar_steps) if "--sonar-project-key" in step.get("bash", ""))
    assert download < scanner


def test_python_setup_with_uv_cache(churn: dict, churn_plan: Plan) -> None:
    assert churn["variables"]["UV_CACHE_DIR"] == "$(Pipeline.Workspace)/.uv-cache"
    by_name = jobs(churn)
    for job in churn_plan.jobs:
        tasks = [step for step in steps(by_name[job.id.replace("-", "_")]) if "task" in step]
        python = [step for step in tasks if step["task"] == "UsePythonVersion@0"]
        cache = [step for step in tasks if step["task"] == "Cache@2"]
        if job.python:
            assert python[0]["inputs"]["versionSpec"] == "3.11"
            assert cache[0]["inputs"]["path"] == "$(UV_CACHE_DIR)"
            assert cache[0]["inputs"]["key"].startswith('uv | "$(Agent.OS)" | "python-3.11"')
        else:
            assert not python and not cache
    install = step_running(by_name["lint"], "pip install --python python")["bash"]
    lines = install.replace("\\\n", " ").split("\n")
    project = next(line for line in lines if line.startswith('"$uv" pip install --python python'))
    assert shlex.split(project)[5:] == ["-r", "requirements.txt", "-r", "requirements-dev.txt",
                                        "pylint>=3.2,<5", "flake8>=7,<8"]
    (pipegen,) = [line for line in lines if "pipegen-ci" in line]
    assert "$pipegen_home/venv/bin/python" in shlex.split(pipegen)  # into its own venv


def test_pip_as_the_installer_keeps_pips_cache(churn_pip_plan: Plan) -> None:
    pipeline = render(churn_pip_plan)
    assert "UV_CACHE_DIR" not in pipeline["variables"]
    lint = jobs(pipeline)["lint"]
    (cache,) = [step for step in steps(lint) if step.get("task") == "Cache@2"]
    assert cache["inputs"]["path"] == "$(PIP_CACHE_DIR)" and cache["inputs"]["key"].startswith("pip |")
    install = step_running(lint, "python -m pip install")["bash"]
    assert "$uv" not in install


def test_full_history_only_where_needed(churn: dict) -> None:
    depth = {name: steps(job)[0]["fetchDepth"] for name, job in jobs(churn).items()}
    assert depth["functional"] == depth["sonar"] == "0"
    assert depth["lint"] == depth["train"] == "1"
    for job in jobs(churn).values():
        assert steps(job)[0]["persistCredentials"] == "false"


# ---------------------------------------------------------------------------- security, determinism


def test_every_task_is_pinned_to_a_major_version(churn: dict) -> None:
    for _, step in all_jobs_steps(churn):
        if "task" in step:
            assert re.fullmatch(r"[A-Za-z]+@[0-9]+", step["task"]), step["task"]


def test_scripts_run_strict_and_carry_no_macros(churn: dict) -> None:
    for _, step in all_jobs_steps(churn):
        if "bash" in step:
            assert step["bash"].startswith(PREAMBLE)
            assert "set -x" not in step["bash"]
            assert not AZURE_MACRO.search(step["bash"]), step["bash"]
            assert "${{" not in step["bash"] and "$[" not in step["bash"]


def test_secrets_reach_scripts_only_through_env(churn: dict, churn_plan: Plan) -> None:
    assert churn_plan.secrets == ("SONAR_TOKEN",)
    mapped = []
    for job, step in all_jobs_steps(churn):
        if "bash" not in step:
            continue
        assert "SONAR_TOKEN)" not in step["bash"]
        if "SONAR_TOKEN" in step.get("env", {}):
            assert step["env"]["SONAR_TOKEN"] == "$(SONAR_TOKEN)"
            mapped.append(job["job"])
    assert set(mapped) == {"sonar"}
    assert "SONAR_TOKEN" not in churn.get("variables", {})


def test_render_is_deterministic(churn_plan: Plan) -> None:
    assert BACKEND.render(churn_plan) == BACKEND.render(churn_plan)


def test_descriptor_text_survives_escaping() -> None:
    title = "Smoke: it's \"quoted\" # not a comment"
    run = "echo 'a: b' # c\nprintf '%s\\n' \"$GREETING\"\n  indented line"
    plan = plan_from_yaml(f"""
        project: {{name: demo}}
        targets: [azure]
        jobs:
          - name: smoke
            stage: test
            title: {yaml.safe_dump(title).strip()}
            run: {yaml.safe_dump(run, default_style='"').strip()}
            env: {{GREETING: "yes: no # 'x' \\"y\\"", EMPTY: "", NUMBER: "007"}}
    """)
    job = jobs(render(plan))["smoke"]
    assert job["displayName"] == title
    [script] = [step for step in bash_steps(job) if step["displayName"] == title]
    assert script["bash"] == PREAMBLE + run + "\n"
    assert script["env"] == {"EMPTY": "", "GREETING": "yes: no # 'x' \"y\"", "NUMBER": "007"}


def test_pool_from_settings() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        tests: {unit: tests}
        settings: {azure: {pool: build-agents}}
    """)
    assert render(plan)["pool"] == {"name": "build-agents"}


def test_checklist_names_everything_configured_outside_the_file(churn_plan: Plan) -> None:
    items = BACKEND.checklist(churn_plan)
    names = {(item.kind, item.name) for item in items}
    assert ("secret", "SONAR_TOKEN") in names
    assert {("variable", name) for name in ("MLFLOW_TRACKING_URI", "REGISTRY", "SONAR_HOST_URL")} <= names
    assert ("schedule", "0 3 * * 1") in names
    assert ("other", "Docker for build") in names
    assert any("Build validation" in item.detail for item in items)


# ---------------------------------------------------------------------------- external schema


def _check_jsonschema() -> str | None:
    candidate = Path(sys.executable).parent / "check-jsonschema"
    return str(candidate) if candidate.exists() else shutil.which("check-jsonschema")


@pytest.mark.parametrize("example", ["churn_plan", "minimal_plan"])
def test_file_validates_against_the_vendored_azure_schema(example: str, request, tmp_path: Path) -> None:
    executable = _check_jsonschema()
    if executable is None:
        pytest.skip("check-jsonschema is not installed")
    rendered = render_file(request.getfixturevalue(example), "azure")
    target = tmp_path / rendered.path
    target.write_text(rendered.text, encoding="utf-8")
    result = subprocess.run([executable, "--regex-variant", "nonunicode", "--builtin-schema",
                             "vendor.azure-pipelines", str(target)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_a_job_named_deploy_gets_a_name_azure_accepts() -> None:
    plan = plan_from_yaml("""
        project: {name: demo}
        targets: [azure]
        environments:
          prod: {}
        jobs:
          - {name: deploy, stage: prod, run: ./deploy.sh}
    """)
    job = jobs(render(plan))["deploy_job"]
    assert job["deployment"] == "deploy_job" and job["environment"] == "prod"
