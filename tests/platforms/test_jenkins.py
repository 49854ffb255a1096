"""The Jenkins backend: the generated Jenkinsfile is parsed with tree-sitter-groovy and the
tests assert its declarative structure (stages, layers, conditions, bindings, decoded
strings), never text snippets."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import plan_from_yaml
from test_hostile import HOSTILE as HOSTILE_VALUES  # the project's shared hostile strings
from test_hostile import hostile_descriptor
from pipegen.descriptor.loader import parse_descriptor
from pipegen.platforms import get_backend
from pipegen.platforms.jenkins.reader import post_jobs
from pipegen.plan import OUTPUTS_FILE, EnvKind, Plan, build_plan
from pipegen.generate.render import render_file

# tree-sitter-groovy reads the Jenkinsfile back; it belongs in the `test` extra.
pytest.importorskip("tree_sitter_groovy", reason="tree-sitter-groovy is not installed (pip install '.[test]')")
try:
    from . import jenkins_structure as js  # tests/platforms is a package
except ImportError:
    import jenkins_structure as js  # type: ignore[no-redef]


def read(plan: Plan) -> js.Pipeline:
    return js.read_pipeline(render_file(plan, "jenkins").text)


@pytest.fixture(name="churn", scope="module")
def fixture_churn(churn_plan) -> js.Pipeline:
    return read(churn_plan)


@pytest.fixture(name="minimal", scope="module")
def fixture_minimal(minimal_plan) -> js.Pipeline:
    return read(minimal_plan)


def layer_index(pipeline: js.Pipeline) -> dict[str, tuple[int, int, int, int]]:
    """job id -> (top-level stage, layer inside it, branch inside the layer, place in the branch's chain)."""
    return {job: (top, layer, branch, place) for top, stage in enumerate(pipeline.stages)
            for layer, chains in enumerate(stage.chains()) for branch, chain in enumerate(chains)
            for place, job in enumerate(chain)}


def runs_before(where: dict[str, tuple[int, int, int, int]], first: str, then: str) -> bool:
    """Whether `then` starts only after `first` is done: an earlier layer, or earlier in the same chain."""
    one, other = where[first], where[then]
    return one[:2] < other[:2] or (one[:3] == other[:3] and one[3] < other[3])


def conditions(stage: js.Stage) -> dict[str, object]:
    """A leaf or top-level stage's `when` as a dict of condition name -> arguments."""
    found: dict[str, object] = {}
    for item in stage.when:
        if item.name == "not":
            (inner,) = item.body
            found["not " + inner.name] = inner.args
        else:
            found[item.name] = item.args or item.body
    return found


def command_flags(script: str, command: str) -> dict[str, str]:
    """The --flag value pairs of the line that starts with `command` (continuations joined)."""
    joined = script.replace("\\\n", " ")
    (line,) = [line for line in joined.splitlines() if line.startswith(command)]
    words = shlex.split(line)[len(command.split()):]
    flags: dict[str, str] = {}
    for index, word in enumerate(words):
        if word.startswith("--"):
            following = words[index + 1] if index + 1 < len(words) else ""
            flags[word] = "" if following.startswith("--") else following
    return flags


def job_stage(pipeline: js.Pipeline, job_id: str) -> js.Stage:
    """The leaf stage running a plan job: a declarative stage, or for a job that runs after every
    stage (the gate report) the scripted stage of the pipeline's `post { always }`."""
    posted = {stage.name: stage for stage, _ in post_jobs(pipeline)}
    return posted[job_id] if job_id in posted else pipeline.stage(job_id)


def scripts(stage: js.Stage) -> list[str]:
    return [call.script for call in js.sh_calls(stage)]


def plan_script(stage: js.Stage, title: str) -> js.ShCall:
    (call,) = [call for call in js.sh_calls(stage) if call.label == title]
    return call


# ---------------------------------------------------------------------------- stages and layers


def test_backend_identity():
    backend = get_backend("jenkins")
    assert (backend.name, backend.path, backend.comment) == ("jenkins", "Jenkinsfile", "//")


def test_top_level_stages(churn, minimal):
    assert [stage.name for stage in churn.stages] == ["TEST", "QA", "PROD"]
    assert [stage.name for stage in minimal.stages] == ["TEST"]
    assert [leaf.name for leaf in minimal.stages[0].leaves()] == ["pipegen-check", "unit"]


def test_no_executor_is_held_by_the_pipeline_or_the_approval(churn):
    assert churn.agent.args[0].path == "none"
    for stage in churn.all_stages():
        if stage.steps:
            assert stage.agent_label, f"{stage.name} runs steps without an agent"
        else:
            assert stage.agent is None, f"{stage.name} holds an agent around its nested stages"


def test_test_stage_chains(churn):
    # functional needs unit and integration, and integration needs unit: waiting for integration
    # is enough, so the test levels are one chain beside pipegen-check and lint, not layers.
    test_levels = ["unit", "integration", "functional", "sonar"]
    assert churn.stage("TEST").chains() == [[["pipegen-check"], ["lint"], test_levels]]
    group = churn.stage("TEST").stages[0]
    assert [branch.name for branch in group.parallel] == ["pipegen-check", "lint",
                                                          "TEST: unit -> integration -> functional -> sonar"]
    where = layer_index(churn)
    assert not runs_before(where, "lint", "integration")  # no test level waits for the linters


def test_qa_and_prod_chains(churn):
    # model-gate reads DATA_DRIFT from drift and MODEL_VERSION from train, and train follows
    # drift: the model side is one chain, beside the image side
    assert churn.stage("QA").chains() == [[["drift", "train", "model-gate"], ["build", "deploy-qa", "smoke-qa"]]]
    assert churn.stage("PROD").chains() == [[["promote-model"], ["deploy-prod"]]]
    where = layer_index(churn)
    assert not runs_before(where, "train", "deploy-qa")  # deploying the image does not wait for training
    assert not runs_before(where, "build", "train") and not runs_before(where, "drift", "deploy-qa")


@pytest.mark.parametrize("fixture", ["churn_plan", "minimal_plan"])
def test_every_need_runs_first(fixture, request):
    plan = request.getfixturevalue(fixture)
    pipeline = read(plan)
    where = layer_index(pipeline)
    # a job that runs after every other (the gate report) is the post section's, outside the layers
    assert set(where) == {job.id for job in plan.jobs if not job.always}
    assert [stage.name for stage, _ in post_jobs(pipeline)] == [job.id for job in plan.jobs if job.always]
    for job in plan.jobs:
        for need in job.needs:
            assert runs_before(where, need, job.id), f"{job.id} may start before {need}"


def test_stage_names_are_unique(churn):
    names = [stage.name for stage in churn.all_stages()]
    assert len(names) == len(set(names))


# ---------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("name,producer,consumers", [
    ("MODEL_VERSION", "train", ["model-gate", "promote-model"]),
    ("IMAGE_REF", "build", ["deploy-qa", "deploy-prod"]),
])
def test_outputs_are_read_back_into_env_and_used_later(churn, churn_plan, name, producer, consumers):
    producing = churn.stage(producer)
    published = js.env_assignments(producing)
    assert published.pop(f"PIPEGEN_{producer.upper()}_PASSED", "true") == "true"  # the model's chain records success
    assert published == {name: js.Call("pipegenOutput", [name])}
    # The read-back comes after the step that publishes the value.
    steps = producing.steps
    if len(steps) == 1 and steps[0].name == "catchError":  # the model's chain: failures caught
        steps = steps[0].body
    step_names = [item.name for item in steps if isinstance(item, js.Call)]
    assert step_names.index("script") > max(i for i, step in enumerate(step_names) if step == "sh")
    job = churn_plan.job(producer)
    output_step = next(step for step in job.steps if step.id == job.output_step)
    assert plan_script(producing, output_step.title).script.endswith(output_step.run)
    where = layer_index(churn)
    for consumer in consumers:
        stage = churn.stage(consumer)
        assert runs_before(where, producer, consumer)
        assert any(re.search(rf"\${{?{name}\b", script) for script in scripts(stage))
        assert set(js.env_assignments(stage)) <= {f"PIPEGEN_{consumer.upper().replace('-', '_')}_PASSED"}
    assert where[producer][0] == 1 and where[consumers[-1]][0] == 2  # produced in QA, consumed in PROD


def test_output_helper_reads_the_outputs_file(churn, minimal):
    (helper,) = [method for method in churn.methods if method.name == "pipegenOutput"]
    assert helper.parameters == ["String name"]
    (read_file,) = [call for call in helper.invocations if call.name == "readFile"]
    assert read_file.kwargs["file"] == OUTPUTS_FILE
    assert minimal.methods == []
    # the gate report unstashes what each gate stage stashed; a stage that never ran stashed nothing
    (unstash,) = [method for method in churn.methods if method.name == "unstashReports"]
    assert [call.name for call in unstash.invocations] == ["unstash", "echo"]


def test_env_is_never_preset_in_environment_directives(churn):
    assert "environment" not in churn.directives
    assert all("environment" not in stage.directives for stage in churn.all_stages())


# ---------------------------------------------------------------------------- approval and conditions


def test_prod_waits_for_approval_on_main_only(churn, churn_plan):
    prod = churn.stage("PROD")
    assert prod.input == {"message": "Deploy PROD?", "ok": "Deploy", "submitter": "release-managers"}
    when = conditions(prod)
    assert when["beforeInput"] == [True] and when["branch"] == ["main"] and "not changeRequest" in when
    assert prod.directives.index("when") < prod.directives.index("input")
    # The timeout wraps the approval wait and the deployments after it.
    approval = churn_plan.job("deploy-prod").approval
    assert prod.timeout_minutes == approval.timeout_minutes + 30
    for leaf in prod.leaves():
        when = conditions(leaf)
        # promote-model also waits for the model gate's success (its failure is caught, so the
        # image's deployment goes on).
        when.pop("expression", None)
        checks = [inner.text for item in leaf.when if isinstance(item, js.Call) and item.name == "expression"
                  for inner in item.body]
        wanted = [f"env.PIPEGEN_{job}_PASSED == 'true'" for job in ("DRIFT", "TRAIN", "MODEL_GATE")]
        assert checks == (wanted if leaf.name == "promote-model" else [])
        assert when == {"beforeAgent": [True], "branch": ["main"], "not changeRequest": []}


def test_pull_requests_skip_build_and_deployments(churn, churn_plan):
    for job in churn_plan.jobs:
        if job.always:  # the gate report, in `post`: `if (env.CHANGE_ID)`, pull requests only
            ((_, guards),) = [found for found in post_jobs(churn) if found[0].name == job.id]
            assert job.run_when.value == "pull-request" and guards == [js.Ref("env.CHANGE_ID")]
            continue
        when = conditions(churn.stage(job.id))
        if job.run_when.value == "always":
            assert not when, job.id
        else:
            assert when["beforeAgent"] == [True] and "not changeRequest" in when, job.id
    assert conditions(churn.stage("build")) == {"beforeAgent": [True], "not changeRequest": []}


def test_approval_without_a_branch_runs_on_the_first_trigger_branch_only():
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [jenkins]
        tests: {unit: tests}
        environments:
          prod:
            deploy: ./deploy.sh
            approval: {approvers: [alice, ops-team], timeout_minutes: 60}
    """)
    prod = read(plan).stage("PROD")
    assert prod.input["submitter"] == "alice,ops-team"
    assert conditions(prod) == {"beforeInput": [True], "branch": ["main"], "not changeRequest": []}
    assert prod.timeout_minutes == 60 + 30


def test_prod_without_approval_has_no_input():
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [jenkins]
        environments:
          prod: {deploy: ./deploy.sh, branch: release, approval: false}
    """)
    prod = read(plan).stage("PROD")
    assert prod.input is None and prod.when == []
    assert conditions(prod.leaves()[0]) == {"beforeAgent": [True], "branch": ["release"], "not changeRequest": []}


# ---------------------------------------------------------------------------- triggers


def test_cron_runs_on_the_trigger_branches_only(churn, churn_plan, minimal):
    (cron,) = churn.triggers
    assert cron.name == "cron"
    choice = cron.args[0]
    assert isinstance(choice, js.Ternary)
    branches = list(churn_plan.triggers.branches)
    assert choice.condition == js.Call("contains", [js.Ref("env.BRANCH_NAME")], target=branches)
    # the descriptor's cron is UTC; Jenkins reads a spec in the controller's zone unless told
    assert (choice.then, choice.otherwise) == ("TZ=UTC\n" + churn_plan.triggers.schedule, "")
    assert "triggers" not in minimal.directives


def test_watched_paths_gate_pushes_but_not_prs_schedules_manual_or_first_builds(churn, churn_plan, minimal):
    for stage in churn.stages:
        (any_of,) = stage.when_call("anyOf")
        calls = any_of.body
        patterns = [call.kwargs["pattern"] for call in calls if call.name == "changeset"]
        assert patterns == list(churn_plan.triggers.watched_paths)
        assert all(call.kwargs["caseSensitive"] is True for call in calls if call.name == "changeset")
        assert js.Call("changeRequest") in calls
        causes = [call.args[0] if call.args else call.kwargs["cause"] for call in calls if call.name == "triggeredBy"]
        assert causes == ["TimerTrigger", "UserIdCause"]
        (first_build,) = [call for call in calls if call.name == "expression"]
        assert first_build.body == [js.Expr("binary_expression", "currentBuild.previousBuild == null")]
    assert minimal.stages[0].when == []


# ---------------------------------------------------------------------------- steps


def test_gate_commands_carry_the_descriptor_thresholds(churn):
    unit = "\n".join(scripts(churn.stage("functional")))
    coverage = command_flags(unit, "pipegen gate coverage")
    assert (coverage["--min"], coverage["--diff-min"], coverage["--compare-branch"]) == ("80", "90", "origin/main")
    lint = command_flags("\n".join(scripts(churn.stage("lint"))), "pipegen gate lint")
    assert (lint["--min-score"], lint["--max-issues"]) == ("8.5", "0")
    model = command_flags("\n".join(scripts(churn.stage("model-gate"))), "pipegen gate model")
    assert model["--mode"] == "auto" and model["--candidate-version"] == "$MODEL_VERSION"
    sonar = command_flags("\n".join(scripts(churn.stage("sonar"))), "pipegen gate sonar")
    assert sonar["--timeout"] == "300"


@pytest.mark.parametrize("fixture", ["churn_plan", "minimal_plan"])
def test_every_plan_step_runs_exactly_under_set_eu(fixture, request):
    plan = request.getfixturevalue(fixture)
    pipeline = read(plan)
    for job in plan.jobs:
        stage = job_stage(pipeline, job.id)
        for call in js.sh_calls(stage):
            assert call.script.startswith("set -eu\n")
        for step in job.steps:
            activate = ". .venv/bin/activate\n" if job.python else ""
            assert plan_script(stage, step.title).script == f"set -eu\n{activate}{step.run}"


def test_install_step_uses_a_venv_and_the_plan_requirements(churn, churn_plan):
    for job in churn_plan.jobs:
        calls = js.sh_calls(job_stage(churn, job.id))
        installs = [call for call in calls if f"python{churn_plan.python} -m venv --clear .venv" in call.script]
        if not job.python:
            assert installs == []
            continue
        (install,) = installs
        assert install is calls[0] and not install.credentials
        lines = install.script.replace("\\\n", " ").splitlines()
        start = lines.index(f"python{churn_plan.python} -m venv --clear .venv")
        assert lines[start + 1] == ". .venv/bin/activate"
        expected = "\n".join(job.install_commands()).replace("\\\n", " ").splitlines()
        if expected:  # uv's and pip's caches outlive the venv, beside the workspace unless the agent sets them
            assert lines[start + 2] == 'export PIP_CACHE_DIR="${PIP_CACHE_DIR:-${WORKSPACE:-$PWD}@pip-cache}"'
            assert lines[start + 3] == 'export UV_CACHE_DIR="${UV_CACHE_DIR:-${WORKSPACE:-$PWD}@uv-cache}"'
            assert lines[start + 4:] == expected
        else:
            assert lines[start + 2:] == []


def test_every_job_and_the_run_have_timeouts(churn, churn_plan):
    for job in churn_plan.jobs:
        assert job_stage(churn, job.id).timeout_minutes == job.timeout_minutes
    # Per layer the slowest chain, plus the approval wait: TEST one layer, its slowest chain
    # unit -> integration -> functional -> sonar 30+30+30+20; QA one layer, drift -> train ->
    # model-gate 15+60+10 beside build -> deploy-qa -> smoke-qa 30+30+30; PROD 1440+30.
    assert churn.timeout_minutes == 110 + 90 + 1470
    assert [option.name for option in churn.options][:2] == ["timestamps", "disableConcurrentBuilds"]
    # superseded builds are aborted, but never on main: a build waiting at the PROD input or
    # deploying is not cut off by the next push
    assert churn.options[1].kwargs == {"abortPrevious": js.Expr("binary_expression", "env.BRANCH_NAME != 'main'")}


def test_secrets_only_through_credentials_bindings(churn, churn_plan):
    for job in churn_plan.jobs:
        stage = job_stage(churn, job.id)
        secrets = {name: value.value for name, value in job.env if value.kind is EnvKind.SECRET}
        reads = {step.title: step.reads for step in job.steps}
        for call in js.sh_calls(stage):
            if call.label in reads:  # only the steps that read a secret get it
                assert call.credentials == {name: churn_plan.settings.jenkins.credentials_id(secret)
                                            for name, secret in secrets.items()
                                            if reads[call.label] is None or name in reads[call.label]}
            else:
                assert call.credentials == {}, f"{job.id}: {call.label} sees secrets it does not need"
    assert plan_script(churn.stage("sonar"), "Sonar gate").credentials == {"SONAR_TOKEN": "sonar-token"}
    assert plan_script(job_stage(churn, "report-comment"), "Post or update the report comment").credentials == {
        "PIPEGEN_REPORT_TOKEN": "review-token"}


def test_variables_and_inputs_are_checked_before_use(churn):
    (check,) = [call for call in js.sh_calls(churn.stage("promote-model")) if call.label.startswith("Check")]
    assert re.findall(r'^: "\$\{(\w+):\?', check.script, re.MULTILINE) == ["MLFLOW_TRACKING_URI", "MODEL_VERSION"]


def test_reports_are_published_even_on_failure(churn, churn_plan):
    for job in churn_plan.jobs:
        stage = job_stage(churn, job.id)
        if not (job.junit or job.artifacts):
            assert stage.post == {}
            continue
        kept = {call.name: call.kwargs for call in stage.post["always"]}
        # a gate decides by its exit code: its JUnit failures (dry-run) never make the build UNSTABLE
        if job.junit:
            assert kept["junit"] == {"testResults": ", ".join(job.junit), "allowEmptyResults": True,
                                     "skipMarkingBuildUnstable": True}
        assert kept["archiveArtifacts"]["allowEmptyArchive"] is True
    last_kept = {call.name: call.kwargs for call in churn.stage("functional").post["always"]}
    assert last_kept["archiveArtifacts"]["artifacts"] == "pipegen-reports/**, coverage.xml"


def test_coverage_is_handed_over_with_stash(churn):
    unit_steps = [item for item in churn.stage("unit").steps if isinstance(item, js.Call)]
    assert unit_steps[-1] == js.Call("stash", kwargs={"name": "unit-handover",
                                                      "includes": "pipegen-coverage/unit.coverage"})
    last_steps = [item for item in churn.stage("functional").steps if isinstance(item, js.Call)]
    assert last_steps[-1] == js.Call("stash", kwargs={"name": "functional-handover", "includes": "coverage.xml"})
    sonar_steps = [item for item in churn.stage("sonar").steps if isinstance(item, js.Call)]
    assert sonar_steps[0] == js.Call("unstash", kwargs={"name": "functional-handover"})


def test_docker_job_asks_for_a_docker_agent(churn):
    assert churn.stage("build").agent_label == "docker"
    assert {leaf.agent_label for leaf in churn.all_stages() if leaf.steps and leaf.name != "build"} == {"any"}


# ---------------------------------------------------------------------------- settings and escaping

HOSTILE = """
    project: {name: p}
    targets: [jenkins]
    settings:
      jenkins:
        agent: linux || mac
        credentials: {API_TOKEN: team.api-token}
    image: {name: app}
    environments:
      qa: {deploy: ./deploy.sh}
    jobs:
      - name: odd
        stage: test
        title: "it's a \\\\ \\"title\\" $HOME"
        run: |
          echo '''$NOT_GROOVY''' "${HOME}" \\
            'it'"'"'s' \\\\ done
          printf '%s\\n' "$API_TOKEN" | wc -c
        env: {GREETING: "it's \\\\ $HOME \\"q\\"", EMPTY: ""}
        secrets: [API_TOKEN]
"""


def test_settings_and_hostile_strings_read_back_exactly():
    plan = plan_from_yaml(HOSTILE)
    pipeline = read(plan)
    job = plan.job("odd")
    stage = pipeline.stage("odd")
    assert stage.agent_label == "linux || mac"
    assert pipeline.stage("build").agent_label == "(linux || mac) && docker"
    (step,) = job.steps
    call = plan_script(stage, step.title)
    assert call.script == f"set -eu\n. .venv/bin/activate\n{step.run}"
    assert call.credentials == {"API_TOKEN": "team.api-token"}
    assert call.env == ["EMPTY=", "GREETING=it's \\ $HOME \"q\""]


def test_render_is_deterministic(churn_plan):
    assert render_file(churn_plan, "jenkins").text == render_file(churn_plan, "jenkins").text
    assert render_file(plan_from_yaml(HOSTILE), "jenkins").text == render_file(plan_from_yaml(HOSTILE), "jenkins").text


# ---------------------------------------------------------------------------- checklist


def test_checklist_names_everything_configured_outside_the_file(churn_plan, minimal_plan):
    items = get_backend("jenkins").checklist(churn_plan)
    by_kind: dict[str, list[str]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item.name)
    assert by_kind["credentials"] == ["sonar-token", "review-token"]  # review-token: the gate report
    assert by_kind["variable"] == ["MLFLOW_TRACKING_URI", "REGISTRY", "SONAR_HOST_URL"]
    assert by_kind["environment"] == ["qa", "prod"]
    assert by_kind["schedule"] == ["0 3 * * 1"]
    assert {"multibranch job", "agents", "docker agents", "plugins", "full history", "watched paths"} <= set(
        by_kind["other"])
    details = {item.name: item.detail for item in items}
    assert "origin/main" in details["full history"] and "release-managers" in details["prod"]
    prod = next(item for item in items if item.kind == "environment" and item.name == "prod")
    assert "release-managers" in prod.detail
    minimal_names = {item.name for item in get_backend("jenkins").checklist(minimal_plan)}
    assert "docker agents" not in minimal_names and "schedule" not in minimal_names


def test_checklist_and_file_agree_the_schedule_is_in_utc(churn, churn_plan):
    (cron,) = churn.triggers
    zone, spec = cron.args[0].then.split("\n")
    (item,) = [item for item in get_backend("jenkins").checklist(churn_plan) if item.kind == "schedule"]
    assert (zone, spec, item.name) == ("TZ=UTC", churn_plan.triggers.schedule, churn_plan.triggers.schedule)
    assert f"'{spec}' in UTC" in item.detail


def test_comments_stay_on_one_line():
    from pipegen.platforms.jenkins.backend import one_line  # pylint: disable=import-outside-toplevel

    assert one_line("Custom job from a\nb.yaml.\r\n") == "Custom job from a b.yaml."


def test_variables_and_secrets_under_other_names_are_mapped():
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [jenkins]
        tests: {unit: tests}
        quality:
          sonar: {project_key: p, host_url_var: TEAM_SONAR_URL, token_secret: TEAM_SONAR_TOKEN}
        model:
          name: m
          train: python -m train
          tracking_uri_var: TEAM_MLFLOW_URI
          metrics: {auc: {greater_is_better: true, threshold: 0.5}}
    """)
    pipeline = read(plan)
    train = pipeline.stage("train")
    (step,) = [call for call in js.sh_calls(train) if call.label == "Train and register"]
    assert step.env == [js.Concat(["MLFLOW_TRACKING_URI=", js.Ref("env.TEAM_MLFLOW_URI")])]
    (check,) = [call for call in js.sh_calls(train) if call.label.startswith("Check")]
    assert re.findall(r'^: "\$\{(\w+):\?', check.script, re.MULTILINE) == ["TEAM_MLFLOW_URI"]
    sonar = pipeline.stage("sonar")
    gate = plan_script(sonar, "Sonar gate")
    expected_env = {name: value.value for name, value in plan.job("sonar").env if value.kind is EnvKind.VARIABLE}
    assert gate.credentials == {"SONAR_TOKEN": "team-sonar-token"}
    assert gate.env == [js.Concat([f"{name}=", js.Ref(f"env.{source}")]) for name, source in expected_env.items()
                        if name != source]
    checklist = {item.name: item.detail for item in get_backend("jenkins").checklist(plan)}
    assert "sonar" in checklist["team-sonar-token"] and "train" in checklist["TEAM_MLFLOW_URI"]


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_hostile_values_come_back_exactly(name):
    value = HOSTILE_VALUES[name]
    plan = build_plan(parse_descriptor(hostile_descriptor("jenkins", value), Path("pipegen.yaml")))
    pipeline = read(plan)  # parses without errors; no interpolated GString anywhere
    (step,) = plan.job("custom").steps
    call = plan_script(pipeline.stage("custom"), value)
    assert call.script == f"set -eu\n. .venv/bin/activate\n{step.run}"
    assert value in call.script.split("\n")
    assert call.env == [f"LITERAL={value}"]
    if "$" not in value and "`" not in value:
        unit = "\n".join(scripts(pipeline.stage("unit")))
        assert any(f"tests/{value}" in shlex.split(line) for line in unit.splitlines() if " -m pytest " in line)
        (any_of,) = pipeline.stages[0].when_call("anyOf")
        assert f"data/{value}/**" in [call.kwargs.get("pattern") for call in any_of.body]


def test_cron_with_branch_globs_matches_like_jenkins_branch_condition():
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [jenkins]
        tests: {unit: tests}
        triggers: {branches: [main, release/*, hotfix/**], schedule: "0 2 * * *"}
    """)
    (cron,) = read(plan).triggers
    choice = cron.args[0]
    assert (choice.then, choice.otherwise) == ("TZ=UTC\n0 2 * * *", "")
    matches = choice.condition
    assert matches.name == "matches"
    assert matches.target == js.Call("valueOf", [js.Ref("env.BRANCH_NAME")], target=js.Ref("String"))
    (regex,) = matches.args
    for branch, expected in [("main", True), ("release/1.0", True), ("hotfix/a/b", True), ("mainline", False),
                             ("release/1/2", False), ("null", False), ("feature/main", False)]:
        assert bool(re.fullmatch(regex, branch)) is expected, branch
